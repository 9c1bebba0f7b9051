"""Coverage of a calibration's posterior on synthetic truths (``hukou calibrate-coverage``, docs/validation.md):
ABC-SMC's (``method="abc"``) or the emulator posterior of a history matching (``method="history"``).

A check of the method, not of the model: parameter sets are drawn from the prior, the model is run at each (the
synthetic truth), its moments of the fit targets are perturbed by the error model the calibration assumes
(log-normal with variance ``σ_i² + δ²``, the targets' measurement errors and the model discrepancy), and the
calibration is run on them. If the posterior is what it claims, its central 50% and 90% intervals contain the
truth in about 50% and 90% of the cases (averaged over the prior, this holds for an exact posterior whatever the
identification). Fewer means the intervals are too narrow (overconfident), more that they are too wide.

Synthetic targets are each city's residents and registered population at every year-end from 2011 to the spec's
end (measurement error 2%, as the real series'), beside the real initial targets, which only set the
registered-population offset, the same way in the truth and in every calibration run. Not the real fit targets:
at the coarse scales a check can afford (20,000 persons per agent: a few hundred migrant agents per city, a dozen
in a small district) the seed noise of a district share is 20–30%, larger than its error, and the acceptance rate
at temperature 1 collapses; city totals are noisy by a few percent only.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.calibration.abc import Progress, calibrate_abc
from experiments.calibration.smm import _pinned
from experiments.calibration.spec import CalibrationSpec, calibration_spec_from_dict
from experiments.calibration.targets import load_targets, moments_of_runs
from experiments.spec import spec_from_dict
from experiments.sweep import run_sweep

__all__ = ["coverage_spec", "synthetic_targets", "run_coverage", "coverage_summary", "finite_sample_coverage"]

log = logging.getLogger(__name__)


def coverage_spec(spec: CalibrationSpec, *, scale: float, end: int, population: int, generations: int,
                  parameters: list[str] | None = None, root_seed: int | None = None,
                  discrepancy: float | None = None, waves: int | None = None,
                  runs_per_wave: int | None = None) -> CalibrationSpec:
    """The spec a coverage check calibrates with: ``spec`` at another scale, end, ABC size and model discrepancy
    (validated). A coarse model's seed noise is large; a discrepancy above it keeps the acceptance rate at
    temperature 1 workable, and the synthetic observations are drawn with the same error, so the check stays
    a check of the method."""
    doc = spec.model_dump(mode="json", exclude_none=True)
    if parameters:
        unknown = [p for p in parameters if p not in spec.parameters]
        if unknown:
            from policies.errors import InputError

            raise InputError(f"{unknown[0]} is not a parameter of calibration spec {spec.name}",
                             field="--parameter")
        doc["parameters"] = {k: v for k, v in doc["parameters"].items() if k in parameters}
    doc.update(scale=scale, end=end, root_seed=spec.root_seed if root_seed is None else root_seed)
    if discrepancy is not None:
        doc["model_discrepancy"] = discrepancy
    # batches of at most four populations: at temperature 1 a coarse model's acceptance rate can be low, and a
    # few small sweeps waste fewer runs past the last acceptance than one large one
    doc["abc"] = {**doc.get("abc", {}), "population": population, "generations": generations,
                  "max_batch": max(16, 4 * population)}
    if waves is not None or runs_per_wave is not None:
        doc["history"] = {**doc.get("history", {}), **({"waves": waves} if waves is not None else {}),
                          **({"runs_per_wave": runs_per_wave} if runs_per_wave is not None else {})}
    return calibration_spec_from_dict(doc, "coverage")


def _city_targets(spec: CalibrationSpec, sigma: float) -> pd.DataFrame:
    """The synthetic target set: residents and registered of each city at every year-end up to ``spec.end``, plus
    the real initial targets (observed values filled in from the truth's run later)."""
    real = load_targets(spec.targets_file)
    initial = real[real["target_kind"] == "initial"]
    rows = [{"target_id": f"{c}_{m}_{y}", "city": c, "year": float(y), "measure": m,
             "target_kind": spec.fit_kind, "observed": 1.0, "sigma_rel": sigma, "comparison": "equal",
             "districts": "", "note": "synthetic", "source": "the model at the truth", "confidence": "high"}
            for c in initial["city"].unique() for y in range(2011, spec.end + 1) for m in ("residents", "registered")]
    return pd.concat([initial, pd.DataFrame(rows)], ignore_index=True)


def synthetic_targets(spec: CalibrationSpec, truth: dict[str, Any], folder: Path, *, seed: int,
                      rng: np.random.Generator, workers: int | None = None, sigma: float = 0.02) -> pd.DataFrame:
    """Targets observed on a run of the model at ``truth`` (one seed), with the error the calibration assumes
    (log-normal, variance ``sigma² + model_discrepancy²``); also written to ``folder/targets.csv``."""
    targets = _city_targets(spec, sigma)
    doc = spec.sweep_spec("truth", None, None, {**_pinned(spec), **truth}, replications=1, root_seed=seed)
    summary = run_sweep(spec_from_dict(doc, None), folder, workers=workers, summarise=False)
    if not summary.ok:
        raise RuntimeError(f"the synthetic truth's run failed; see hukou status {folder}")
    moments = moments_of_runs(folder, targets)
    fit = (targets["target_kind"] == spec.fit_kind).to_numpy()
    sd = np.sqrt(targets["sigma_rel"].to_numpy(float) ** 2 + spec.model_discrepancy ** 2)
    values = np.array([float(moments[t].iloc[0]) for t in targets["target_id"]])
    noise = np.exp(rng.normal(0.0, sd))
    targets["observed"] = np.where(fit, values * noise, targets["observed"].to_numpy(float))
    targets.to_csv(folder / "targets.csv", index=False)
    return targets


def _posterior(spec: CalibrationSpec, folder: Path, targets: pd.DataFrame, method: str, workers: int | None,
               progress: Progress | None) -> tuple[pd.DataFrame, int, float]:
    """Calibrate on ``targets`` by ``method``: the posterior's per-parameter summary, the runs, the temperature."""
    if method == "history":
        from experiments.calibration.emulator_posterior import sample_posterior
        from experiments.calibration.history_matching import calibrate_history

        matched = calibrate_history(spec, folder / "history", targets=targets, workers=workers, progress=progress)
        return sample_posterior(matched, spec).summary, int(matched.provenance["runs"]), 1.0
    result = calibrate_abc(spec, folder / "abc", targets=targets, workers=workers, progress=progress)
    return result.summary, int(result.provenance["runs"]), float(result.provenance["final_temperature"])


def run_coverage(spec: CalibrationSpec, out: Path, *, truths: int, seed: int = 0, workers: int | None = None,
                 progress: Progress | None = None, method: str = "abc") -> pd.DataFrame:
    """Calibrate on ``truths`` synthetic truths drawn from the prior; one row per truth and parameter with the
    truth, the posterior's 50% and 90% central intervals and whether each contains it (also ``coverage.csv``)."""
    out = Path(out)
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(truths):
        truth = {n: r.cast(rng.uniform(r.low, r.high)) for n, r in spec.parameters.items()}
        folder = out / f"truth{k:03d}"
        targets = synthetic_targets(spec, truth, folder / "truth", seed=seed * 1000 + k, rng=rng, workers=workers)
        # each truth's calibration its own proposals and run seeds: with one root seed they would all start from
        # the same prior particles, run with the same seeds, and their coverage would not be independent
        own = spec.model_copy(update={"root_seed": spec.root_seed * 1000 + k + 1})
        summary, runs, temperature = _posterior(own, folder, targets, method, workers, progress)
        for r in summary.itertuples():
            x = float(truth[r.parameter])
            prior_sd = (r.prior_high - r.prior_low) / np.sqrt(12.0)
            rows.append({"truth": k, "parameter": r.parameter, "value": x, "mean": r.mean, "sd": r.sd,
                         "sd_over_prior_sd": r.sd / prior_sd, "q05": r.q05,
                         "q25": r.q25, "q75": r.q75, "q95": r.q95, "inside_50": bool(r.q25 <= x <= r.q75),
                         "inside_90": bool(r.q05 <= x <= r.q95), "runs": runs,
                         "final_temperature": temperature})
        log.info("truth %d of %d done", k + 1, truths)
    table = pd.DataFrame(rows)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "coverage.csv", index=False)
    return table


