"""The outcome metrics: the one place for their names, lists, units and formulas (docs/metrics.md).

``sim/record.py`` computes the city metrics with ``city_metrics`` at each recorded date; the experiments (spec
outcomes, the store's summaries) and the dashboard (menus, formats, the per-zone comparison) take the names, the
lists and the SQL formulas from here, so a metric is added or changed in this module and nowhere else.

- ``CITY_METRICS``: the metric columns of ``city_year.parquet`` (the outcomes a spec may name), in menu order.
- ``DISTRICT_METRICS``: the district columns summarised across replicates and shown on the map.
- ``SHARE_METRICS``, ``YEAR_METRICS``: the metrics that are shares (0–1) and durations in years.
- ``ZONE_SQL``: the city formulas restated as SQL over sums of ``district_year`` columns, so that they apply to any
  group of districts (a zone); ``COMPARE_METRICS`` are the metrics compared per city and per zone. Grouped by city,
  each gives the city metric of the same name, except ``suburban_dispersion_migrants``, which per zone is the
  zone's share of the city's migrants (a test checks the rest against ``city_metrics``).
- ``FLOW_METRICS``: the counts that are yearly flows (labelled "per year"); ``POINTS_METRICS``, ``INDEX_METRICS``.

Meanings a name alone hides (the dashboard says them beside its charts, ``dashboard.i18n.metric_caveat``, in both
languages): ``school_access`` counts the children of *unsettled* migrants only, so more settlement can lower it;
``points_cutoff`` is the lowest points total the year's quota rounds admitted, not the rules' points line;
``time_to_hukou_years`` averages over the year's settlers only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from policies.mechanisms import CHANNEL_CATEGORIES
from sim.geography import CORE_ZONE

if TYPE_CHECKING:
    from sim.model import HukouModel

__all__ = ["CITY_KEYS", "DISTRICT_KEYS", "CITY_METRICS", "DISTRICT_METRICS", "SHARE_METRICS", "YEAR_METRICS",
           "FLOW_METRICS", "POINTS_METRICS", "INDEX_METRICS", "SETTLED_COLUMNS", "SETTLEMENT_METRICS", "ZONE_SQL",
           "COMPARE_METRICS", "city_metrics"]

# The columns that identify a row of city_year.parquet and of district_year.parquet.
CITY_KEYS = ("year", "census_day", "city")
DISTRICT_KEYS = (*CITY_KEYS, "district")
# The yearly settlements of the district table, one column per channel category (policies.mechanisms).
SETTLED_COLUMNS = tuple(f"settled_{c}" for c in CHANNEL_CATEGORIES)
# The city metrics of the yearly settlements by channel category (their sum is ``settlements_total``).
SETTLEMENT_METRICS = tuple(f"settlements_{c}" for c in CHANNEL_CATEGORIES)

CITY_METRICS = (
    "hukou_share", "suburban_dispersion_migrants", "suburban_dispersion_residents", "entropy_migrants",
    "talent_share_settlers", "talent_share_migrants", "talent_share_residents",
    *SETTLEMENT_METRICS, "settlements_total", "time_to_hukou_years", "school_access",
    "return_rate", "permit_coverage", "points_cutoff", "queue_length", "residents", "hukou_residents", "migrants",
    "migrants_other_province", "permit_holders", "arrivals", "returns", "rent_index",
)
DISTRICT_METRICS = ("residents", "hukou_residents", "migrants", "permit_holders", *SETTLED_COLUMNS,
                    "migrants_bachelor_plus", "arrivals", "returns", "migrant_children_in_school", "rent_index")
SHARE_METRICS = frozenset({
    "hukou_share", "suburban_dispersion_migrants", "suburban_dispersion_residents", "entropy_migrants",
    "talent_share_settlers", "talent_share_migrants", "talent_share_residents", "school_access", "return_rate",
    "permit_coverage",
})
YEAR_METRICS = frozenset({"time_to_hukou_years"})
# Counts of persons that are yearly flows (events over the calendar year of the row, docs/metrics.md "Stocks and
# flows"), shown "per year"; every other count is a stock on the row's date.
FLOW_METRICS = frozenset({*SETTLEMENT_METRICS, "settlements_total", *SETTLED_COLUMNS, "arrivals", "returns"})
# Metrics in points (the lowest score admitted in the year's quota rounds) and dimensionless indices.
POINTS_METRICS = frozenset({"points_cutoff"})
INDEX_METRICS = frozenset({"rent_index"})

_SETTLED = f"sum({' + '.join(SETTLED_COLUMNS)})"
ZONE_SQL = {
    "hukou_share": "sum(hukou_residents) / nullif(sum(residents), 0)",
    "suburban_dispersion_migrants": "sum(migrants) / nullif(sum(sum(migrants)) OVER (PARTITION BY run, year, city), 0)",
    "talent_share_settlers": f"sum(settled_bachelor_plus) / nullif({_SETTLED}, 0)",
    **{f"settlements_{c}": f"sum(settled_{c})" for c in CHANNEL_CATEGORIES},
    "settlements_total": _SETTLED,
    "time_to_hukou_years": f"sum(hukou_months_sum) / nullif({_SETTLED}, 0) / 12",
    "school_access": "sum(migrant_children_in_school) / nullif(sum(migrant_children), 0)",
    "return_rate": "sum(returns) / nullif(sum(migrants) + sum(settled_stock) + sum(returns), 0)",
}
COMPARE_METRICS = tuple(ZONE_SQL)


def _entropy(counts: np.ndarray) -> float:
    """Normalised Shannon entropy of a distribution over districts (0: all in one, 1: even)."""
    total = counts.sum()
    if total <= 0 or len(counts) < 2:
        return float("nan")
    p = counts[counts > 0] / total
    return float(-(p * np.log(p)).sum() / np.log(len(counts)))


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 and not np.isnan(a) else float("nan")


def city_metrics(model: HukouModel, frame: pd.DataFrame) -> pd.DataFrame:
    """The city-year outcome metrics of docs/metrics.md from the district rows of one date."""
    rows = []
    b = model.behaviour
    for gov in model.governments:
        f = frame[frame["city"] == gov.city]
        core = (f["zone"] == CORE_ZONE).to_numpy()
        res, mig, huk = f["residents"].sum(), f["migrants"].sum(), f["hukou_residents"].sum()
        settled_year = f[list(SETTLED_COLUMNS)].sum().sum(min_count=1)
        this_year = [r for r in gov.published_rounds.values() if r.year == int(f["year"].iloc[0])]
        cutoffs = [r.cutoff_points for r in this_year if r.cutoff_points is not None]
        bachelor_residents = f["agents_bachelor_plus"].sum() + b.native_bachelor_share[gov.city] * f["natives"].sum()
        agents_and_returns = mig + f["settled_stock"].sum() + f["returns"].sum()
        rows.append({
            "year": f["year"].iloc[0], "census_day": bool(f["census_day"].iloc[0]), "city": gov.city,
            "regime": gov.regime.name, "regime_version": gov.snapshot.version,
            "residents": res, "hukou_residents": huk, "migrants": mig, "hukou_share": _ratio(huk, res),
            "migrants_other_province": f["migrants_other_province"].sum(),
            "permit_holders": f["permit_holders"].sum(), "permit_coverage": _ratio(f["permit_holders"].sum(), mig),
            "suburban_dispersion_migrants": _ratio(f["migrants"][~core].sum(), mig),
            "suburban_dispersion_residents": _ratio(f["residents"][~core].sum(), res),
            "entropy_migrants": _entropy(f["migrants"].to_numpy()),
            "talent_share_settlers": _ratio(f["settled_bachelor_plus"].sum(), settled_year),
            "talent_share_migrants": _ratio(f["migrants_bachelor_plus"].sum(), mig),
            "talent_share_residents": _ratio(bachelor_residents, res),
            **{f"settlements_{c}": f[f"settled_{c}"].sum(min_count=1) for c in CHANNEL_CATEGORIES},
            "settlements_total": settled_year,
            "time_to_hukou_years": _ratio(f["hukou_months_sum"].sum(), settled_year) / 12,
            "points_cutoff": min(cutoffs, default=np.nan),
            "queue_length": sum(r.queue for r in this_year) * model.scale,
            "school_access": _ratio(f["migrant_children_in_school"].sum(), f["migrant_children"].sum()),
            "arrivals": f["arrivals"].sum(min_count=1), "returns": f["returns"].sum(min_count=1),
            "return_rate": _ratio(f["returns"].sum(min_count=1), agents_and_returns),
            "rent_index": _ratio((f["rent_index"] * f["residents"]).sum(), res),
        })
    return pd.DataFrame(rows)
