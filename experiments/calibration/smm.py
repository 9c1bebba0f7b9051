"""Simulated method of moments: estimate behavioural parameters by matching the model's moments to observed targets.

The procedure (docs/validation.md) is four ordinary sweeps in one calibration folder, so every run parallelises,
is recorded in a ledger and resumes after a crash:

1. ``explore``: a Latin hypercube over the prior box of the parameters, ``replications`` seeds per point;
2. ``refine``: a second Latin hypercube in a box shrunk around the best point of the first;
3. a quadratic surrogate of the objective fitted to the best points of both, minimised inside the refinement box;
   its curvature gives approximate standard errors;
4. ``confirm_surrogate`` and ``confirm_best``: the surrogate's minimum and the best evaluated point, each run with
   ``confirm_replications`` fresh seeds; the lower objective wins (fresh seeds avoid picking the luckiest draw).

The objective is ``J = Σ_i (log m̄_i − log o_i)² / (σ_i² + s_i² / R)`` over the fit targets: ``m̄_i`` the mean of the
moment over ``R`` seeds, ``o_i`` the observation, ``σ_i`` its relative measurement error (targets.csv) and ``s_i`` the
seed-to-seed spread of the log moment. Log errors make a 5% miss on Shenzhen's and on Chengdu's population count the
same. Each stage's design depends only on the spec and the previous stages' results, so re-running the same spec on
the same folder resumes rather than repeats.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.calibration.spec import CalibrationSpec
from experiments.calibration.targets import comparison_table, load_targets, log_floor, moments_of_runs
from experiments.sampling import build_design
from experiments.spec import Range, behaviour_path_value, spec_from_dict
from experiments.sweep import run_sweep
from policies.errors import InputError
from policies.yamlio import dump_yaml

__all__ = ["CalibrationResult", "CalibrationFailed", "calibrate", "objective", "install_calibration",
           "CALIBRATED_FILE"]

log = logging.getLogger(__name__)
CALIBRATED_FILE = Path(__file__).resolve().parent.parent.parent / "sim" / "data" / "calibrated.yaml"
Progress = Callable[[str, dict[str, int], float], None]


class CalibrationFailed(RuntimeError):
    """A stage ended with failed runs: the calibration cannot go on without their moments."""


@dataclass
class CalibrationResult:
    """The estimate, its fit and everything that reproduces it."""

    values: dict[str, float]
    sd: dict[str, float | None]
    near_best: dict[str, tuple[float, float]]
    objective: float
    fit: pd.DataFrame
    evaluations: pd.DataFrame
    folder: Path
    provenance: dict[str, Any] = field(default_factory=dict)


def objective(moments: pd.DataFrame, targets: pd.DataFrame, discrepancy: float = 0.0) -> pd.DataFrame:
    """Per scenario: the SMM objective over ``targets`` (the fit targets) and the number of runs it averages.

    ``discrepancy`` is a relative model error added in quadrature to every target's measurement error: without
    it, the targets measured to 1% (registered counts) would outweigh everything else even where no parameter
    value can reach them, and the fit would trade real information for an unreachable decimal.
    """
    ids = list(targets["target_id"])
    obs = np.log(targets["observed"].to_numpy(float))
    sigma2 = targets["sigma_rel"].to_numpy(float) ** 2 + discrepancy ** 2
    at_least = (targets["comparison"] == "at_least").to_numpy()
    floor = log_floor(targets["measure"]) if "measure" in targets.columns else np.ones(len(ids))
    rows = []
    for scenario, frame in moments.groupby("scenario", sort=False):
        logs = np.log(np.maximum(frame[ids].to_numpy(float), floor))
        n = len(frame)
        mean = logs.mean(axis=0)
        var = logs.var(axis=0, ddof=1) / n if n > 1 else np.zeros(len(ids))
        err = mean - obs
        err = np.where(at_least, np.minimum(err, 0.0), err)
        value = float(np.sum(err ** 2 / (sigma2 + var)))
        rows.append({"scenario": scenario, "objective": value if np.all(np.isfinite(logs)) else np.inf, "runs": n})
    return pd.DataFrame(rows)


def _stage(spec: CalibrationSpec, folder: Path, name: str, doc: dict[str, Any], workers: int | None,
           progress: Progress | None) -> tuple[Any, pd.DataFrame]:
    """Run (or resume) one stage sweep; return its experiment spec and the scenarios' factor values."""
    exp = spec_from_dict(doc, f"{spec.name}:{name}")
    summary = run_sweep(exp, folder / name, workers=workers, summarise=False,
                        progress=None if progress is None else (lambda c, s: progress(name, c, s)))
    if not summary.ok:
        first = summary.failed[0] if summary.failed else ("?", "")
        raise CalibrationFailed(f"stage {name}: {len(summary.failed)} runs failed (first {first[0]}: "
                                f"{(first[1].strip().splitlines() or [''])[-1]}); see hukou status {folder / name}")
    design = build_design(exp)
    values = pd.DataFrame([{"scenario": s.key, **{k.removeprefix("behaviour."): v for k, v in s.values.items()}}
                           for s in design.scenarios])
    return exp, values


