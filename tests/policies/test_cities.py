"""The one table of the modelled cities (policies/data/cities.csv, read by policies/cities.py) agrees with itself and
with the district table, and a bad row is one line naming the file, line and column."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from policies.cities import (
    ADCODE_PREFIX,
    CITIES,
    CITY_NAMES,
    DAPENG_ADCODE,
    HOME_ORIGIN,
    OUT_OF_PROVINCE_TABLE,
    OUTER_ZONE,
    city_of_adcode,
    parse_cities,
)
from policies.errors import InputError

DISTRICTS_CSV = Path(__file__).parents[2] / "sim" / "data" / "districts.csv"
CITIES_CSV = Path(__file__).parents[2] / "policies" / "data" / "cities.csv"


def test_every_table_covers_every_city() -> None:
    for table in (CITY_NAMES, ADCODE_PREFIX, HOME_ORIGIN, OUT_OF_PROVINCE_TABLE, OUTER_ZONE):
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


@pytest.mark.parametrize(("edit", "where"), [
    (lambda row: row.replace(",4401,", ",44011,"), ":3: adcode_prefix: not a four-digit adcode prefix"),
    (lambda row: row.replace(",outer_suburb,", ",suburb,"), ":3: outer_zone: one of outer_suburb, exurb"),
    (lambda row: row.replace(",广州,", ",,"), ":3: name_cn: empty"),
    (lambda row: row.replace("guangzhou,Guangzhou", "shenzhen,Guangzhou"), ":3: city: 'shenzhen' twice"),
])
def test_a_bad_row_is_one_line_naming_line_and_column(edit: Callable[[str], str], where: str) -> None:
    header, first, second, *rest = CITIES_CSV.read_text(encoding="utf-8").splitlines()
    assert second.startswith("guangzhou,")
    text = "\n".join([header, first, edit(second), *rest])
    with pytest.raises(InputError) as caught:
        parse_cities(text)
    assert caught.value.one_line().startswith("policies/data/cities.csv" + where)
