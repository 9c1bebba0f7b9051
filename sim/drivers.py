"""Drivers from data: how the pool of potential migrants grows, by origin region, from observed series
(``sim/data/drivers.csv``, each row with its source).

The pool of potential migrants of an origin is ``inflow_persons_per_year[origin]`` on the 2010 census day times
the origin's index: its series relative to the census day. Between two observations the index grows
geometrically; after the last one it grows at ``inflow_growth_per_year`` (an assumption: no observation).

Which series. Migrants from within Guangdong follow China's floating population (流动人口: 221 m at the 2010
census, 376 m at the 2020 census; Guangdong's own intra-provincial count for 2010 was not found), migrants from
Sichuan–Chongqing follow Sichuan's (10.4 m to 20.7 m), and migrants from other provinces follow the number of
Guangdong residents with a hukou in another province (21.5 m to 29.6 m), the stock they join. The census pair is
used, not the intercensal estimates (2015: 247 m, 2017: 244 m): both censuses count by one definition, and the
intercensal estimates are of the kind the cities revised upward after the 2020 census.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

__all__ = ["PoolSeries", "pool_series", "CENSUS_2010"]

CENSUS_2010 = 2010 + 10 / 12   # 2010-11-01 as a year fraction (the 2020 census day is 2020.83)


@dataclass(frozen=True)
class PoolSeries:
    """Observed points ``(year, value)`` of each origin's series, in year order."""

    points: dict[str, tuple[tuple[float, float], ...]]

    def index(self, origin: str, year: float, growth_after: float) -> float:
        """The origin's series at ``year`` relative to the 2010 census day: geometric between observations and
        before the first, ``growth_after`` a year after the last."""
        points = self.points[origin]
        years = np.array([p[0] for p in points])
        logs = np.log([p[1] for p in points])
        base = float(np.interp(CENSUS_2010, years, logs))
        if year > years[-1]:
            return float(np.exp(logs[-1] - base) * (1 + growth_after) ** (year - years[-1]))
        if year < years[0] and len(points) > 1:     # before the first observation: the first interval's trend
            slope = (logs[1] - logs[0]) / (years[1] - years[0])
            return float(np.exp(logs[0] + slope * (year - years[0]) - base))
        return float(np.exp(np.interp(year, years, logs) - base))


@cache
def pool_series() -> PoolSeries:
    """The shipped pool series (``sim/data/drivers.csv``, rows of series ``pool``)."""
    text = resources.files("sim.data").joinpath("drivers.csv").read_text(encoding="utf-8")
    points: dict[str, list[tuple[float, float]]] = {}
    for row in csv.DictReader(text.splitlines()):
        if row["series"] == "pool":
            points.setdefault(row["key"], []).append((float(row["year"]), float(row["value"])))
    return PoolSeries({k: tuple(sorted(v)) for k, v in points.items()})
