"""A reform's effect taken run by run: reform minus baseline on the same (parameter draw, seed), for the Compare page.

Why: when a sweep's scenarios share their parameter draws and seeds (``parameter_draws``: every scenario runs the
same draws and seeds, experiments/plan.py ``plan_runs``; or ``paired_seeds``: every scenario runs the baseline's
seeds), replicate ``i`` of the reform and replicate ``i`` of the baseline are the same draw and seed, so their
difference cancels what the two runs share (the parameter set, the seed's draws of persons). The band of the
effect is then a Student-t interval over those differences, not the difference of two wide bands (Welch's, which
``dashboard.figures.difference_from_stats`` keeps for sweeps whose scenarios have seeds of their own).

The rule is the sweep store's (experiments/store.py ``_difference`` and ``_spread``), so the chart, the sweep's
``summary_difference_*`` tables (``hukou query``) and the key findings (``dashboard.findings.effect``) give the same
numbers for the same sweep: runs joined on their replicate number (the run identity ``experiments.seeds.run_id``
carries, which is the (draw, seed) pair), the mean of the differences, and a half width ``t · sd · s(n)`` with
``t`` the two-sided Student-t quantile on ``n − 1`` degrees of freedom and ``s(n) = √(1 + 1/n)`` when the runs
are posterior draws (a prediction interval: where the effect lies given what the calibration leaves uncertain,
which more draws do not shrink) or ``1/√n`` when they are seeds of one parameter set (the interval of the mean).
No band below two pairs.

Speed: the Compare page asks for any pair of a sweep's scenarios, per city and view. ``paired_runs`` lays a city's
per-run values out once as an array (row × scenario × replicate, read at start-up by ``dashboard.data.warm``), so
a pair is a subtraction of two slices and a few sums, not a join of long frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

__all__ = ["PairedRuns", "paired_runs", "paired_difference", "spread", "DIFFERENCE_COLUMNS"]

# The columns of a difference frame after its row keys (year, metric, zone...), as Welch's frame has them.
DIFFERENCE_COLUMNS = ("reform", "baseline", "diff", "low", "high", "n_reform", "n_baseline")


@dataclass(frozen=True)
class PairedRuns:
    """Every run's values of a set of rows (one per year, metric, zone...), by scenario key and replicate."""

    rows: pd.DataFrame  # the row keys, one row per row of ``values``
    keys: dict[object, int]  # scenario key → index on the second axis
    values: np.ndarray  # (rows, keys, replicates), NaN where a run has no value

    @property
    def empty(self) -> bool:
        return self.values.size == 0


def paired_runs(values: pd.DataFrame) -> PairedRuns:
    """Lay out long per-run values (columns ``key``, ``replicate``, ``value`` and the row keys, such as year, metric
    and zone; one row per run and row key) as a ``PairedRuns``. Rows are sorted by their keys, the replicate
    axis is the replicate number itself (runs pair on it)."""
    groups = [c for c in values.columns if c not in ("key", "replicate", "value")]
    if values.empty:
        return PairedRuns(pd.DataFrame(columns=groups), {}, np.empty((0, 0, 0)))
    index = pd.MultiIndex.from_frame(values[groups]) if groups else pd.RangeIndex(len(values))
    row_codes, rows = pd.factorize(index, sort=True)
    key_codes, keys = pd.factorize(values["key"], sort=True)
    replicate = values["replicate"].to_numpy(dtype="int64")
    out = np.full((len(rows), len(keys), int(replicate.max()) + 1), np.nan)
    out[row_codes, key_codes, replicate] = values["value"].to_numpy(dtype="float64", na_value=np.nan)
    frame = rows.to_frame(index=False, name=groups) if groups else pd.DataFrame(index=range(len(rows)))
    return PairedRuns(frame, {k: i for i, k in enumerate(keys.tolist())}, out)


def spread(n: np.ndarray, parameters: bool) -> np.ndarray:
    """The factor of ``t · sd`` that makes the half width (experiments/store.py ``_spread``): ``√(1 + 1/n)`` over
    posterior draws, ``1/√n`` over seeds."""
    n = np.asarray(n, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(1.0 + 1.0 / n) if parameters else 1.0 / np.sqrt(n)


@cache
def _t(level: float, dof: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.5 + level / 2, dof))


def paired_difference(runs: PairedRuns, reform: object, baseline: object, level: float = 0.95,
                      parameters: bool = False) -> pd.DataFrame:
    """Reform minus baseline run by run: per row, the mean of the pairs' differences and its band (``spread``;
    NaN below two pairs), the two arms' means over the same pairs (so ``diff`` is ``reform − baseline``) and the
    number of pairs (``n_reform`` = ``n_baseline``). Rows without a pair are left out; columns are the row keys,
    ``DIFFERENCE_COLUMNS`` and ``paired`` (True)."""
    columns = [*runs.rows.columns, *DIFFERENCE_COLUMNS, "paired"]
    if reform not in runs.keys or baseline not in runs.keys:
        return pd.DataFrame(columns=columns)
    r, b = runs.values[:, runs.keys[reform], :], runs.values[:, runs.keys[baseline], :]
    d = r - b
    ok = ~np.isnan(d)
    n = ok.sum(axis=1)
    keep = n > 0
    r, b, d, ok, n = r[keep], b[keep], d[keep], ok[keep], n[keep]
    mean = np.where(ok, d, 0.0).sum(axis=1) / n
    deviation = np.where(ok, d - mean[:, None], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.where(n > 1, np.sqrt((deviation * deviation).sum(axis=1) / (n - 1)), np.nan)
    t = np.array([_t(level, max(int(k) - 1, 1)) for k in n])
    half = np.where(n > 1, t * sd * spread(n, parameters), np.nan)
    out = runs.rows[keep].reset_index(drop=True)
    out["reform"] = np.where(ok, r, 0.0).sum(axis=1) / n
    out["baseline"] = np.where(ok, b, 0.0).sum(axis=1) / n
    out["diff"], out["low"], out["high"] = mean, mean - half, mean + half
    out["n_reform"], out["n_baseline"], out["paired"] = n, n, True
    return out[columns]
