""""What is still wrong": sentences generated from a validation report's numbers, never written by hand, so the
report cannot claim more than its tables show. Pure functions of the report's frames (validate.py writes them
into report.md; docs/validation.md points there instead of copying numbers that go stale with every model change).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.calibration.shares import BEAT_RATIO
from policies.cities import CITIES

__all__ = ["still_wrong", "gets_right", "city_series", "MISS_PP", "ZONE_PP", "SERIES_MISS"]

MISS_PP = 1.0      # a district share off by at least this many percentage points is listed
ZONE_PP = 2.0      # a zone's combined share off by at least this is listed
SERIES_MISS = 0.05  # a resident-series target off by at least this relative error is listed
_SERIES = {"residents": "revised / census", "residents_original": "as first published (pre-revision)",
           "residents_survey": "2015 1% survey"}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _n(districts: int) -> str:
    return f"{districts} district" + ("" if districts == 1 else "s")


def _city(c: str) -> str:
    return c.capitalize()


def _year(y: float) -> str:
    return f"{y:.2f} (census day)" if y % 1 else f"{int(y)}"


def city_series(table: pd.DataFrame) -> pd.DataFrame:
    """The resident series per city and date: observed as revised (or counted), as first published and by the 2015
    survey, beside the simulated mean. One row per city and date with any resident observation."""
    rows = table[table["measure"].isin(list(_SERIES))]
    if rows.empty:
        return pd.DataFrame(columns=["city", "year", "revised", "original", "survey", "simulated_mean"])
    wide = rows.pivot_table(index=["city", "year"], columns="measure", values="observed", aggfunc="first")
    wide = wide.rename(columns={"residents": "revised", "residents_original": "original",
                                "residents_survey": "survey"})
    for col in ("revised", "original", "survey"):
        if col not in wide.columns:
            wide[col] = np.nan
    sim = rows.groupby(["city", "year"])["simulated_mean"].first()
    out = wide[["revised", "original", "survey"]].join(sim).reset_index()
    order = {c: i for i, c in enumerate(CITIES)}
    return out.sort_values(["city", "year"], key=lambda c: c.map(order) if c.name == "city" else c
                           ).reset_index(drop=True)


def still_wrong(table: pd.DataFrame, shares: pd.DataFrame, errors: pd.DataFrame) -> list[str]:
    """The misses, largest first within each kind: district shares no better than persistence, the largest
    district and zone misses, resident-series misses beyond ``SERIES_MISS``, and registered series beyond 2 sigma.

    ``table`` is the comparison table, ``shares`` the output of shares.share_rows (with ``zone`` where known),
    ``errors`` that of shares.persistence_errors.
    """
    lines: list[str] = []
    for r in errors.itertuples(index=False):
        if not r.beats_persistence:
            lines.append(f"{_city(r.city)} {_year(r.year)}: the simulated district shares are no closer to the "
                         f"observed ones than the 2010 census carried forward (mean absolute error "
                         f"{r.model_mae_pp:.2f} pp against {r.persistence_mae_pp:.2f} pp, {_n(r.districts)}).")
        elif not r.beats_half:
            lines.append(f"{_city(r.city)} {_year(r.year)}: the district shares beat persistence, but by less than "
                         f"half ({r.model_mae_pp:.2f} pp against {r.persistence_mae_pp:.2f} pp; the bar is "
                         f"{BEAT_RATIO:.0%} of persistence).")
    if len(shares):
        big = shares[shares["model_error_pp"].abs() >= MISS_PP].copy()
        big["a"] = big["model_error_pp"].abs()
        for r in big.sort_values("a", ascending=False).head(8).itertuples(index=False):
            where = "too many" if r.model_error_pp > 0 else "too few"
            lines.append(f"{r.district_name or r.district} ({_city(r.city)}) {_year(r.year)}: {where} residents — "
                         f"share {_pct(r.simulated_share)} simulated against {_pct(r.observed_share)} observed "
                         f"({r.model_error_pp:+.1f} pp; the 2010 share was {_pct(r.persistence_share)}).")
        lines += _zone_lines(shares)
    series = table[table["measure"].isin(["residents", "residents_survey"]) & (table["target_kind"] != "initial")
                   & np.isfinite(table["simulated_mean"])]
    series = series[series["relative_error"].abs() >= SERIES_MISS].copy()
    series["a"] = series["relative_error"].abs()
    for r in series.sort_values("a", ascending=False).head(8).itertuples(index=False):
        lines.append(f"{_city(r.city)} residents {_year(r.year)} ({_SERIES[r.measure]}, {r.target_kind}): "
                     f"{r.simulated_mean / 1e6:.2f} m simulated against {r.observed / 1e6:.2f} m "
                     f"({r.relative_error:+.1%}).")
    reached = table[(table["measure"] == "registered") & (table["target_kind"] != "initial")
                    & np.isfinite(table["simulated_mean"])]
    for city, part in reached.groupby("city", sort=False):
        off = part[part["z"].abs() > 2]
        if off.empty:
            continue
        worst = off.loc[off["z"].abs().idxmax()]
        lines.append(f"{_city(city)} registered population off by more than 2 sigma in {len(off)} of {len(part)} "
                     f"years (worst {_year(float(worst['year']))}: {float(worst['relative_error']):+.1%}).")
    return lines


def _zone_lines(shares: pd.DataFrame) -> list[str]:
    """Zones whose combined share is off by ``ZONE_PP`` or more, for city-years whose shares cover the city."""
    lines: list[str] = []
    if "zone" not in shares.columns:
        return lines
    for (city, year), part in shares.groupby(["city", "year"], sort=False):
        if abs(part["observed_share"].sum() - 1) > 0.01 or (part["zone"] == "").any():
            continue
        zones = part.groupby("zone")[["observed_share", "simulated_share"]].sum()
        zones["pp"] = 100 * (zones["simulated_share"] - zones["observed_share"])
        for zone, z in zones[zones["pp"].abs() >= ZONE_PP].sort_values("pp").iterrows():
            lines.append(f"{_city(city)} {_year(year)}: the {str(zone).replace('_', ' ')} districts together hold "
                         f"{_pct(z['simulated_share'])} of residents simulated against {_pct(z['observed_share'])} "
                         f"observed ({z['pp']:+.1f} pp).")
    return lines


def gets_right(errors: pd.DataFrame) -> list[str]:
    """City-years whose district shares beat persistence by at least half (``BEAT_RATIO``)."""
    return [f"{_city(r.city)} {_year(r.year)}: district shares {r.model_mae_pp:.2f} pp from the observed against "
            f"{r.persistence_mae_pp:.2f} pp for the 2010 census carried forward ({_n(r.districts)})."
            for r in errors.itertuples(index=False) if r.beats_half]