def coverage_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Share of truths inside the 50% and 90% intervals, per parameter and over all (``parameter`` = "all"), and the
    mean posterior sd over the prior's (how much the synthetic data narrowed the prior: near 1, the check says
    little beyond the prior being returned)."""
    per = table.groupby("parameter", sort=False)[["inside_50", "inside_90", "sd_over_prior_sd"]].mean().reset_index()
    per["cases"] = table.groupby("parameter", sort=False).size().to_numpy()
    total = pd.DataFrame([{"parameter": "all", "inside_50": table["inside_50"].mean(),
                           "inside_90": table["inside_90"].mean(),
                           "sd_over_prior_sd": table["sd_over_prior_sd"].mean(), "cases": len(table)}])
    return pd.concat([per, total], ignore_index=True)


def finite_sample_coverage(n: int, lo: float, hi: float, reps: int = 20000) -> float:
    """The share of truths an *exact* posterior would put inside the ``[lo, hi]`` weighted-quantile interval when it
    is represented by ``n`` equally weighted particles (``abc.weighted_quantile``, as the calibration reports it).

    If the posterior is exact, the truth is one more draw from it, so its rank among the particles is uniform and
    the answer does not depend on the posterior: simulated with uniform draws (fixed seed). With few particles
    it is below the nominal level (8 particles: the 90% interval is their range, which holds a ninth draw 7 times
    in 9), and that, not 90%, is what a coverage check with few particles should be read against."""
    from experiments.calibration.abc import weighted_quantile

    rng = np.random.default_rng(0)
    ones = np.ones(n)
    inside = 0
    for _ in range(reps):
        x = rng.random(n + 1)
        inside += int(weighted_quantile(x[:n], ones, lo) <= x[n] <= weighted_quantile(x[:n], ones, hi))
    return inside / reps
