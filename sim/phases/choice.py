"""Location choice: a multinomial logit over the 41 districts and the outside option (the origin region). Terms:
wage for one's skill tier, rent, commuting, public-school access given the school tier one reached, settlement
prospects, moving costs (from the origin or between districts and cities) and networks.

How it is computed fast, exactly:
- Every term but two depends only on a chooser's *type* (skill tier, origin, school group, a school-age child, current
  city): a few hundred types. Their utilities, and ``exp`` of them, are computed once per step.
- Staying in one's current district (no moving cost) is one factor per chooser.
- Settlement prospects, the costly term (a city's points and channel rules for each chooser), are sampled around
  rather than computed for every district: the factor ``exp(beta * chance)`` lies between 1 and ``exp(beta)``.
  Each chooser proposes an alternative from the logit with that factor at its bound, and a proposed district is
  accepted with probability ``factor / bound`` (rejection sampling; the outside option, which has no prospects,
  is always accepted). A test below the smallest factor accepts without computing the factor (the squeeze).
  Accepted draws follow the logit with the true factors exactly, and at the calibrated ``beta_prospect`` about
  three proposals in ten cost the rules of one city, instead of every chooser costing three (four or five with
  Chengdu's points bonus groups).
- Proposals invert each chooser's cumulative weights at one uniform draw: the same distribution as the Gumbel-max
  trick usual for sampling a logit (docs/model.md 7.3), with one draw per chooser instead of one per alternative
  and no logarithms.
Proposals are drawn in chunks so the temporary (choosers × alternatives) arrays stay small; the prospects of all
proposals of a round are evaluated together, city by city, because each evaluation of a city's rules has a fixed
cost of a few thousand numpy calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict, TypeVar

import numpy as np

from policies.cities import CITIES
from sim.counting import presence_counts
from sim.parallel import chunk_size, ordered_map, split_rows
from sim.params import ORIGINS
from sim.phases.prospects import prospect_factor
from sim.phases.services import SCHOOL_GROUPS, UNRANKED_GROUP, school_group
from sim.population import OUTSIDE, Columns, build_persons

if TYPE_CHECKING:
    from sim.model import HukouModel

__all__ = ["choose", "district_terms", "ChoiceTerms", "CHUNK"]

CHUNK = 32_768          # choosers per (alternatives × choosers) weights array
PROSPECT_CHUNK = 131_072  # choosers per evaluation of a city's rules (few calls: each has a fixed cost)
RETRIES = 4               # proposals at once per chooser rejected in the first round
N_GROUPS = len(SCHOOL_GROUPS)  # hukou, or the school tier a migrant parent reached in the current city
N_CURRENT = len(CITIES) + 1  # current city, or none (arrivals)
TypeCode = TypeVar("TypeCode", np.ndarray, int)  # the parts of a chooser type: arrays of migrants, or one's ints


def type_index(tier: TypeCode, origin: TypeCode, group: TypeCode, child: TypeCode, current_city: TypeCode
               ) -> TypeCode:
    """The chooser type of each migrant (or of one, from ints): the row of ``ChoiceTerms`` weights."""
    return (((tier * len(ORIGINS) + origin) * N_GROUPS + group) * 2 + child) * N_CURRENT + current_city + 1


class ChoiceTerms(TypedDict):
    """The terms of location choice computed once per step (``district_terms``)."""

    weights: np.ndarray   # (type, alternative): exp of each type's utility, types in ``type_index`` order
    stay: np.ndarray      # (type, alternative): the weight of staying, for a chooser whose district it is


def size_term(jobs: np.ndarray, housing: np.ndarray, reference: tuple[np.ndarray, float], jobs_weight: float
              ) -> np.ndarray:
    """The size of each district for each skill tier, ``(tier, district)``: the log of a weighted geometric mean of
    the jobs open to the tier and the housing, each relative to its census-day mean per district (``reference``).
    Jobs are where a migrant can work, housing where they can live; both grow by the model's markets."""
    job_reference, housing_reference = reference
    log_jobs = np.log(np.maximum(jobs, 1e-9) / job_reference[None, :]).T
    log_housing = np.log(np.maximum(housing, 1e-9) / housing_reference)[None, :]
    return jobs_weight * log_jobs + (1 - jobs_weight) * log_housing


