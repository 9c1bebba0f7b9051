"""Drivers from data: how the pool of potential migrants grows, by origin region, and how each city's jobs grow,
from observed series (``sim/data/drivers.csv``, each row with its source).

The pool of potential migrants of an origin is ``inflow_persons_per_year[origin]`` on the 2010 census day times
the origin's index: its series relative to the census day. Between two observations the index grows
geometrically; after the last one it grows at ``inflow_growth_per_year`` (an assumption: no observation).

Which series. Migrants from within Guangdong follow China's floating population (流动人口: 221 m at the 2010
census, 376 m at the 2020 census; Guangdong's own intra-provincial count for 2010 was not found), migrants from
Sichuan–Chongqing follow Sichuan's (10.4 m to 20.7 m), and migrants from other provinces follow the number of
Guangdong residents with a hukou in another province (21.5 m to 29.6 m), the stock they join. The census pair is
used, not the intercensal estimates (2015: 247 m, 2017: 244 m): both censuses count by one definition, and the
intercensal estimates are of the kind the cities revised upward after the 2020 census.

Jobs. Each city's jobs grow as its employment in units (单位从业人员, China City Statistical Yearbook via CSMAR)
from year to year. The series has breaks where coverage changed (Shenzhen +63% in 2013, Guangzhou +26% in 2011,
Chengdu 212 → 529 → 273 → 536 over 2012–2015 and ×1.76 in 2020): a yearly change of more than ``BREAK`` either
way is read as a break and replaced by the city's median change over the other years, and so are the years
after the series ends. Employment in units leaves out most private and individual work, where many migrants
work; it is the only series of the three cities without gaps.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from policies.cities import CITIES
from policies.errors import InputError

__all__ = ["PoolSeries", "pool_series", "CENSUS_2010", "JobSeries", "job_series", "chain_link", "BREAK"]

CENSUS_2010 = 2010 + 10 / 12   # 2010-11-01 as a year fraction (the 2020 census day is 2020.83)
BREAK = 0.20                   # a yearly change of employment beyond ±20% is a change of coverage, not of jobs


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


def chain_link(years: list[int], values: list[float], *, limit: float = BREAK) -> tuple[dict[int, float], float]:
    """Yearly growth rates of a series with its breaks removed: ``({year: growth from the year before}, median)``.

    A change beyond ``limit`` either way, or a year missing, takes the median of the other years' changes."""
    observed = dict(zip(years, values, strict=True))
    changes = {y: observed[y] / observed[y - 1] - 1 for y in observed if y - 1 in observed}
    kept = [g for g in changes.values() if abs(g) <= limit]
    median = float(np.median(kept)) if kept else 0.0
    growth = {y: (g if abs(g) <= limit else median) for y, g in changes.items()}
    for y in range(min(years) + 1, max(years) + 1):
        growth.setdefault(y, median)
    return growth, median


@dataclass(frozen=True)
class JobSeries:
    """Each city's yearly job growth, breaks removed (``chain_link``), and the median used after the data end."""

    growth: dict[str, dict[int, float]]
    after: dict[str, float]

    def yearly_rate(self, city: str, year: int) -> float:
        """The city's job growth over calendar year ``year`` (the change to that year's figure from the last)."""
        return self.growth.get(city, {}).get(year, self.after[city])


@cache
def job_series() -> JobSeries:
    """The shipped employment series (``sim/data/drivers.csv``, rows of series ``employment``)."""
    text = resources.files("sim.data").joinpath("drivers.csv").read_text(encoding="utf-8")
    points: dict[str, list[tuple[int, float]]] = {}
    for row in csv.DictReader(text.splitlines()):
        if row["series"] == "employment":
            points.setdefault(row["key"], []).append((int(float(row["year"])), float(row["value"])))
    missing = [c for c in CITIES if len(points.get(c, [])) < 2]
    if missing:
        raise InputError(f"no employment series (two years or more) for {', '.join(missing)}",
                         file="sim/data/drivers.csv", field="key")
    growth, after = {}, {}
    for city, pairs in points.items():
        pairs.sort()
        growth[city], after[city] = chain_link([y for y, _ in pairs], [v for _, v in pairs])
    return JobSeries(growth, after)
