"""Exits: migrants without local hukou who reach retirement age mostly return to their origin (returns for other
reasons come from location choice)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.population import OUTSIDE

if TYPE_CHECKING:
    from sim.model import HukouModel

__all__ = ["retire"]


def retire(model: HukouModel) -> None:
    """Migrants reaching retirement age this step return with ``retirement_return_probability``."""
    b, pop, rng = model.behaviour, model.population, model.rng
    birth = pop["birth_month"]
    reaching = np.zeros(len(pop), dtype=bool)
    for sex, age in ((0, b.retirement_age["female"]), (1, b.retirement_age["male"])):
        # born so that the retirement birthday falls in one of this step's months
        first = model.month_index - 12 * age
        reaching |= (birth >= first) & (birth < first + model.step_months) & (pop["sex"] == sex)
    rows = np.flatnonzero(reaching & (pop["district"] >= 0) & (pop["settled"] < 0))
    rows = rows[rng.random(len(rows)) < b.retirement_return_probability]
    district = pop["district"][rows]
    model.flows.add("retirements", district)
    model.events.add("retire", pop["uid"][rows], model.t, district)
    pop["district"][rows] = OUTSIDE
