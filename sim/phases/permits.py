"""Residence registration and permits: eligible migrants apply with the regime's take-up rate and get a permit
(暂住证 or 居住证, whichever the city's regime issues on the date)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from policies.allocation import chance_per_step
from policies.regime import ActiveMechanism
from sim.parallel import ordered_map, split_rows
from sim.sampling import bernoulli_rows

if TYPE_CHECKING:
    from sim.model import HukouModel

__all__ = ["issue_permits"]
CHUNK = 65_536  # migrants per batch of rule evaluation (bounds the memory of the Persons batch)


def issue_permits(model: HukouModel) -> None:
    """Each city grants permits to eligible applicants among its migrants without one.

    Who applies this step (the take-up draw, one for all cities) is decided first, and each city's permit rule
    is evaluated for its applicants only: the same chance of a permit (applying and eligible, independently) for
    a fifth of the work, since at the usual take-up a fifth of the migrants without a permit apply in a quarter.
    """
    pop, geo = model.population, model.geography
    district = pop["district"]
    rules = [gov.permit_rule() for gov in model.governments]
    take_up = np.array([0.0 if rule is None else chance_per_step(rule.params["take_up"], model.step_months)
                        for rule in rules], dtype=np.float32)
    city = geo.city.astype(np.int8)[np.maximum(district, 0)]
    without = (district >= 0) & ~pop["permit"] & (pop["settled"] < 0)
    applying = bernoulli_rows(model.rng, len(pop), take_up[city], eligible=without, threads=model.threads)
    applicant_city = city[applying]
    for gov, rule in zip(model.governments, rules, strict=True):
        mine = applying[applicant_city == gov.city_index]
        if rule is None or len(mine) == 0:
            continue

        def eligible_in(chunk: np.ndarray, rule: ActiveMechanism = rule) -> np.ndarray:
            return rule.as_permit.eligible(model.persons(chunk), rule.params, None).eligible

        eligible = np.concatenate(list(ordered_map(eligible_in, split_rows(model, mine, CHUNK), model.threads)))
        granted = mine[eligible]
        pop["permit"][granted] = True
        pop["permit_months"][granted] = 0
        model.events.add("permit", pop["uid"][granted], model.t, district[granted])
