"""Residence registration and permits: eligible migrants apply with the regime's take-up rate and get a permit
(暂住证 or 居住证, whichever the city's regime issues on the date)."""

from __future__ import annotations

import numpy as np

from sim.parallel import chunk_size, ordered_map
from sim.sampling import bernoulli_rows

__all__ = ["issue_permits"]
CHUNK = 65_536  # migrants per batch of rule evaluation (bounds the memory of the Persons batch)


def issue_permits(model) -> None:  # noqa: ANN001
    """Each city grants permits to eligible applicants among its migrants without one.

    Who applies this step (the take-up draw) is decided first, and the city's permit rule is evaluated for the
    applicants only: the same chance of a permit (applying and eligible, independently) for a fifth of the work,
    since at the usual take-up a fifth of the migrants without a permit apply in a quarter.
    """
    pop, rng, geo = model.population, model.rng, model.geography
    district = pop["district"]
    without = (district >= 0) & ~pop["permit"] & (pop["settled"] < 0)
    city = geo.city.astype(np.int8)[np.maximum(district, 0)]
    for gov in model.governments:
        rule = gov.permit_rule()
        if rule is None:
            continue
        p = 1 - (1 - float(rule.params.get("take_up", 1.0))) ** (model.step_months / 12)
        applying = bernoulli_rows(rng, len(pop), p, eligible=without & (city == gov.city_index),
                                  threads=model.threads)
        if len(applying) == 0:
            continue
        chunks = np.array_split(applying, max(1, -(-len(applying) // chunk_size(model, CHUNK))))
        eligible = np.concatenate(list(ordered_map(
            lambda chunk, rule=rule: rule.rules.eligible(model.persons(chunk), rule.params).eligible,
            chunks, model.threads)))
        granted = applying[eligible]
        pop["permit"][granted] = True
        pop["permit_months"][granted] = 0
        model.events.add("permit", pop["uid"][granted], model.t, district[granted])
