"""Observed targets and the model's matching moments: what calibration fits and what validation holds out.

Each target (``data/targets.csv``) is one observed number — a city's resident or registered population at a dated
state, a census change, a district group's residents, a district's share of its city's residents, a settlement
count — with its source, a relative measurement error ``sigma_rel`` and a ``target_kind``: ``initial`` (the 2010
census-day state the model starts from, which can check the set-up but validates nothing), ``calibration``
(fitted) or ``validation`` (held out). A moment is the
same quantity computed from one run's ``city_year`` and ``district_year`` tables, so the comparison is like for
like: census-day targets are read from the census-day rows (``year`` 2010.83, 2020.83), year-end targets from the
year-end row of that year (docs/metrics.md).

Registered population: the statistics count everyone registered in the city, including people registered there who
live elsewhere (Chengdu's outer counties, Guangzhou's old districts), while the model's ``hukou_residents`` counts
registered people living in the city. The gap on the first date (Guangzhou about 0.14 m, Chengdu about 0.79 m) is
treated as a constant and added to the simulated series, so the comparison is of growth since 2010, not of a
definitional offset.

Resident series: ``residents`` is the best estimate of a date (a census count, a series revised after the 2020
census, a post-census year-end estimate); ``residents_original`` is a series as first published, before the 2020
census revised it (or, for Shenzhen, never revised), and ``residents_survey`` the 2015 1% sample survey. All three
are compared with the same simulated residents; they differ in what the observation is worth (data/README.md).

District shares (``district_share``): the residents of the ``districts`` listed (one adcode, or several summed)
over the residents of all the model's districts of the city, on the year-end row of ``year``. The observed share
is the district's figure over the city total of the same table, so both are on one basis whatever that table's
level (pre-revision district tables stay usable although their city totals fall below the census).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from policies.errors import InputError

__all__ = ["TARGET_KINDS", "MEASURES", "DISTRICT_MEASURES", "load_targets", "simulated_moments", "moments_of_runs",
           "comparison_table", "district_codes", "log_floor"]

TARGET_KINDS = ("initial", "calibration", "validation")
MEASURES = ("residents", "residents_original", "residents_survey", "registered", "residents_change", "migrants",
            "other_province", "residents_central12", "district_share", "settlements_points", "settlements_talent_cum")
# Measures read from the district table (the others come from the city table).
DISTRICT_MEASURES = ("residents_central12", "district_share")
_RESIDENT_SERIES = ("residents", "residents_original", "residents_survey")
# Log errors need a positive value: a count below one person is one person, a share below one in a million is that.
_SHARE_FLOOR = 1e-6
_COLUMNS = ("target_id", "city", "year", "measure", "target_kind", "observed", "sigma_rel", "comparison",
            "districts", "note", "source", "confidence")


def load_targets(path: str | Path | None = None) -> pd.DataFrame:
    """The targets table (package data by default), checked: known measures and kinds, positive values."""
    if path is None:
        text = resources.files("experiments.calibration").joinpath("data/targets.csv").read_text("utf-8")
        import io

        frame = pd.read_csv(io.StringIO(text), dtype={"districts": str})
        file = "experiments/calibration/data/targets.csv"
    else:
        file = str(path)
        if not Path(path).is_file():
            raise InputError("no such targets file", file=file)
        frame = pd.read_csv(path, dtype={"districts": str})
    missing = [c for c in _COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"missing columns {', '.join(missing)}", file=file, line=1)
    seen: dict[str, int] = {}
    for i, row in enumerate(frame.itertuples(), start=2):
        if row.target_id in seen:
            raise InputError(f"target_id {row.target_id!r} repeats line {seen[row.target_id]}", file=file, line=i,
                             field="target_id")
        seen[row.target_id] = i
        if row.measure not in MEASURES:
            raise InputError(f"unknown measure {row.measure!r} (known: {', '.join(MEASURES)})", file=file, line=i,
                             field="measure")
        if row.target_kind not in TARGET_KINDS:
            raise InputError(f"unknown target_kind {row.target_kind!r}", file=file, line=i, field="target_kind")
        if not (row.observed > 0 and row.sigma_rel > 0):
            raise InputError("observed and sigma_rel must be positive", file=file, line=i,
                             field="observed" if not row.observed > 0 else "sigma_rel")
        if row.measure in DISTRICT_MEASURES:
            text = "" if pd.isna(row.districts) else str(row.districts)
            if not text.split() or not all(c.isdigit() for c in text.split()):
                raise InputError(f"{row.measure} needs the district adcodes, space-separated (got {text!r})",
                                 file=file, line=i, field="districts")
        if row.measure == "district_share":
            if not row.observed < 1:
                raise InputError(f"a district share is a fraction below 1 (got {row.observed:g})", file=file, line=i,
                                 field="observed")
            if float(row.year) % 1:
                raise InputError(f"a district share is read on a year-end row: a whole year (got {row.year:g})",
                                 file=file, line=i, field="year")
    frame["districts"] = frame["districts"].fillna("")
    return frame.reset_index(drop=True)


def _at(city_year: pd.DataFrame, city: str, year: float, column: str) -> float:
    rows = city_year[(city_year["city"] == city) & np.isclose(city_year["year"], year)]
    if rows.empty:
        return float("nan")
    return float(rows[column].iloc[0])


def log_floor(measures: pd.Series | list[str] | np.ndarray) -> np.ndarray:
    """The smallest value a moment counts as in log errors, per target: one person, or 1e-6 for a share."""
    return np.where(np.asarray(measures) == "district_share", _SHARE_FLOOR, 1.0)


def district_codes(text: str) -> list[int]:
    """The adcodes of a target's ``districts`` field ("510104 510105" -> [510104, 510105])."""
    return [int(c) for c in str(text).split()]


