"""District constants of location choice, fitted on the 2010 census day so that the model keeps the census's
spread of migrants over each city's districts unless something changes.

Why: a destination-choice model reproduces its base year only through alternative-specific constants. Size terms
(log jobs) and the other terms explain *changes*; what they cannot explain about the base year (a district's
amenities, land, history, the settlement pattern of earlier decades) is absorbed once, in the base year, by a
constant per district. This is the constant-calibration ("shadow pricing") loop of UrbanSim and ActivitySim.
The constants are fitted on the census day only and never to a later year: what happens after 2010 must come
from the mechanisms.

The condition fitted. The stock of migrants changes in a year by arrivals, moves between districts and returns
to the origin. With the logit weights of the census day, the *expected* flows of the first year are computed for
the census-day population by chooser type (no simulation, no random draws):

    n'_d = n_d + A_d + M^in_d − M^out_d − R_d

where ``A`` are arrivals (the pool of potential migrants by type times their choice probabilities), ``M`` moves
between districts and ``R`` returns (each present migrant reconsiders with ``reconsider_rate`` and chooses with
the stay factor on their own district). The constants ``c_d`` are those for which each district keeps its share of
its city's migrants: ``n'_d / Σ_{d' in city} n'_d' = s_d``, the census share. The loop (fixed point)::

    c_d ← c_d + log(needed_d / inflow_d),   needed_d = s_d · N'_city − (n_d − M^out_d − R_d)

raises a district's constant by the factor its inflow falls short. Only the share *within* each city is fitted:
after each update the constants of a city are shifted together so that the city's total pull on arrivals is what
it is without constants. How many migrants each city draws is left to the behavioural parameters that calibration
fits (pool sizes, moving costs, the outside option), and to the mechanisms.

Settlement prospects are left out of the fit: within Shenzhen and Guangzhou every district of a city offers the
same prospects, and Chengdu's district bonuses start in 2018.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.attributes import TIER_OF_EDUCATION
from sim.params import ORIGINS
from sim.phases.choice import N_CURRENT, N_GROUPS, type_index
from sim.phases.services import UNRANKED_GROUP, school_group

if TYPE_CHECKING:
    from sim.model import HukouModel

__all__ = ["ChoiceFlows", "expected_flows", "fit_constants", "arrival_type_shares", "census_day_flows",
           "census_stock_by_type", "arrival_pull", "keep_city_pull"]

MAX_ITERATIONS = 500
TOLERANCE = 1e-7      # largest change of a constant at convergence
STEP_LIMIT = 2.0      # largest change of a constant in one iteration (log units)
PRIOR_AGENTS = 20     # agents' worth of the city's type mix added to a district's own (census_stock_by_type)


@dataclass(frozen=True)
class ChoiceFlows:
    """What the fit needs, as arrays (persons a year; the stock in persons).

    ``weights``: (type, alternative) logit weights without constants, the outside option last.
    ``arrivals``: (type,) potential migrants a year of each type (zero for types that are not arrivals).
    ``stock_type``, ``stock_district``, ``stock_count``: the census-day migrants by chooser type and district.
    ``reconsider``: yearly probability of reconsidering; ``stay``: (type, alternative) the weight of staying in
    one's own district (no moving cost, no size term), without constants.
    ``city``: city of each district; ``target``: each district's census share of its city's migrants.
    """

    weights: np.ndarray
    arrivals: np.ndarray
    stock_type: np.ndarray
    stock_district: np.ndarray
    stock_count: np.ndarray
    reconsider: float
    stay: np.ndarray
    city: np.ndarray
    target: np.ndarray


def expected_flows(flows: ChoiceFlows, constants: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected first-year ``(stock, inflow, outflow)`` by district with these constants.

    ``inflow`` = arrivals + moves in; ``outflow`` = moves out + returns.
    """
    n_d = len(flows.city)
    factor = np.append(np.exp(constants), 1.0)                       # the outside option has no constant
    weights = flows.weights * factor[None, :]
    arrive_p = weights / weights.sum(axis=1, keepdims=True)
    arrivals = flows.arrivals @ arrive_p[:, :n_d]

    rows = weights[flows.stock_type]                                   # (cell, alternative)
    cells = np.arange(len(rows))
    rows[cells, flows.stock_district] = flows.stay[flows.stock_type, flows.stock_district] * factor[
        flows.stock_district]
    choice_p = rows / rows.sum(axis=1, keepdims=True)
    movers = flows.reconsider * flows.stock_count
    leave_p = 1.0 - choice_p[cells, flows.stock_district]
    choice_p[cells, flows.stock_district] = 0.0                        # staying is no flow
    moves_in = movers @ choice_p[:, :n_d]
    outflow = np.bincount(flows.stock_district, weights=movers * leave_p, minlength=n_d)
    stock = np.bincount(flows.stock_district, weights=flows.stock_count, minlength=n_d)
    return stock, arrivals + moves_in, outflow


def fit_constants(flows: ChoiceFlows) -> np.ndarray:
    """The district constants for which the census-day shares within each city stay put in the first year.

    Deterministic. Raises ``RuntimeError`` if the loop does not converge (a district no chooser can reach).
    """
    n_d = len(flows.city)
    constants = np.zeros(n_d)
    pull = arrival_pull(flows, constants)
    for _ in range(MAX_ITERATIONS):
        stock, inflow, outflow = expected_flows(flows, constants)
        after = stock + inflow - outflow
        city_after = np.bincount(flows.city, weights=after)[flows.city]
        needed = flows.target * city_after - (stock - outflow)
        # A district whose stock already exceeds its share after the year needs next to no inflow: floor it.
        ratio = np.maximum(needed, 1e-3 * inflow + 1e-12) / np.maximum(inflow, 1e-12)
        change = np.clip(np.log(ratio), -STEP_LIMIT, STEP_LIMIT)
        constants = keep_city_pull(flows, constants + change, pull)
        if np.max(np.abs(change)) < TOLERANCE:
            return constants
    raise RuntimeError("district constants did not converge")


