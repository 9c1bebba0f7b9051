"""``model.migrant(uid)`` in words: the stored codes of one migrant turned into the names a reader knows.

Why separate: migrant state is columnar small integers (an int8 district index, uint8 education code) so that a
million agents fit in 64 bytes each; a person inspecting one migrant wants "Nanshan (440305)" and "bachelor", not
``district: 15`` and ``education: 5``. Decoding one migrant here keeps the hot columns as they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from types import MappingProxyType
from typing import Any

from policies.regime import CITIES
from policies.schema import EDUCATION, HOUSING, SEX, SKILL, TITLE
from sim.geography import Geography
from sim.params import ORIGINS
from sim.phases.services import BARRED, UNRANKED
from sim.population import RECORD_BITS, MigrantView

__all__ = ["describe"]

_BIRTH_EPOCH = 1950  # birth_month counts months since 1950-01 (sim/population.py)


def describe(view: MigrantView, geography: Geography, channels: Sequence[str],
             steps: Sequence[dt.date]) -> MigrantView:
    """The same view with codes replaced by names: district (name and adcode, or "outside" once left), sex,
    education, title, skill, origin, housing, settlement channel, birth month, the date of settling, the records
    held (a list of names) and the school tier; history
    values of arrive/move/permit/return/retire events become districts and of settle events channels."""

    def district(i: int) -> str:
        return "outside" if i < 0 else f"{geography.name[i]} ({int(geography.adcode[i])})"

    def channel(code: int) -> str:
        return "not settled" if code < 0 else channels[code] if code < len(channels) else f"channel {code}"

    def step_date(step: int) -> str | None:
        return steps[step].isoformat() if 0 <= step < len(steps) else None

    decoders: dict[str, Callable[[Any], Any]] = {
        "district": district, "settled": channel, "sex": SEX.__getitem__, "education": EDUCATION.__getitem__,
        "title": TITLE.__getitem__, "skill": SKILL.__getitem__, "origin": ORIGINS.__getitem__,
        "housing": HOUSING.__getitem__, "settle_step": step_date,
        "birth_month": lambda m: f"{_BIRTH_EPOCH + m // 12}-{m % 12 + 1:02d}",
        "records": lambda bits: [name for name, bit in RECORD_BITS.items() if int(bits) & bit],
        "school_level": lambda k: ("unranked" if k == UNRANKED else "no public school" if k == BARRED
                                   else f"tier {int(k)}"),
    }
    attributes = {name: decoders[name](value) if name in decoders else value
                  for name, value in view.attributes.items()}
    if "district" in view.attributes and view.attributes["district"] >= 0:
        attributes["city"] = CITIES[int(geography.city[int(view.attributes["district"])])]
    by_event: dict[str, Callable[[Any], Any]] = {"arrive": district, "move": district, "permit": district,
                                                  "return": district, "retire": district, "settle": channel}
    history = tuple({**h, "value": by_event[h["event"]](h["value"]) if h["event"] in by_event else h["value"]}
                    for h in view.history)
    return MigrantView(view.uid, MappingProxyType(attributes), history)