def _year_end(district_year: pd.DataFrame, year: float) -> pd.DataFrame:
    """The district rows of a year-end (never a census day, whose label is not a whole year anyway)."""
    rows = district_year[np.isclose(district_year["year"], year)]
    if "census_day" in rows.columns:
        rows = rows[~rows["census_day"].astype(bool)]
    return rows


def _share(district_year: pd.DataFrame, city: str, year: float, codes: list[int]) -> float:
    """Residents of ``codes`` over residents of every district of ``city`` on the year-end row of ``year``."""
    rows = _year_end(district_year, year)
    rows = rows[rows["city"] == city]
    total = float(rows["residents"].sum())
    if not len(rows) or total <= 0:
        return float("nan")
    return float(rows.loc[rows["district"].isin(codes), "residents"].sum()) / total


def _registered_offset(city_year: pd.DataFrame, targets: pd.DataFrame, city: str) -> float:
    """Observed minus simulated registered population on the city's initial date (0 when there is none)."""
    base = targets[(targets["city"] == city) & (targets["measure"] == "registered")
                   & (targets["target_kind"] == "initial")]
    if base.empty:
        return 0.0
    row = base.iloc[0]
    simulated = _at(city_year, city, float(row["year"]), "hukou_residents")
    return float(row["observed"]) - simulated if np.isfinite(simulated) else 0.0


def simulated_moments(city_year: pd.DataFrame, district_year: pd.DataFrame | None,
                      targets: pd.DataFrame) -> np.ndarray:
    """One run's value of every target's quantity, in the targets' order (NaN where the run does not reach it)."""
    out = np.full(len(targets), np.nan)
    offsets = {c: _registered_offset(city_year, targets, c) for c in targets["city"].unique()}
    for i, t in enumerate(targets.itertuples()):
        city, year, measure = t.city, float(t.year), t.measure
        if measure in _RESIDENT_SERIES:
            out[i] = _at(city_year, city, year, "residents")
        elif measure == "migrants":
            out[i] = _at(city_year, city, year, "migrants")
        elif measure == "other_province":
            out[i] = _at(city_year, city, year, "migrants_other_province")
        elif measure == "registered":
            out[i] = _at(city_year, city, year, "hukou_residents") + offsets[city]
        elif measure == "residents_change":
            out[i] = _at(city_year, city, year, "residents") - _at(city_year, city, 2010.83, "residents")
        elif measure == "settlements_points":
            out[i] = _at(city_year, city, year, "settlements_points")
        elif measure == "settlements_talent_cum":
            # year = the end date as a fraction (2013.62 = 2013-08-13): whole years from 2010, part of the last
            last = int(np.floor(year))
            total = sum(_at(city_year, city, float(y), "settlements_talent") for y in range(2010, last))
            out[i] = total + (year - last) * _at(city_year, city, float(last), "settlements_talent")
        elif measure == "residents_central12":
            if district_year is None:
                continue
            codes = district_codes(t.districts)
            rows = district_year[np.isclose(district_year["year"], year) & district_year["district"].isin(codes)]
            out[i] = float(rows["residents"].sum()) if len(rows) else np.nan
        elif measure == "district_share":
            if district_year is None:
                continue
            out[i] = _share(district_year, city, year, district_codes(t.districts))
    return out


def moments_of_runs(folder: str | Path, targets: pd.DataFrame) -> pd.DataFrame:
    """Every published run of a sweep folder: one row per run, one column per target id, plus run keys.

    District tables are read only when a target needs them (they are the larger files): the listed districts for
    district-group targets, every district of a city with a district-share target (the share's denominator).
    """
    from experiments.store import query

    folder = Path(folder)
    city = query(folder, "SELECT run_id, scenario, replicate, year, city, residents, hukou_residents, migrants, "
                         "migrants_other_province, "
                         "settlements_points, settlements_talent FROM city_year")
    wanted = targets[targets["measure"].isin(DISTRICT_MEASURES)]
    district = None
    if len(wanted):
        codes = sorted({c for d in wanted["districts"] for c in district_codes(d)})
        cities = sorted(set(wanted.loc[wanted["measure"] == "district_share", "city"]))
        where = f"district IN ({', '.join(map(str, codes))})"
        if cities:
            where += f" OR city IN ({', '.join(repr(str(c)) for c in cities)})"
        district = query(folder, "SELECT run_id, year, census_day, city, district, residents FROM district_year "
                                 f"WHERE {where}")
    rows = []
    for run_id, frame in city.groupby("run_id", sort=True):
        dist = None if district is None else district[district["run_id"] == run_id]
        values = simulated_moments(frame, dist, targets)
        row = {"run_id": run_id, "scenario": int(frame["scenario"].iloc[0]),
               "replicate": int(frame["replicate"].iloc[0])}
        row.update(dict(zip(targets["target_id"], values, strict=True)))
        rows.append(row)
    return pd.DataFrame(rows)