def arrival_pull(flows: ChoiceFlows, constants: np.ndarray) -> np.ndarray:
    """Expected arrivals in each city a year with these constants."""
    n_d = len(flows.city)
    factor = np.append(np.exp(constants), 1.0)
    weights = flows.weights * factor[None, :]
    arrivals = flows.arrivals @ (weights / weights.sum(axis=1, keepdims=True))[:, :n_d]
    return np.bincount(flows.city, weights=arrivals, minlength=int(flows.city.max()) + 1)


def keep_city_pull(flows: ChoiceFlows, constants: np.ndarray, pull: np.ndarray) -> np.ndarray:
    """Shift each city's constants together so that arrivals' odds of choosing the city are unchanged.

    A common shift of a city's constants multiplies its weight for every chooser by the same factor; matching the
    arrivals-weighted pull takes one shift per city, found by a few Newton steps on the city's log pull.
    """
    for _ in range(20):
        now = arrival_pull(flows, constants)
        shift = np.log(np.maximum(pull, 1e-300) / np.maximum(now, 1e-300))
        if np.max(np.abs(shift[pull > 0])) < 1e-10:
            break
        constants = constants + shift[flows.city]
    return constants


def arrival_type_shares(education_shares: dict[str, list[float]], rural_share: float, tier_of_education: np.ndarray,
                        age_mean: float, age_sd: float, child_probability: float) -> tuple[np.ndarray, float]:
    """Shares of arrivals by skill tier, and the probability of a school-age child, as ``draw_migrants`` draws
    them (``sim.attributes``): education by rural or urban origin gives the tier; a child with
    ``child_probability`` at ages 25–44 of a normal age (clipped to 16–59, which leaves 25–44 untouched)."""
    tiers = np.zeros(3)
    for group, weight in (("rural", rural_share), ("urban", 1 - rural_share)):
        shares = np.asarray(education_shares[group], dtype=np.float64)
        tiers += weight * np.bincount(tier_of_education, weights=shares / shares.sum(), minlength=3)

    def normal_cdf(x: float) -> float:
        return 0.5 * (1 + math.erf((x - age_mean) / (age_sd * math.sqrt(2))))

    return tiers, child_probability * (normal_cdf(45) - normal_cdf(25))


def census_day_flows(model: HukouModel) -> ChoiceFlows:
    """The fit's inputs from a model on the census day: its choice weights (computed without constants), the
    census-day migrants by chooser type and district, and the year's pool of potential migrants by type."""
    b, geo, pop = model.behaviour, model.geography, model.population
    weights = model.choice_terms["weights"].astype(np.float64)
    tier_share, child_p = arrival_type_shares(b.education_shares, b.rural_share, TIER_OF_EDUCATION, b.age_mean,
                                              b.age_sd, b.child_probability)
    arrivals = np.zeros(len(weights))
    for o, origin in enumerate(ORIGINS):
        pool = b.inflow_persons_per_year[origin] * model.pool_index(origin, model.date)
        for tier in range(3):
            for child, p in ((0, 1 - child_p), (1, child_p)):
                arrivals[type_index(tier, o, UNRANKED_GROUP, child, -1)] += pool * tier_share[tier] * p

    present = np.flatnonzero(pop["district"] >= 0)
    district = pop["district"][present].astype(np.int64)
    group = school_group(pop["settled"][present] >= 0, pop["school_level"][present])
    kind = type_index(pop["tier"][present].astype(np.int64), pop["origin"][present].astype(np.int64), group,
                      (pop["children"][present] > 0).astype(np.int64), geo.city[district].astype(np.int64))
    n_types = weights.shape[0]
    assert n_types == 3 * len(ORIGINS) * N_GROUPS * 2 * N_CURRENT
    agents = np.bincount(district * n_types + kind, minlength=geo.n * n_types).reshape(geo.n, n_types)
    migrants = geo.migrants_2010.astype(np.float64)
    stock = census_stock_by_type(agents, migrants, geo.city.astype(np.int64))
    district_of, type_of = np.nonzero(stock)
    return ChoiceFlows(weights=weights, arrivals=arrivals, stock_type=type_of, stock_district=district_of,
                       stock_count=stock[district_of, type_of], reconsider=b.reconsider_rate,
                       stay=model.choice_terms["stay"].astype(np.float64), city=geo.city.astype(np.int64),
                       target=migrants / np.bincount(geo.city, weights=migrants)[geo.city])


def census_stock_by_type(agents: np.ndarray, migrants: np.ndarray, city: np.ndarray) -> np.ndarray:
    """The census's migrants of each district (``migrants``) split by chooser type as the agents placed there are
    (``agents``: district × type counts), shrunk toward the city's split by ``PRIOR_AGENTS`` agents.

    The census counts, not the agents, give the sizes: at a coarse scale a small district may hold a handful of
    agents or none, and the fit would otherwise chase that sampling noise."""
    city_mix = np.array([agents[city == c].sum(axis=0) for c in range(int(city.max()) + 1)], dtype=np.float64)
    city_mix /= np.maximum(city_mix.sum(axis=1, keepdims=True), 1)
    mix = agents + PRIOR_AGENTS * city_mix[city]
    return migrants[:, None] * mix / mix.sum(axis=1, keepdims=True)