def district_terms(model: HukouModel, presence: np.ndarray | None = None) -> ChoiceTerms:
    """Logit weights ``exp(utility)`` of every chooser type over the districts and the outside option (last).
    ``presence``: as for ``update_markets``, counted now when not given.

    Besides wages, rents and commuting, each district carries a size term, ``beta_size · log(jobs of the chooser's
    tier / the census-day mean of that tier's jobs per district)`` (a district with twice the jobs draws about twice
    the movers), and its constant (``sim.phases.constants``, fitted on the census day)."""
    b, state, geo = model.behaviour, model.district_state, model.geography
    n_d = geo.n
    size = b.beta_size * size_term(state.jobs, state.housing_stock, model.size_reference, b.size_jobs_weight)
    base = (b.beta_wage * np.log(state.wage.T) - b.beta_rent * np.log(state.rent)[None, :]
            - b.beta_commute * state.commute[None, :] + size + model.district_constants[None, :])
    if presence is None:
        presence = presence_counts(model, model.threads)
    counts = presence.sum(axis=(2, 3))                                                 # (origin, district)
    share = counts / np.maximum(counts.sum(axis=0, keepdims=True), 1)
    network = b.beta_network * np.log1p(share * len(ORIGINS))                         # (origin, district)
    service = b.beta_service * state.school_access.T                             # (school group, district)
    origin_cost = np.array([[b.origin_cost[o][CITIES[c]] for c in geo.city] for o in ORIGINS])
    outside = np.array([b.outside_utility[o] for o in ORIGINS])

    tier, origin, group, child, current = np.meshgrid(np.arange(3), np.arange(len(ORIGINS)), np.arange(N_GROUPS),
                                                      np.arange(2), np.arange(-1, len(CITIES)), indexing="ij")
    tier, origin, group, child, current = (a.ravel() for a in (tier, origin, group, child, current))
    utility = np.empty((len(tier), n_d + 1))
    same_city = geo.city[None, :] == current[:, None]
    # A parent expects the access of the tier reached in the current city there, and elsewhere a newcomer's.
    school = np.where(same_city, service[group], service[UNRANKED_GROUP][None, :])
    utility[:, :n_d] = base[tier] + network[origin] + child[:, None] * school
    moving = np.where(same_city, b.move_cost_within_city, b.move_cost_between_cities)
    utility[:, :n_d] -= np.where(current[:, None] < 0, origin_cost[origin], moving)
    # Hukou holders stay in their city (they may move between its districts, 穗府〔2018〕14号 三（二）7).
    utility[:, :n_d][(group == 0)[:, None] & (current[:, None] >= 0) & ~same_city] = -np.inf
    utility[:, n_d] = outside[origin] - b.settled_outside_penalty * (group == 0)
    top = utility.max(axis=1, keepdims=True)
    weights = np.exp(utility - top)
    # Staying costs no move, and the size term does not apply: one's own job and home are not more likely to be
    # found in a district with more jobs. (The outside option's column is never one's own district.)
    stay = np.exp(utility - top + b.move_cost_within_city)
    stay[:, :n_d] *= np.exp(-size[tier])
    order = np.argsort(type_index(tier, origin, group, child, current))
    return {"weights": np.ascontiguousarray(weights[order]),  # (type, alternative)
            "stay": np.ascontiguousarray(stay[order])}


