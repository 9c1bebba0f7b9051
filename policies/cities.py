"""The modelled cities: the one place for their codes, names, adcode prefixes and home origins.

Everything that lists the cities (the model's city index, regimes, the calculator, spatial levers, the dashboard,
the validation report) imports them from here, so adding a city starts in this table (and in the data: the
district table ``sim/data/districts.csv``, a regime file, the per-city behavioural parameters).

- ``CITIES``: the city codes, in the model's order (a city's index in the model is its place here).
- ``CITY_NAMES``: each city's name in English (as the district table spells it) and in Chinese.
- ``ADCODE_PREFIX``: the first four digits of a district's adcode name its prefecture-level city (GB/T 2260).
- ``HOME_ORIGIN``: the origin region of the city's own province; a migrant from any other origin region is "from
  another province" (the census's 户口登记地在外省), and a census-day migrant from inside the province has it.
- ``OUT_OF_PROVINCE_TABLE``: the key of the city's row in the behavioural table ``origin_of_out_of_province``
  (the origin regions of the census-day migrants from other provinces).
"""

from __future__ import annotations

__all__ = ["CITIES", "CITY_NAMES", "ADCODE_PREFIX", "HOME_ORIGIN", "OUT_OF_PROVINCE_TABLE", "DAPENG_ADCODE",
           "city_of_adcode"]

CITIES = ("shenzhen", "guangzhou", "chengdu")
CITY_NAMES = {"shenzhen": ("Shenzhen", "深圳"), "guangzhou": ("Guangzhou", "广州"), "chengdu": ("Chengdu", "成都")}
ADCODE_PREFIX = {"shenzhen": 4403, "guangzhou": 4401, "chengdu": 5101}
HOME_ORIGIN = {"shenzhen": "guangdong", "guangzhou": "guangdong", "chengdu": "sichuan_chongqing"}
OUT_OF_PROVINCE_TABLE = {"shenzhen": "guangdong", "guangzhou": "guangdong", "chengdu": "chengdu"}
# Dapeng New Area (Shenzhen) is a functional area without a county-level adcode; this project assigns it 440399.
DAPENG_ADCODE = 440399

_CITY_OF_PREFIX = {str(prefix): city for city, prefix in ADCODE_PREFIX.items()}


def city_of_adcode(adcode: int) -> str | None:
    """The modelled city an adcode belongs to (None for 0 or another city)."""
    return _CITY_OF_PREFIX.get(str(adcode)[:4])
