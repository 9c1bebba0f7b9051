"""Location choice: a multinomial logit over the 41 districts and the outside option (the origin region), sampled
with the Gumbel-max trick. Terms: wage for one's skill tier, rent, commuting, public-school access given one's
status, settlement prospects, moving costs (from the origin or between districts and cities) and networks."""

from __future__ import annotations

import numpy as np

from policies.regime import CITIES
from sim.attributes import tier_of
from sim.params import ORIGINS
from sim.population import OUTSIDE, build_persons
from sim.phases.prospects import settlement_prospects

__all__ = ["choose", "district_terms"]


def district_terms(model) -> dict[str, np.ndarray]:  # noqa: ANN001
    """Per-step utility parts that do not depend on the person: ``(tier, district)``, ``(group, district)`` and
    ``(origin, district)`` tables."""
    b, state, geo, pop = model.behaviour, model.district_state, model.geography, model.population
    base = (b.beta_wage * np.log(state.wage.T) - b.beta_rent * np.log(state.rent)[None, :]
            - b.beta_commute * state.commute[None, :])
    district = pop["district"]
    here = district >= 0
    counts = np.bincount(pop["origin"][here].astype(np.int64) * geo.n + district[here],
                         minlength=len(ORIGINS) * geo.n).reshape(len(ORIGINS), geo.n)
    share = counts / np.maximum(counts.sum(axis=0, keepdims=True), 1)
    network = b.beta_network * np.log1p(share * len(ORIGINS))
    origin_cost = np.array([[b.origin_cost[o][CITIES[c]] for c in geo.city] for o in ORIGINS])
    return {"base": base.astype(np.float32), "service": (b.beta_service * state.school_access.T).astype(np.float32),
            "network": network.astype(np.float32), "origin_cost": origin_cost.astype(np.float32),
            "outside": np.array([b.outside_utility[o] for o in ORIGINS], dtype=np.float32)}


def choose(model, columns, rows: np.ndarray, *, arriving: bool) -> np.ndarray:  # noqa: ANN001
    """The chosen alternative of each migrant at ``rows``: a district index, or ``OUTSIDE`` for the origin.

    ``columns`` is the population (for migrants reconsidering) or the columns of a batch of arrivals.
    """
    b, geo, rng = model.behaviour, model.geography, model.rng
    terms = model.choice_terms
    k, n_d = len(rows), geo.n
    if k == 0:
        return np.zeros(0, dtype=np.int8)
    origin = columns["origin"][rows].astype(np.int64)
    tier = tier_of(columns["education"][rows]).astype(np.int64)
    settled = columns["settled"][rows] >= 0
    group = np.where(settled, 0, np.where(columns["permit"][rows], 1, 2))
    has_child = columns["children"][rows] > 0
    current = np.full(k, OUTSIDE, dtype=np.int64) if arriving else columns["district"][rows].astype(np.int64)
    current_city = np.where(current >= 0, geo.city[np.maximum(current, 0)], -1)

    persons = build_persons(columns, rows, date=model.date, month_index=model.month_index,
                            adcode=geo.adcode, income_tax_3y=model.tax_3y(columns, rows))
    utility = np.empty((k, n_d + 1), dtype=np.float32)
    utility[:, :n_d] = terms["base"][tier] + terms["network"][origin]
    utility[:, :n_d] += has_child[:, None] * terms["service"][group]
    utility[:, :n_d] += b.beta_prospect * settlement_prospects(model, persons, current_city, columns["formal"][rows])
    if arriving:
        utility[:, :n_d] -= terms["origin_cost"][origin]
    else:
        same_city = geo.city[None, :] == current_city[:, None]
        utility[:, :n_d] -= np.where(same_city, b.move_cost_within_city, b.move_cost_between_cities)
        utility[np.arange(k), current] += b.move_cost_within_city      # staying costs nothing
        # Hukou holders stay in their city (they may move between its districts, 穗府〔2018〕14号 三（二）7).
        utility[:, :n_d][settled[:, None] & ~same_city] = -np.inf
    utility[:, n_d] = terms["outside"][origin] - b.settled_outside_penalty * settled
    with np.errstate(divide="ignore"):
        utility -= np.log(-np.log(rng.random((k, n_d + 1), dtype=np.float32)))
    choice = np.argmax(utility, axis=1)
    return np.where(choice == n_d, OUTSIDE, choice).astype(np.int8)
