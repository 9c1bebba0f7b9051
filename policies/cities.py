"""The modelled cities: the one place for their codes, names, adcode prefixes and home origins.

They are data, the table ``policies/data/cities.csv`` (one row per city, with its source); this module reads it
once. Everything that lists the cities (the model's city index, regimes, the calculator, spatial levers, the
dashboard, the validation report) imports them from here, so adding a city adds a row there and no code
(CONTRIBUTING.md, "Add a city"; tests/sim/test_fourth_city.py does it).

- ``CITIES``: the city codes, in the table's order, which is the model's (a city's index in the model is its
  place here).
- ``CITY_NAMES``: each city's name in English (as the district table ``sim/data/districts.csv`` spells it) and in
  Chinese.
- ``ADCODE_PREFIX``: the first four digits of a district's adcode name its prefecture-level city (GB/T 2260).
- ``HOME_ORIGIN``: the origin region of the city's own province; a migrant from any other origin region is "from
  another province" (the census's 户口登记地在外省), and a census-day migrant from inside the province has it.
- ``OUT_OF_PROVINCE_TABLE``: the key of the city's row in the behavioural table ``origin_of_out_of_province``
  (the origin regions of the census-day migrants from other provinces).
- ``OUTER_ZONE``: the model's zone (``sim.geography.ZONES``) of the districts the district table labels "outer":
  contiguous suburbs (``outer_suburb``) or counties (``exurb``).
"""

from __future__ import annotations

import csv
from importlib import resources

from policies.errors import InputError

__all__ = ["CITIES", "CITY_NAMES", "ADCODE_PREFIX", "HOME_ORIGIN", "OUT_OF_PROVINCE_TABLE", "OUTER_ZONE",
           "DAPENG_ADCODE", "city_of_adcode", "parse_cities"]

FILE = "policies/data/cities.csv"
_COLUMNS = ("city", "name_en", "name_cn", "adcode_prefix", "home_origin", "out_of_province_table", "outer_zone",
            "source")
_OUTER_ZONES = ("outer_suburb", "exurb")


def parse_cities(text: str) -> list[dict[str, str]]:
    """The table's rows, each checked: every column filled, a four-digit adcode prefix, a known outer zone, no
    city or prefix twice (a mistake is one line naming the file, line and column)."""
    reader = csv.DictReader(text.splitlines())
    if tuple(reader.fieldnames or ()) != _COLUMNS:
        raise InputError(f"columns must be {', '.join(_COLUMNS)}", file=FILE, line=1)
    rows: list[dict[str, str]] = []
    for line, row in enumerate(reader, start=2):
        for column in _COLUMNS:
            if not (row.get(column) or "").strip():
                raise InputError("empty", file=FILE, line=line, field=column)
        if not (row["adcode_prefix"].isdigit() and len(row["adcode_prefix"]) == 4):
            raise InputError("not a four-digit adcode prefix (GB/T 2260)", file=FILE, line=line, field="adcode_prefix")
        if row["outer_zone"] not in _OUTER_ZONES:
            raise InputError(f"one of {', '.join(_OUTER_ZONES)}", file=FILE, line=line, field="outer_zone")
        for column in ("city", "adcode_prefix"):
            if any(r[column] == row[column] for r in rows):
                raise InputError(f"{row[column]!r} twice", file=FILE, line=line, field=column)
        rows.append(row)
    return rows


_ROWS = parse_cities(resources.files("policies").joinpath("data", "cities.csv").read_text(encoding="utf-8"))
CITIES = tuple(r["city"] for r in _ROWS)
CITY_NAMES = {r["city"]: (r["name_en"], r["name_cn"]) for r in _ROWS}
ADCODE_PREFIX = {r["city"]: int(r["adcode_prefix"]) for r in _ROWS}
HOME_ORIGIN = {r["city"]: r["home_origin"] for r in _ROWS}
OUT_OF_PROVINCE_TABLE = {r["city"]: r["out_of_province_table"] for r in _ROWS}
OUTER_ZONE = {r["city"]: r["outer_zone"] for r in _ROWS}
# Dapeng New Area (Shenzhen) is a functional area without a county-level adcode; this project assigns it 440399.
DAPENG_ADCODE = 440399

_CITY_OF_PREFIX = {str(prefix): city for city, prefix in ADCODE_PREFIX.items()}


def city_of_adcode(adcode: int) -> str | None:
    """The modelled city an adcode belongs to (None for 0 or another city)."""
    return _CITY_OF_PREFIX.get(str(adcode)[:4])