def _evaluate(folder: Path, values: pd.DataFrame, targets: pd.DataFrame, fit: pd.DataFrame, discrepancy: float,
              fixed: dict[str, float] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    moments = moments_of_runs(folder, targets)
    scores = objective(moments, fit, discrepancy)
    table = values.merge(scores, on="scenario")
    for k, v in (fixed or {}).items():
        table[k] = v
    return table, moments


def _features(u: np.ndarray) -> np.ndarray:
    d = u.shape[1]
    cols = [np.ones(len(u))] + [u[:, i] for i in range(d)]
    cols += [u[:, i] * u[:, j] for i in range(d) for j in range(i, d)]
    return np.column_stack(cols)


def _surrogate(points: np.ndarray, values: np.ndarray, box: np.ndarray, start: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray | None]:
    """Fit a quadratic to the best points (unit coordinates), minimise it in ``box``; return the minimum and
    the Hessian (None when the fit is not positive definite or there are too few points)."""
    from scipy.optimize import minimize

    d = points.shape[1]
    p = 1 + d + d * (d + 1) // 2
    order = np.argsort(values)
    k = min(len(values), max(p + d + 2, len(values) // 2))
    if k < p + 1:
        return start, None
    best = order[:k]
    coef, *_ = np.linalg.lstsq(_features(points[best]), values[best], rcond=None)
    hess = np.zeros((d, d))
    idx = 1 + d
    for i in range(d):
        for j in range(i, d):
            hess[i, j] += coef[idx] * (2 if i == j else 1)
            if i != j:
                hess[j, i] += coef[idx]
            idx += 1
    result = minimize(lambda x: float((_features(x[None, :]) @ coef)[0]), start, method="L-BFGS-B",
                      bounds=[tuple(b) for b in box])
    positive = bool(np.all(np.linalg.eigvalsh(hess) > 0))
    return np.clip(result.x, box[:, 0], box[:, 1]), hess if positive else None


def _round(value: float, rng: Range) -> float | int:
    """Calibrated values rounded to a precision far below their uncertainty (4 significant digits)."""
    if rng.integer:
        return int(round(value))
    return float(f"{value:.4g}")


def _pinned(spec: CalibrationSpec) -> dict[str, Any]:
    """Previously calibrated parameters this spec does not estimate, pinned to their behaviour.yaml priors,
    so that a calibration never depends on whatever calibration happens to be installed."""
    from sim.params import calibrated_parameters, default_behaviour

    prior = default_behaviour(calibrated=False).model_dump()
    return {path: behaviour_path_value(prior, path) for path in calibrated_parameters()
            if path not in spec.parameters and path not in spec.constants}


def calibrate(spec: CalibrationSpec, out: str | Path, *, targets: pd.DataFrame | None = None,
              workers: int | None = None, progress: Progress | None = None) -> CalibrationResult:
    """Estimate ``spec.parameters`` by SMM in folder ``out`` (created, or resumed when it holds the same spec).

    Args:
        spec: the calibration spec.
        out: the calibration folder (one sub-folder per stage sweep, plus the results).
        targets: a targets table instead of ``spec.targets_file`` (tests use a synthetic truth).
        workers: local worker processes per stage.
        progress: called with the stage name, the ledger counts and the elapsed seconds.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    marker = out / "calibration_spec.json"
    canonical = spec.model_dump(mode="json")
    if marker.is_file() and json.loads(marker.read_text("utf-8")) != canonical:
        raise InputError("this folder holds a calibration of a different spec; choose another --out", file=out)
    marker.write_text(json.dumps(canonical, indent=2, ensure_ascii=False), "utf-8")
    targets = load_targets(spec.targets_file) if targets is None else targets.reset_index(drop=True)
    fit = targets[targets["target_kind"] == spec.fit_kind].reset_index(drop=True)
    if fit.empty:
        raise InputError(f"no targets of kind {spec.fit_kind!r} to fit", file=spec.targets_file or "targets")
    _check_reached(fit, targets, spec)
    names = list(spec.parameters)
    prior = np.array([[r.low, r.high] for r in spec.parameters.values()], dtype=float)
    width = prior[:, 1] - prior[:, 0]
    pinned = _pinned(spec)

    _, values = _stage(spec, out, "explore",
                       spec.sweep_spec("explore", spec.parameters, spec.explore.n, pinned), workers, progress)
    explore, _ = _evaluate(out / "explore", values, targets, fit, spec.model_discrepancy)
    best = explore.loc[explore["objective"].idxmin(), names].to_numpy(float)

    half = spec.refine.shrink * width / 2
    box = np.column_stack([np.maximum(prior[:, 0], best - half), np.minimum(prior[:, 1], best + half)])
    refine_ranges = {n: Range(low=float(lo), high=float(hi), integer=spec.parameters[n].integer)
                     for n, (lo, hi) in zip(names, box, strict=True)}
    _, values = _stage(spec, out, "refine",
                       spec.sweep_spec("refine", refine_ranges, spec.refine.n, pinned, root_seed=spec.root_seed + 1),
                       workers, progress)
    refine, _ = _evaluate(out / "refine", values, targets, fit, spec.model_discrepancy)
    evaluations = pd.concat([explore.assign(stage="explore"), refine.assign(stage="refine")], ignore_index=True)
    finite = evaluations[np.isfinite(evaluations["objective"])]
    units = (finite[names].to_numpy(float) - prior[:, 0]) / width
    best_row = finite.loc[finite["objective"].idxmin()]
    best_point = best_row[names].to_numpy(float)
    unit_box = (box - prior[:, [0]]) / width[:, None]
    u_opt, hess = _surrogate(units, finite["objective"].to_numpy(float), unit_box, (best_point - prior[:, 0]) / width)
    surrogate_point = prior[:, 0] + u_opt * width

    candidates = {"surrogate": surrogate_point, "best": best_point}
    confirmed = {}
    for label, point in candidates.items():
        fixed = {n: _round(float(x), spec.parameters[n]) for n, x in zip(names, point, strict=True)}
        _, values = _stage(spec, out, f"confirm_{label}",
                           spec.sweep_spec(f"confirm_{label}", None, None, {**pinned, **fixed},
                                           replications=spec.confirm_replications, root_seed=spec.root_seed + 2),
                           workers, progress)
        table, moments = _evaluate(out / f"confirm_{label}", values, targets, fit,
                                  spec.model_discrepancy, fixed)
        confirmed[label] = (fixed, float(table["objective"].iloc[0]), moments)
        evaluations = pd.concat([evaluations, table.assign(stage=f"confirm_{label}")], ignore_index=True)
    chosen = min(confirmed, key=lambda k: confirmed[k][1])
    fixed, value, moments = confirmed[chosen]

    d = len(names)
    dof = max(len(fit) - d, 1)
    inflation = max(1.0, value / dof)  # a model that cannot fit its targets is less sure than its curvature says
    sd: dict[str, float | None] = dict.fromkeys(names)
    if hess is not None:
        cov = 2.0 * np.linalg.inv(hess) * inflation
        sd = {n: float(np.sqrt(max(cov[i, i], 0.0)) * width[i]) for i, n in enumerate(names)}
    from scipy.stats import chi2

    threshold = float(finite["objective"].min() + chi2.ppf(0.68, d) * inflation)
    near = finite[finite["objective"] <= threshold]
    near_best = {n: (float(near[n].min()), float(near[n].max())) for n in names}
    fit_table = comparison_table(moments, targets)
    fit_table = fit_table[fit_table["simulated_mean"].notna()].reset_index(drop=True)  # targets after spec.end
    provenance = _provenance(spec, fit, value, chosen, inflation, evaluations, threshold)
    result = CalibrationResult(values=fixed, sd=sd, near_best=near_best, objective=value, fit=fit_table,
                               evaluations=evaluations, folder=out, provenance=provenance)
    _write_outputs(result, spec)
    return result


def _check_reached(fit: pd.DataFrame, targets: pd.DataFrame, spec: CalibrationSpec) -> None:
    """Refuse fit targets dated after the spec's last simulated year: their moments would be missing in every run
    and every objective infinite. The error names the targets file and the target's line."""
    late = fit[fit["year"].astype(float) >= spec.end + 1]
    if late.empty:
        return
    row = late.iloc[0]
    line = int(targets.index[targets["target_id"] == row["target_id"]][0]) + 2  # header, then 0-based rows
    raise InputError(f"fit target {row['target_id']} ({float(row['year']):g}) lies after the spec's end "
                     f"{spec.end}: raise end or make the target validation",
                     file=spec.targets_file or "experiments/calibration/data/targets.csv", line=line, field="year")


def _provenance(spec: CalibrationSpec, fit: pd.DataFrame, value: float, chosen: str, inflation: float,
                evaluations: pd.DataFrame, threshold: float) -> dict[str, Any]:
    from sim.run import code_version

    runs = int(evaluations["runs"].sum())
    return {
        "method": ("simulated method of moments: Latin hypercube over the prior box "
                   f"({spec.explore.n} points), refinement hypercube ({spec.refine.n} points, box "
                   f"{spec.refine.shrink:g} of the prior width around the best), quadratic surrogate, confirmation "
                   f"of the surrogate minimum and the best point with {spec.confirm_replications} fresh seeds; "
                   "objective = sum over fit targets of squared log errors over (measurement variance + "
                   f"model discrepancy {spec.model_discrepancy:g}^2 + seed variance of the mean)"),
        "method_short": f"SMM {spec.name}",
        "spec": spec.model_dump(mode="json"),
        "fit_kind": spec.fit_kind,
        "targets": list(fit["target_id"]),
        "objective": round(value, 4),
        "objective_terms": len(fit),
        "chosen": chosen,
        "sd_inflation": round(inflation, 4),
        "near_best_threshold": round(threshold, 4),
        "seeds": {"root_seed": spec.root_seed, "explore": spec.root_seed, "refine": spec.root_seed + 1,
                  "confirm": spec.root_seed + 2, "replications": spec.replications,
                  "confirm_replications": spec.confirm_replications},
        "scale": spec.scale,
        "years": [2010, spec.end],
        "runs": runs,
        "date": dt.date.today().isoformat(),
        "code_version": code_version(),
    }


def _write_outputs(result: CalibrationResult, spec: CalibrationSpec) -> None:
    out = result.folder
    result.fit.to_csv(out / "fit.csv", index=False)
    result.fit.to_parquet(out / "fit.parquet", index=False)
    result.evaluations.to_csv(out / "evaluations.csv", index=False)
    (out / "calibrated.yaml").write_text(calibrated_yaml(result, spec), "utf-8")
    (out / "report.md").write_text(fit_report(result, spec), "utf-8")
    from experiments.posterior import posterior_from_calibrated, write_posterior

    # the estimate as a posterior file (experiments/posterior.py): one point, weight 1, method "point estimate"
    write_posterior(out / "posterior.json", *posterior_from_calibrated(out / "calibrated.yaml"))


def calibrated_yaml(result: CalibrationResult, spec: CalibrationSpec) -> str:
    """The calibrated parameter file: values with their uncertainty and prior, then the provenance."""
    from sim.params import default_behaviour

    prior = default_behaviour(calibrated=False).model_dump()
    params = {}
    for name, value in result.values.items():
        rng = spec.parameters[name]
        entry: dict[str, Any] = {"value": value}
        if result.sd[name] is not None:
            entry["sd"] = float(f"{result.sd[name]:.3g}")
        entry["near_best"] = [float(f"{x:.4g}") for x in result.near_best[name]]
        entry["prior_value"] = behaviour_path_value(prior, name)
        entry["prior_range"] = [rng.low, rng.high]
        params[name] = entry
    header = ("# Behavioural parameters estimated by `hukou calibrate` (experiments/calibration, docs/validation.md).\n"
              "# sim/params.py applies these values on top of sim/data/behaviour.yaml; each parameter's provenance\n"
              "# becomes `ref: calibrated (...)` followed by its prior. sd: approximate standard error from the\n"
              "# curvature of the objective (inflated by the reduced objective when the fit is poor); near_best: the\n"
              "# range of evaluated points whose objective is within the 68% chi-square band of the best.\n")
    body = dump_yaml({"parameters": params, "provenance": result.provenance}, width=110)
    return header + body


def install_calibration(folder: str | Path, target: Path = CALIBRATED_FILE) -> Path:
    """Make a calibration folder's estimate the model's default (copy its calibrated.yaml into sim/data)."""
    source = Path(folder) / "calibrated.yaml"
    if not source.is_file():
        raise InputError("no calibrated.yaml (the calibration has not finished)", file=folder)
    shutil.copyfile(source, target)
    from sim import params

    params._calibrated.cache_clear()
    return target


def fit_report(result: CalibrationResult, spec: CalibrationSpec) -> str:
    """The fit per target as Markdown: the estimate, then simulated against observed for every target."""
    lines = [f"# Calibration {spec.name}", "", spec.description, "",
             f"Objective {result.objective:.3f} over {result.provenance['objective_terms']} fit targets "
             f"(`{spec.fit_kind}`), chosen point: {result.provenance['chosen']}, "
             f"{result.provenance['runs']} runs at {spec.scale:g} persons per agent.", "",
             "| parameter | estimate | sd | near-best range | prior box |", "|---|---|---|---|---|"]
    for name, value in result.values.items():
        sd = result.sd[name]
        lo, hi = result.near_best[name]
        rng = spec.parameters[name]
        lines.append(f"| `{name}` | {value:g} | {'–' if sd is None else f'{sd:.3g}'} | {lo:.4g} – {hi:.4g} | "
                     f"{rng.low:g} – {rng.high:g} |")
    lines += ["", "| target | kind | observed | simulated mean | 90% band | rel. error | z |",
              "|---|---|---|---|---|---|---|"]
    for r in result.fit.itertuples():
        lines.append(f"| {r.target_id} | {r.target_kind} | {r.observed:,.0f} | {r.simulated_mean:,.0f} | "
                     f"{r.simulated_lo:,.0f} – {r.simulated_hi:,.0f} | {r.relative_error:+.1%} | {r.z:+.2f} |")
    return "\n".join(lines) + "\n"
