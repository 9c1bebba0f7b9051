"""Arrivals from the origin regions and relocation of migrants already in the cities (moves and returns)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.attributes import draw_migrants
from sim.parallel import ordered_map
from sim.params import ORIGINS
from sim.phases.choice import choose
from sim.population import OUTSIDE
from sim.sampling import bernoulli_rows

if TYPE_CHECKING:
    from sim.model import HukouModel

__all__ = ["arrive", "relocate", "stochastic_round"]


def stochastic_round(rng: np.random.Generator, x: float) -> int:
    """``floor(x)`` plus one with probability ``x − floor(x)``: unbiased whole numbers of agents."""
    whole = int(np.floor(x))
    return whole + int(rng.random() < x - whole)


def arrive(model: HukouModel) -> None:
    """Potential migrants from each origin weigh the 41 districts against staying; those who pick a district
    arrive. The pool per origin is ``inflow_persons_per_year`` on the census day, grown as the origin's observed
    migration series (``sim.drivers``)."""
    b, rng = model.behaviour, model.rng
    factor = model.step_months / 12 / model.scale
    counts = [rng.poisson(b.inflow_persons_per_year[o] * model.pool_index(o, model.date) * factor) for o in ORIGINS]
    origin = np.repeat(np.arange(len(ORIGINS), dtype=np.uint8), counts)
    if len(origin) == 0:
        return
    columns = draw_migrants(rng, origin, b, month_index=model.month_index, step=model.t, threads=model.threads)
    columns["district"] = np.full(len(origin), OUTSIDE, dtype=np.int8)
    choice = choose(model, columns, np.arange(len(origin)), arriving=True)
    chosen = np.flatnonzero(choice != OUTSIDE)  # integer indices: a random boolean mask indexes ten times slower
    pool, names = columns, list(columns)
    columns = dict(zip(names, ordered_map(lambda name: pool[name][chosen], names, model.threads), strict=True))
    columns["district"] = choice[chosen]
    rows = model.population.append(columns)
    model.flows.add("arrivals", columns["district"])
    model.events.add("arrive", model.population["uid"][rows], model.t, columns["district"])


def relocate(model: HukouModel) -> None:
    """Each migrant reconsiders with a yearly probability: stay, move to another district or city, or return."""
    pop, rng, geo = model.population, model.rng, model.geography
    p = 1 - (1 - model.behaviour.reconsider_rate) ** (model.step_months / 12)
    rows = bernoulli_rows(rng, len(pop), p, eligible=pop["district"] >= 0, threads=model.threads)
    choice = choose(model, pop, rows, arriving=False)
    old = pop["district"][rows]
    leaving = np.flatnonzero(choice == OUTSIDE)     # indices, not masks: they index several arrays below
    moving = np.flatnonzero((choice != OUTSIDE) & (choice != old))
    gone, moved = rows[leaving], rows[moving]

    model.flows.add("returns", old[leaving])
    model.flows.add("moves_out", old[moving])
    model.flows.add("moves_in", choice[moving])
    model.events.add("return", pop["uid"][gone], model.t, old[leaving])
    model.events.add("move", pop["uid"][moved], model.t, choice[moving])

    changed_city = geo.city[choice[moving]] != geo.city[old[moving]]
    new_city = moved[changed_city]
    model.events.add("lose_permit", pop["uid"][new_city[pop["permit"][new_city]]], model.t, 0)
    pop["district"][moved] = choice[moving]
    pop["district"][gone] = OUTSIDE
    # Records are kept per city: a move to another city starts them again (and a settled migrant never does).
    for name in ("months_in_city", "si_months", "permit_months", "school_level"):
        pop[name][new_city] = 0
    pop["permit"][new_city] = False
