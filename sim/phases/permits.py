"""Residence registration and permits: eligible migrants apply with the regime's take-up rate and get a permit
(暂住证 or 居住证, whichever the city's regime issues on the date)."""

from __future__ import annotations

import numpy as np

from sim.parallel import chunk_size, ordered_map
from sim.sampling import bernoulli_rows

__all__ = ["issue_permits"]
CHUNK = 65_536  # migrants per batch of rule evaluation (bounds the memory of the Persons batch)


def issue_permits(model) -> None:  # noqa: ANN001
    """Each city grants permits to eligible applicants among its migrants without one."""
    pop, rng, geo = model.population, model.rng, model.geography
    district = pop["district"]
    without = (district >= 0) & ~pop["permit"] & (pop["settled"] < 0)
    for gov in model.governments:
        rule = gov.permit_rule()
        if rule is None:
            continue
        rows = np.flatnonzero(without & (geo.city[np.maximum(district, 0)] == gov.city_index))
        if len(rows) == 0:
            continue
        chunks = np.array_split(rows, max(1, -(-len(rows) // chunk_size(model, CHUNK))))
        eligible = np.concatenate(list(ordered_map(
            lambda chunk, rule=rule: rule.rules.eligible(model.persons(chunk), rule.params).eligible,
            chunks, model.threads)))
        p = 1 - (1 - float(rule.params.get("take_up", 1.0))) ** (model.step_months / 12)
        granted = rows[bernoulli_rows(rng, len(rows), p, eligible=eligible, threads=model.threads)]
        pop["permit"][granted] = True
        pop["permit_months"][granted] = 0
        model.events.add("permit", pop["uid"][granted], model.t, district[granted])
