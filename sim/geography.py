"""The 41 districts of Shenzhen, Guangzhou and Chengdu on the 2010 census day, from the shipped census table.

Derived values, each a documented choice (docs/model.md, "Initial state"):
- Migrants per district = max(residents − registered, out-of-province residents). Registration can exceed
  residents (Yuexiu, outer Chengdu counties: people registered there live elsewhere); there the census count of
  residents registered in another province is a lower bound of the district's migrants.
- Shenzhen's Bao'an, Longgang, Longhua, Pingshan, Guangming and Dapeng have no published 2010 registered count
  (only old Bao'an and Longgang aggregates). The city total (2,510,145: the 2010 ``hukou_pop`` of
  ``sim/data/city_population.csv``, read by ``hukou_2010_totals`` for a city with a district lacking a count) minus
  the four districts with a count is shared among them in proportion to residents (assumption: no finer source was
  found).
- Dapeng New Area is a functional area without a county-level adcode; it gets 440399, a code this project assigns
  (``policies.cities.DAPENG_ADCODE``).
- Shenshan (an exclave administered since 2018) is left out.
- Zones are normalised to core / inner_suburb / outer_suburb / new_town / exurb from the table's zone labels; this
  module is the one place for the zones (``ZONES``, ``CORE_ZONE``). An "outer" label is the city's ``outer_zone``
  (``policies/data/cities.csv``).
- The cities are the rows of ``policies/data/cities.csv`` (``policies.cities``); the district table names each
  district's city by its English name there.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from policies.cities import CITIES, CITY_NAMES, DAPENG_ADCODE, OUTER_ZONE
from policies.errors import InputError

__all__ = ["ZONES", "CORE_ZONE", "CITIES", "Geography", "load_geography", "DAPENG_ADCODE", "hukou_2010_totals"]

ZONES = ("core", "inner_suburb", "outer_suburb", "new_town", "exurb")
CORE_ZONE = ZONES[0]  # the central districts; the other zones are the suburbs of "suburban dispersion"
_CITY_OF_LABEL = {english: city for city, (english, _) in CITY_NAMES.items()}


def _zone(city: str, label: str) -> str:
    """Normalise the table's zone label to one of ``ZONES``."""
    label = label.strip().lower()
    if label.startswith("core"):
        return CORE_ZONE
    if label.startswith("inner-suburb"):
        return "inner_suburb"
    if label.startswith(("outer-newtown", "new-town", "suburban-new-town")):
        return "new_town"
    if label.startswith("exurb"):
        return "exurb"
    if label.startswith("outer"):
        # Guangzhou's and Shenzhen's "outer" districts are contiguous suburbs; Chengdu's are its counties.
        return OUTER_ZONE[city]
    raise ValueError(f"unknown zone label {label!r}")


@dataclass(frozen=True)
class Geography:
    """District attributes as aligned arrays (index = district number used by the model)."""

    adcode: np.ndarray          # int32
    name: tuple[str, ...]
    name_cn: tuple[str, ...]
    city: np.ndarray            # int8 index into CITIES
    zone: np.ndarray            # int8 index into ZONES
    residents_2010: np.ndarray  # int64, census 2010-11-01
    hukou_2010: np.ndarray      # int64, registered (estimated where noted)
    other_province_2010: np.ndarray  # int64 (0 where not published)
    migrants_2010: np.ndarray   # int64
    natives_2010: np.ndarray    # int64 = residents − migrants

    @property
    def n(self) -> int:
        """Number of districts."""
        return int(self.adcode.shape[0])

    def index_of_adcode(self, adcodes: np.ndarray) -> np.ndarray:
        """District indices of ``adcodes`` (−1 where not one of ours)."""
        order = np.argsort(self.adcode)
        pos = np.searchsorted(self.adcode[order], adcodes)
        pos = np.clip(pos, 0, self.n - 1)
        found = self.adcode[order][pos] == adcodes
        return np.where(found, order[pos], -1)


def _rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(resources.files("sim.data").joinpath(name).read_text(encoding="utf-8").splitlines()))


@cache
def hukou_2010_totals(cities: tuple[str, ...]) -> dict[str, int]:
    """Registered residents of each of ``cities`` on the 2010 census day: the year-2010 ``hukou_pop`` of
    ``sim/data/city_population.csv`` (for Shenzhen the census yearbook's count, high confidence)."""
    totals = {}
    for row in _rows("city_population.csv"):
        city = _CITY_OF_LABEL.get(row["city"])
        if city in cities and row["year"] == "2010":
            totals[city] = int(row["hukou_pop"])
    for city in cities:
        if city not in totals:
            raise InputError(f"{city} has districts without hukou_2010 and no 2010 row with hukou_pop",
                             file="sim/data/city_population.csv", field="hukou_pop")
    return totals


@cache
def load_geography() -> Geography:
    """Read ``sim/data/districts.csv`` (shipped with its sources) into a ``Geography``."""
    rows = _rows("districts.csv")
    for line, r in enumerate(rows, start=2):
        if r["city"] not in _CITY_OF_LABEL:
            raise InputError(f"unknown city {r['city']!r} (the name_en of a row of policies/data/cities.csv: "
                             f"{', '.join(_CITY_OF_LABEL)})", file="sim/data/districts.csv", line=line, field="city")
    rows = [r for r in rows if not r["zone"].startswith("exclave")]
    city = [_CITY_OF_LABEL[r["city"]] for r in rows]
    adcode = [int(r["adcode"]) if r["adcode"] else DAPENG_ADCODE for r in rows]
    residents = np.array([int(r["pop_2010"]) for r in rows], dtype=np.int64)
    hukou_known = np.array([bool(r["hukou_2010"]) for r in rows])
    hukou = np.array([int(r["hukou_2010"]) if r["hukou_2010"] else 0 for r in rows], dtype=np.int64)
    other = np.array([int(r["res_hukou_other_province_2010"] or 0) for r in rows], dtype=np.int64)

    lacking = tuple(dict.fromkeys(c for c, known in zip(city, hukou_known, strict=True) if not known))
    for name, total in hukou_2010_totals(lacking).items():
        mine = np.array([c == name for c in city])
        missing = mine & ~hukou_known
        remainder = total - hukou[mine & hukou_known].sum()
        share = residents[missing] / residents[missing].sum()
        hukou[missing] = np.round(remainder * share).astype(np.int64)

    migrants = np.maximum(residents - hukou, other)
    return Geography(
        adcode=np.array(adcode, dtype=np.int32),
        name=tuple(r["district_en"] for r in rows),
        name_cn=tuple(r["district_cn"] for r in rows),
        city=np.array([CITIES.index(c) for c in city], dtype=np.int8),
        zone=np.array([ZONES.index(_zone(c, r["zone"])) for c, r in zip(city, rows, strict=True)], dtype=np.int8),
        residents_2010=residents,
        hukou_2010=hukou,
        other_province_2010=other,
        migrants_2010=migrants,
        natives_2010=residents - migrants,
    )
