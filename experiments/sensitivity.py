"""Global sensitivity indices of a sweep's outcomes: Sobol (first-order and total) or Morris (μ*, σ) via SALib.

Each scenario's outcome is the mean over its replicates of one metric in one city and year; the indices say how
much of its variation each lever or uncertainty explains. Small samples give unstable indices, and analysts act
on them anyway, so the analysis warns when the design is too small or the confidence intervals too wide.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.sampling import Design, build_design
from experiments.spec import Sampler
from experiments.store import connect
from experiments.sweep import load_sweep_spec
from policies.errors import InputError

__all__ = ["analyze", "plot_indices", "MIN_SOBOL_N", "MIN_MORRIS_TRAJECTORIES"]

log = logging.getLogger(__name__)
MIN_SOBOL_N = 512           # Saltelli et al. (2010): base samples of 500–1000 for stable total-order indices
MIN_MORRIS_TRAJECTORIES = 10  # Campolongo et al. (2007): 10–20 trajectories for a stable ranking
WIDE_CONF = 0.1             # a Sobol confidence half-width above this is reported as unstable


def _outcome_values(folder: Path, metrics: list[str], year: int) -> pd.DataFrame:
    con = connect(folder)
    try:
        views = {r[0] for r in con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        if "city_year" not in views:
            raise InputError("no finished runs in this sweep", file=folder)
        cols = ", ".join(f"avg(CAST({m} AS DOUBLE)) AS {m}" for m in metrics)
        return con.sql(f"SELECT scenario, city, {cols} FROM city_year "
                       f"WHERE year = {int(year)} AND NOT census_day GROUP BY scenario, city").df()
    finally:
        con.close()


def analyze(folder: str | Path, outcomes: list[str] | None = None,
            year: int | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Sensitivity indices of a finished Sobol or Morris sweep, with warnings about their stability.

    Returns one row per outcome, city and factor (Sobol: S1, S1_conf, ST, ST_conf; Morris: mu, mu_star,
    mu_star_conf, sigma), and the list of warnings.
    """
    folder = Path(folder)
    spec = load_sweep_spec(folder)
    method = spec.sampler.method
    if method not in ("sobol", "morris"):
        raise InputError(f"sensitivity needs sampler sobol or morris, this spec uses {method}",
                         file=folder / "spec.yaml", field="sampler.method")
    outcomes = outcomes or spec.outcomes
    year = year or spec.sensitivity_year or spec.end
    design = build_design(spec)
    assert design.problem is not None and design.sample is not None
    values = _outcome_values(folder, outcomes, year)
    warnings: list[str] = []
    n = spec.sampler.n or 0
    if method == "sobol" and n < MIN_SOBOL_N:
        warnings.append(f"Sobol base sample n={n} is below {MIN_SOBOL_N}: indices are not stable; raise "
                        "sampler.n for conclusions")
    if method == "morris" and n < MIN_MORRIS_TRAJECTORIES:
        warnings.append(f"Morris with {n} trajectories (< {MIN_MORRIS_TRAJECTORIES}): the ranking is not stable")
    rows = []
    for (metric, city), y in _responses(values, outcomes, design.rows):
        if np.isnan(y).any():
            warnings.append(f"{metric} in {city}: {int(np.isnan(y).sum())} of {len(y)} scenarios have no value "
                            f"in {year} (failed runs or undefined metric); skipped")
            continue
        if np.ptp(y) == 0:
            warnings.append(f"{metric} in {city} does not vary across scenarios; skipped")
            continue
        rows.extend(_indices(method, design, y, spec.sampler, spec.root_seed, metric, city, year))
    table = pd.DataFrame(rows)
    if method == "sobol" and len(table) and (table["ST_conf"] > WIDE_CONF).any():
        worst = table.loc[table["ST_conf"].idxmax()]
        warnings.append(f"wide confidence intervals (ST_conf up to {worst['ST_conf']:.2f} for {worst['factor']} "
                        f"on {worst['outcome']} in {worst['city']}): the sample is too small for stable indices")
    return table, warnings


def _responses(values: pd.DataFrame, outcomes: list[str],
               rows: tuple[int, ...]) -> Iterator[tuple[tuple[str, str], np.ndarray]]:
    for city, frame in values.groupby("city", sort=True):
        by_scenario = frame.set_index("scenario")
        for metric in outcomes:
            series = by_scenario[metric]
            yield (metric, city), np.array([series.get(k, np.nan) for k in rows], dtype=float)


def _indices(method: str, design: Design, y: np.ndarray, sampler: Sampler, seed: int, metric: str, city: str,
             year: int) -> list[dict]:
    levels, second_order = sampler.levels, sampler.second_order
    assert design.problem is not None
    names = design.problem["names"]
    base = {"outcome": metric, "city": city, "year": year}
    if method == "sobol":
        from SALib.analyze import sobol

        res = sobol.analyze(design.problem, y, calc_second_order=second_order, conf_level=0.95, seed=seed)
        return [{**base, "factor": name, "S1": res["S1"][i], "S1_conf": res["S1_conf"][i], "ST": res["ST"][i],
                 "ST_conf": res["ST_conf"][i]} for i, name in enumerate(names)]
    from SALib.analyze import morris

    res = morris.analyze(design.problem, design.sample, y, num_levels=levels, conf_level=0.95, seed=seed)
    return [{**base, "factor": name, "mu": res["mu"][i], "mu_star": res["mu_star"][i],
             "mu_star_conf": res["mu_star_conf"][i], "sigma": res["sigma"][i]} for i, name in enumerate(names)]


def plot_indices(table: pd.DataFrame, path: str | Path) -> Path:
    """A bar chart per outcome and city: total-order index (Sobol) or μ* (Morris) with its confidence interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    value, conf = ("ST", "ST_conf") if "ST" in table else ("mu_star", "mu_star_conf")
    panels = list(table.groupby(["outcome", "city"], sort=False))
    cols = min(3, max(1, len(panels)))
    nrows = max(1, -(-len(panels) // cols))
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 0.5 + 0.45 * nrows * max(
        3, table["factor"].nunique())), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, ((outcome, city), frame) in zip(axes.flat, panels, strict=False):
        labels = [f.split(".")[-1] for f in frame["factor"]]
        ax.barh(labels, frame[value], xerr=frame[conf], color="#4c72b0", ecolor="#333", capsize=3)
        if "S1" in frame:
            ax.scatter(frame["S1"], labels, color="#dd8452", zorder=3, label="S1")
        ax.set_title(f"{outcome} — {city}", fontsize=9)
        ax.set_xlabel(value)
        ax.invert_yaxis()
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