def choose(model: HukouModel, columns: Columns, rows: np.ndarray, *, arriving: bool) -> np.ndarray:
    """The chosen alternative of each migrant at ``rows``: a district index, or ``OUTSIDE`` for the origin.

    ``columns`` is the population (for migrants reconsidering) or the columns of a batch of arrivals.
    """
    b, geo, rng = model.behaviour, model.geography, model.rng
    k, n_d = len(rows), geo.n
    settled = columns["settled"][rows] >= 0
    group = school_group(settled, columns["school_level"][rows])
    current = np.full(k, OUTSIDE, dtype=np.int64) if arriving else columns["district"][rows].astype(np.int64)
    current_city = np.where(current >= 0, geo.city[np.maximum(current, 0)], -1)
    kind = type_index(columns["tier"][rows].astype(np.int64), columns["origin"][rows].astype(np.int64), group,
                       (columns["children"][rows] > 0).astype(np.int64), current_city)
    if not any(gov.channels() for gov in model.governments):
        return _to_district(_propose(model, kind, current, np.float32(1.0), rng), n_d)

    bound = np.float32(max(1.0, np.exp(b.beta_prospect)))   # the largest prospects factor
    least = min(1.0, float(np.exp(b.beta_prospect)))         # and the smallest
    persons = build_persons(columns, rows, date=model.date, month_index=model.month_index, adcode=geo.adcode,
                            income_tax_3y=model.tax_3y)
    formal = columns["formal"][rows]
    choice = np.empty(k, dtype=np.int64)
    pending = np.arange(k)
    tries = 1
    while len(pending):
        # After the first round the few rejected choosers make several proposals at once (the first accepted
        # counts, as if made one after another): fewer rounds, each with the fixed cost of a city's rules.
        who = np.repeat(pending, tries)
        proposal = _propose(model, kind[who], current[who], bound, rng)
        accept = proposal == n_d                                 # the outside option has no prospects
        inside = np.flatnonzero(~accept)
        test = rng.random(len(inside)) * bound
        # Below the smallest factor a proposal is accepted whatever its prospects (the squeeze of rejection
        # sampling): at the calibrated beta_prospect seven proposals in ten need no rules at all.
        accept[inside] = test < least
        unsure = inside[test >= least]

        def factor_of(part: np.ndarray, who: np.ndarray = who, proposal: np.ndarray = proposal) -> np.ndarray:
            return prospect_factor(model, persons.take(who[part]), current_city[who[part]], formal[who[part]],
                                   proposal[part])

        parts = split_rows(model, unsure, PROSPECT_CHUNK)
        factor = np.concatenate([np.zeros(0)] + list(ordered_map(factor_of, parts, model.threads)))
        accept[unsure] = test[test >= least] < factor
        accept, proposal = accept.reshape(-1, tries), proposal.reshape(-1, tries)
        first = np.argmax(accept, axis=1)
        done = accept[np.arange(len(pending)), first]
        settled_now = np.flatnonzero(done)
        choice[pending[settled_now]] = proposal[settled_now, first[settled_now]]
        pending, tries = pending[np.flatnonzero(~done)], RETRIES
    return _to_district(choice, n_d)


def _propose(model: HukouModel, kind: np.ndarray, current: np.ndarray, bound: np.float32,
             rng: np.random.Generator) -> np.ndarray:
    """One alternative per chooser from the type weights, with the weight of staying on the current district and
    every district's weight times ``bound`` (the proposal of the rejection sampler).

    By inverting the cumulative weights: the type's cumulative weights ``C`` are computed once per call, and a
    chooser's own district adds ``e = stay(current) − w(current)`` to ``C(a)`` for every alternative ``a`` at or after
    the current district. The first alternative whose cumulative weight reaches ``t = u · (C(last) + e)`` is then
    ``min(c, #{C < t}) + max(0, #{C < t − e} − c)`` for current district ``c`` (both counts are prefixes of the
    alternatives, since ``C`` increases). Chunks of ``CHUNK`` choosers keep the (choosers × alternatives)
    temporary small.
    """
    table = model.choice_terms["weights"].copy()                  # (type, alternative)
    n_alt = table.shape[1]
    table[:, :-1] *= bound
    cumulative = np.cumsum(table, axis=1).astype(np.float32)
    stay = model.choice_terms["stay"].copy()
    stay[:, :-1] *= bound
    extra = (stay - table).astype(np.float32)
    out = np.empty(len(kind), dtype=np.int64)
    size = chunk_size(model, CHUNK)

    def invert(chunk: tuple[int, np.ndarray]) -> None:
        begin, uniforms = chunk
        end = begin + len(uniforms)
        types, here = kind[begin:end], current[begin:end]
        rows = cumulative[types]                                   # (chooser, alternative)
        stays = here >= 0
        e = np.where(stays, extra[types, np.maximum(here, 0)], np.float32(0))
        target = uniforms * (rows[:, -1] + e)
        c = np.where(stays, here, n_alt)
        choice = np.minimum(c, np.count_nonzero(rows < target[:, None], axis=1))
        if stays.any():
            choice += np.maximum(0, np.count_nonzero(rows < (target - e)[:, None], axis=1) - c)
        out[begin:end] = np.minimum(choice, n_alt - 1)

    # The uniforms are drawn here, chunk after chunk (sim.parallel): the same stream for any number of threads.
    chunks = ((begin, rng.random(min(size, len(kind) - begin), dtype=np.float32))
              for begin in range(0, len(kind), size))
    for _ in ordered_map(invert, chunks, model.threads):
        pass
    return out


def _to_district(choice: np.ndarray, n_d: int) -> np.ndarray:
    return np.where(choice == n_d, OUTSIDE, choice).astype(np.int8)
