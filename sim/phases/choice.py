"""Location choice: a multinomial logit over the 41 districts and the outside option (the origin region). Terms:
wage for one's skill tier, rent, commuting, public-school access given one's status, settlement prospects, moving
costs (from the origin or between districts and cities) and networks.

How it is computed fast, exactly:
- Every term but two depends only on a chooser's *type* (skill tier, origin, status, a school-age child, current
  city): a few hundred types. Their utilities, and ``exp`` of them, are computed once per step.
- The two personal terms enter as factors: settlement prospects are constant within a city's group of districts
  with the same points bonus, so ``exp(beta * prospect)`` is computed per chooser and group, not per district;
  staying in one's current district (no moving cost) is one factor per chooser.
- Sampling: DESIGN suggests the Gumbel-max trick (argmax of utility plus a Gumbel draw per alternative). Drawing by
  the inverse of each chooser's cumulative logit weights gives exactly the same distribution with one uniform draw
  per chooser instead of one per alternative and no logarithms.
Choosers are processed in chunks so the temporary (choosers × alternatives) arrays stay small.
"""

from __future__ import annotations

import numpy as np

from policies.regime import CITIES
from sim.counting import count_by
from sim.params import ORIGINS
from sim.phases.prospects import settlement_prospects
from sim.population import OUTSIDE, build_persons

__all__ = ["choose", "district_terms", "sample_from_weights", "CHUNK"]

CHUNK = 32_768
N_GROUPS = 3     # status: hukou, permit, none
N_CURRENT = len(CITIES) + 1  # current city, or none (arrivals)


def _type_index(tier, origin, group, child, current_city):  # noqa: ANN001, ANN202
    return (((tier * len(ORIGINS) + origin) * N_GROUPS + group) * 2 + child) * N_CURRENT + current_city + 1


def district_terms(model) -> dict[str, np.ndarray]:  # noqa: ANN001
    """Logit weights ``exp(utility)`` of every chooser type over the districts and the outside option (last)."""
    b, state, geo, pop = model.behaviour, model.district_state, model.geography, model.population
    n_d = geo.n
    base = (b.beta_wage * np.log(state.wage.T) - b.beta_rent * np.log(state.rent)[None, :]
            - b.beta_commute * state.commute[None, :])                               # (tier, district)
    district = pop["district"]
    cell = np.where(district >= 0, pop["origin"].astype(np.int16) * n_d + district, -1)
    counts = count_by(cell, len(ORIGINS) * n_d).reshape(len(ORIGINS), n_d)
    share = counts / np.maximum(counts.sum(axis=0, keepdims=True), 1)
    network = b.beta_network * np.log1p(share * len(ORIGINS))                         # (origin, district)
    service = b.beta_service * state.school_access.T                                  # (group, district)
    origin_cost = np.array([[b.origin_cost[o][CITIES[c]] for c in geo.city] for o in ORIGINS])
    outside = np.array([b.outside_utility[o] for o in ORIGINS])

    tier, origin, group, child, current = np.meshgrid(np.arange(3), np.arange(len(ORIGINS)), np.arange(N_GROUPS),
                                                      np.arange(2), np.arange(-1, len(CITIES)), indexing="ij")
    tier, origin, group, child, current = (a.ravel() for a in (tier, origin, group, child, current))
    utility = np.empty((len(tier), n_d + 1))
    utility[:, :n_d] = base[tier] + network[origin] + child[:, None] * service[group]
    same_city = geo.city[None, :] == current[:, None]
    moving = np.where(same_city, b.move_cost_within_city, b.move_cost_between_cities)
    utility[:, :n_d] -= np.where(current[:, None] < 0, origin_cost[origin], moving)
    # Hukou holders stay in their city (they may move between its districts, 穗府〔2018〕14号 三（二）7).
    utility[:, :n_d][(group == 0)[:, None] & (current[:, None] >= 0) & ~same_city] = -np.inf
    utility[:, n_d] = outside[origin] - b.settled_outside_penalty * (group == 0)
    weights = np.exp(utility - utility.max(axis=1, keepdims=True))
    order = np.argsort(_type_index(tier, origin, group, child, current))
    return {"weights": np.ascontiguousarray(weights[order].T, dtype=np.float32),  # (alternative, type)
            "stay_factor": np.float32(np.exp(b.move_cost_within_city))}


def sample_from_weights(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per column of ``weights`` (alternatives × choosers) with probabilities proportional to it, by
    inverting the cumulative weights. Accumulating row by row is several times faster than ``np.cumsum`` along
    the short axis."""
    for j in range(1, len(weights)):
        np.add(weights[j], weights[j - 1], out=weights[j])
    target = rng.random(weights.shape[1], dtype=np.float32) * weights[-1]
    return np.minimum((weights < target[None, :]).sum(axis=0), len(weights) - 1)


def choose(model, columns, rows: np.ndarray, *, arriving: bool) -> np.ndarray:  # noqa: ANN001
    """The chosen alternative of each migrant at ``rows``: a district index, or ``OUTSIDE`` for the origin.

    ``columns`` is the population (for migrants reconsidering) or the columns of a batch of arrivals.
    """
    out = np.empty(len(rows), dtype=np.int8)
    for begin in range(0, len(rows), CHUNK):
        out[begin:begin + CHUNK] = _choose_chunk(model, columns, rows[begin:begin + CHUNK], arriving=arriving)
    return out


def _choose_chunk(model, columns, rows: np.ndarray, *, arriving: bool) -> np.ndarray:  # noqa: ANN001
    b, geo, rng = model.behaviour, model.geography, model.rng
    k, n_d = len(rows), geo.n
    if k == 0:
        return np.zeros(0, dtype=np.int8)
    settled = columns["settled"][rows] >= 0
    group = np.where(settled, 0, np.where(columns["permit"][rows], 1, 2))
    current = np.full(k, OUTSIDE, dtype=np.int64) if arriving else columns["district"][rows].astype(np.int64)
    current_city = np.where(current >= 0, geo.city[np.maximum(current, 0)], -1)
    kind = _type_index(columns["tier"][rows].astype(np.int64), columns["origin"][rows].astype(np.int64), group,
                       (columns["children"][rows] > 0).astype(np.int64), current_city)
    weights = np.take(model.choice_terms["weights"], kind, axis=1)            # (alternative, chooser)
    if any(gov.channels() for gov in model.governments):
        persons = build_persons(columns, rows, date=model.date, month_index=model.month_index,
                                adcode=geo.adcode, income_tax_3y=model.tax_3y)
        chance, group_of_district = settlement_prospects(model, persons, current_city, columns["formal"][rows])
        factor = np.exp(np.float32(b.beta_prospect) * chance.T)
        weights[:n_d] *= factor[group_of_district]
    if not arriving:
        weights[current, np.arange(k)] *= model.choice_terms["stay_factor"]
    choice = sample_from_weights(weights, rng)
    return np.where(choice == n_d, OUTSIDE, choice).astype(np.int8)
