"""Exits: migrants without local hukou who reach retirement age mostly return to their origin (returns for other
reasons come from location choice)."""

from __future__ import annotations

import numpy as np

from sim.population import OUTSIDE

__all__ = ["retire"]


def retire(model) -> None:  # noqa: ANN001
    """Migrants reaching retirement age this step return with ``retirement_return_probability``."""
    b, pop, rng = model.behaviour, model.population, model.rng
    age_months = model.month_index - pop["birth_month"].astype(np.int32)
    limit = np.where(pop["sex"] == 1, b.retirement_age["male"], b.retirement_age["female"]) * 12
    reaching = ((pop["district"] >= 0) & (pop["settled"] < 0) & (age_months >= limit)
                & (age_months < limit + model.step_months))
    rows = np.flatnonzero(reaching)
    rows = rows[rng.random(len(rows)) < b.retirement_return_probability]
    district = pop["district"][rows]
    model.flows.add("retirements", district)
    model.events.add("retire", pop["uid"][rows], model.steps, district)
    pop["district"][rows] = OUTSIDE
