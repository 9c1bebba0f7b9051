"""Coverage of the ABC-SMC posterior on synthetic truths (``hukou calibrate-coverage``, docs/validation.md).

A check of the method, not of the model: parameter sets are drawn from the prior, the model is run at each (the
synthetic truth), its moments of the fit targets are perturbed by the error model the calibration assumes
(log-normal with variance ``σ_i² + δ²``, the targets' measurement errors and the model discrepancy), and the
calibration is run on them. If the posterior is what it claims, its central 50% and 90% intervals contain the
truth in about 50% and 90% of the cases (averaged over the prior, this holds for an exact posterior whatever the
identification). Fewer means the intervals are too narrow (overconfident), more that they are too wide.

Synthetic targets are the real targets dated up to the spec's end, with their sigmas; one-sided targets become
ordinary ones (the synthetic observation is a value, not a bound). Initial targets stay as observed: they only
set the registered-population offset, the same way in the truth and in every calibration run.
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

__all__ = ["coverage_spec", "synthetic_targets", "run_coverage"]

log = logging.getLogger(__name__)


def coverage_spec(spec: CalibrationSpec, *, scale: float, end: int, population: int, generations: int,
                  parameters: list[str] | None = None, root_seed: int | None = None,
                  discrepancy: float | None = None) -> CalibrationSpec:
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
    doc["abc"] = {**doc.get("abc", {}), "population": population, "generations": generations}
    return calibration_spec_from_dict(doc, "coverage")


def synthetic_targets(spec: CalibrationSpec, truth: dict[str, Any], folder: Path, *, seed: int,
                      rng: np.random.Generator, workers: int | None = None) -> pd.DataFrame:
    """Targets observed on a run of the model at ``truth`` (one seed), with the assumed observation error."""
    targets = load_targets(spec.targets_file)
    targets = targets[(targets["year"].astype(float) < spec.end + 1)
                      & targets["target_kind"].isin([spec.fit_kind, "initial"])].reset_index(drop=True)
    doc = spec.sweep_spec("truth", None, None, {**_pinned(spec), **truth}, replications=1, root_seed=seed)
    summary = run_sweep(spec_from_dict(doc, None), folder, workers=workers, summarise=False)
    if not summary.ok:
        raise RuntimeError(f"the synthetic truth's run failed; see hukou status {folder}")
    moments = moments_of_runs(folder, targets)
    fit = targets["target_kind"] == spec.fit_kind
    sd = np.sqrt(targets["sigma_rel"].to_numpy(float) ** 2 + spec.model_discrepancy ** 2)
    values = np.array([float(moments[t].iloc[0]) for t in targets["target_id"]])
    noise = np.exp(rng.normal(0.0, sd))
    targets["observed"] = np.where(fit, values * noise, targets["observed"].to_numpy(float))
    targets["comparison"] = "equal"
    ok = np.isfinite(targets["observed"].to_numpy(float)) & (targets["observed"].to_numpy(float) > 0)
    return targets[ok].reset_index(drop=True)


def run_coverage(spec: CalibrationSpec, out: Path, *, truths: int, seed: int = 0, workers: int | None = None,
                 progress: Progress | None = None) -> pd.DataFrame:
    """Calibrate on ``truths`` synthetic truths drawn from the prior; one row per truth and parameter with the
    truth, the posterior's 50% and 90% central intervals and whether each contains it (also ``coverage.csv``)."""
    out = Path(out)
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(truths):
        truth = {n: r.cast(rng.uniform(r.low, r.high)) for n, r in spec.parameters.items()}
        folder = out / f"truth{k:03d}"
        targets = synthetic_targets(spec, truth, folder / "truth", seed=seed * 1000 + k, rng=rng, workers=workers)
        result = calibrate_abc(spec, folder / "abc", targets=targets, workers=workers, progress=progress)
        for r in result.summary.itertuples():
            x = float(truth[r.parameter])
            rows.append({"truth": k, "parameter": r.parameter, "value": x, "mean": r.mean, "q05": r.q05,
                         "q25": r.q25, "q75": r.q75, "q95": r.q95, "inside_50": bool(r.q25 <= x <= r.q75),
                         "inside_90": bool(r.q05 <= x <= r.q95), "runs": result.provenance["runs"],
                         "final_temperature": result.provenance["final_temperature"]})
        log.info("truth %d of %d done", k + 1, truths)
    table = pd.DataFrame(rows)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "coverage.csv", index=False)
    return table


def coverage_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Share of truths inside the 50% and 90% intervals, per parameter and over all (``parameter`` = "all")."""
    per = table.groupby("parameter", sort=False)[["inside_50", "inside_90"]].mean().reset_index()
    per["cases"] = table.groupby("parameter", sort=False).size().to_numpy()
    total = pd.DataFrame([{"parameter": "all", "inside_50": table["inside_50"].mean(),
                           "inside_90": table["inside_90"].mean(), "cases": len(table)}])
    return pd.concat([per, total], ignore_index=True)
