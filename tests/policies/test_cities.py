"""The one table of the modelled cities (policies/cities.py) agrees with itself and with the district table."""

from __future__ import annotations

import csv
from pathlib import Path

from policies.cities import (
    ADCODE_PREFIX,
    CITIES,
    CITY_NAMES,
    DAPENG_ADCODE,
    HOME_ORIGIN,
    OUT_OF_PROVINCE_TABLE,
    city_of_adcode,
)

DISTRICTS_CSV = Path(__file__).parents[2] / "sim" / "data" / "districts.csv"


def test_every_table_covers_every_city() -> None:
    for table in (CITY_NAMES, ADCODE_PREFIX, HOME_ORIGIN, OUT_OF_PROVINCE_TABLE):
        assert tuple(table) == CITIES


def test_every_district_of_the_table_belongs_to_its_city() -> None:
    """The English city names are the district table's, and each adcode's prefix names its row's city."""
    english = {name: city for city, (name, _) in CITY_NAMES.items()}
    with DISTRICTS_CSV.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["city"] for r in rows} == set(english)
    for r in rows:
        adcode = int(r["adcode"]) if r["adcode"] else DAPENG_ADCODE
        assert city_of_adcode(adcode) == english[r["city"]], r


def test_city_of_adcode_outside_the_model() -> None:
    assert city_of_adcode(0) is None
    assert city_of_adcode(110101) is None