def comparison_table(moments: pd.DataFrame, targets: pd.DataFrame, band: float = 0.90,
                     discrepancy: float | None = None) -> pd.DataFrame:
    """Simulated against observed, one row per target (Flee style): the tidy table of the fit and validation reports.

    ``moments`` holds one row per run (columns named by target id): the runs of one parameter set (seeds), or of
    parameter sets drawn from a posterior (parameters and seeds). The band is the central ``band`` interval of the
    runs' values, ``error`` = simulated mean − observed, ``relative_error`` = error / observed; for an ``at_least``
    target the error is zero when the simulated value reaches the bound.

    With ``discrepancy`` the table also carries the *predictive* intervals of an observation (50% and 90%): the
    runs' values times the error the calibration's likelihood assumes, log-normal with variance σ_i² + δ²
    (measurement and model discrepancy, docs/validation.md). The model band says where the model goes; the
    predictive interval says where an observation should fall if model and error model are right, so its coverage
    on held-out targets is the calibration's honest check.
    """
    lo_q, hi_q = (1 - band) / 2, 1 - (1 - band) / 2
    rows, predictive = [], []
    for t in targets.itertuples():
        values = moments[t.target_id].to_numpy(dtype=float) if t.target_id in moments else np.array([np.nan])
        values = values[np.isfinite(values)]
        mean = float(values.mean()) if len(values) else float("nan")
        lo = float(np.quantile(values, lo_q)) if len(values) else float("nan")
        hi = float(np.quantile(values, hi_q)) if len(values) else float("nan")
        if discrepancy is not None:
            predictive.append(_predictive_interval(values, float(np.hypot(t.sigma_rel, discrepancy)),
                                                   float(t.observed), t.comparison))
        error = mean - float(t.observed)
        floor = float(log_floor([t.measure])[0])
        if t.comparison == "at_least":
            error = min(error, 0.0)
        rows.append({"target_id": t.target_id, "city": t.city, "year": float(t.year), "measure": t.measure,
                     "target_kind": t.target_kind, "observed": float(t.observed), "simulated_mean": mean,
                     "simulated_lo": lo, "simulated_hi": hi, "error": error,
                     "relative_error": error / float(t.observed), "sigma_rel": float(t.sigma_rel),
                     "z": (np.log(max(mean, floor)) - np.log(float(t.observed))) / float(t.sigma_rel)
                     if t.comparison == "equal" else min(0.0, np.log(max(mean, floor) / float(t.observed)))
                     / float(t.sigma_rel),
                     "inside_band": bool(lo <= float(t.observed) <= hi) if t.comparison == "equal"
                     else bool(hi >= float(t.observed)),
                     "runs": int(len(values)), "comparison": t.comparison, "confidence": t.confidence,
                     "note": t.note, "source": t.source})
    table = pd.DataFrame(rows)
    if discrepancy is not None:
        table = pd.concat([table, pd.DataFrame(predictive, index=table.index)], axis=1)
    return table


_PREDICTIVE_NOISE = np.random.default_rng(20201101).standard_normal(400)  # fixed: the same table on every machine


def _predictive_interval(values: np.ndarray, sd_log: float, observed: float, comparison: str) -> dict[str, Any]:
    """The 50% and 90% predictive intervals of an observation: each run's value times exp(sd_log · z) over a fixed
    set of 400 standard normal draws z (so the table is deterministic), and whether the observation falls inside.
    A one-sided (``at_least``) observation is inside when the interval's upper end reaches it."""
    if not len(values):
        nan = float("nan")
        return {"predictive_lo50": nan, "predictive_hi50": nan, "predictive_lo90": nan, "predictive_hi90": nan,
                "inside_predictive50": False, "inside_predictive90": False}
    draws = (values[:, None] * np.exp(sd_log * _PREDICTIVE_NOISE[None, :])).ravel()
    q05, q25, q75, q95 = (float(q) for q in np.quantile(draws, [0.05, 0.25, 0.75, 0.95]))
    if comparison == "at_least":
        inside50, inside90 = q75 >= observed, q95 >= observed
    else:
        inside50, inside90 = q25 <= observed <= q75, q05 <= observed <= q95
    return {"predictive_lo50": q25, "predictive_hi50": q75, "predictive_lo90": q05, "predictive_hi90": q95,
            "inside_predictive50": bool(inside50), "inside_predictive90": bool(inside90)}
