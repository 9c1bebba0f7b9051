"""Public services: school places in each district go first to hukou children, then to migrant children tier by
tier (the regime's 梯度赋权 / points tiers, or by default permit holders first, 居住证暂行条例 第十二条).

Places are allocated once a year, in the step holding the start of the school year (September), as enrolment is;
the access rates then hold for the year (and on the census day, from an allocation made at the start). Each
migrant parent keeps the tier reached (``school_level``), and location choice sees the access of that tier in the
districts of the parent's city: reordering the tiers changes who expects a place where (深府〔2016〕58号 （十三）,
穗府〔2016〕3号 （八）). A parent not yet ranked in a city (arrived since the last school year, or looking at another
city) expects what children without a permit get there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from policies.services_tiers.rules import MAX_TIERS
from sim.government import CityGovernment
from sim.parallel import ordered_map, split_rows

if TYPE_CHECKING:
    from sim.districts import DistrictState
    from sim.model import HukouModel
    from sim.population import MigrantBatch

__all__ = ["allocate_school_places", "enrol", "enrolling_parents", "plan_school_places", "planned_districts",
           "resident_children", "school_group", "SCHOOL_GROUPS", "UNRANKED", "UNRANKED_GROUP", "BARRED",
           "SCHOOL_YEAR_MONTH"]

UNRANKED = 0                      # school_level of a parent not yet ranked in the current city
BARRED = MAX_TIERS + 1            # school_level of a parent whose children the regime gives no public school
SCHOOL_GROUPS = ("hukou", "unranked", *(f"tier_{k}" for k in range(1, MAX_TIERS + 1)), "barred")
"""The columns of ``DistrictState.school_access`` and the school groups of location choice: hukou holders, then
``1 + school_level`` for migrants."""
UNRANKED_GROUP = 1 + UNRANKED
SCHOOL_YEAR_MONTH = 9
CHUNK = 65_536  # children's parents per evaluation of a regime's school tiers (on threads, sim.parallel)


def enrol(model: HukouModel) -> None:
    """Plan, then allocate school places when the school year starts in this step."""
    if model.clock.contains_month(model.t, SCHOOL_YEAR_MONTH):
        plan_school_places(model)
        allocate_school_places(model)


def _migrant_children(model: HukouModel) -> np.ndarray:
    """Migrants' school-age children in each district, in agents (multiply by the scale for persons)."""
    pop, geo = model.population, model.geography
    district = pop["district"]
    here = district >= 0
    return np.bincount(district[here], weights=pop["children"][here].astype(np.float64), minlength=geo.n)


def resident_children(model: HukouModel, migrant_kids: np.ndarray | None = None) -> np.ndarray:
    """School-age children living in each district: the natives' and the migrants' (persons, not agents);
    ``migrant_kids`` when already counted (``_migrant_children``)."""
    kids = _migrant_children(model) if migrant_kids is None else migrant_kids
    return model.district_state.natives * model.behaviour.native_school_age_share + kids * model.scale


def planned_districts(model: HukouModel) -> np.ndarray:
    """Per district, the planning lag in years of its city's services in force, -1 where places are not planned."""
    lags = [gov.school_planning_lag() for gov in model.governments]
    return np.array([-1 if lag is None else lag for lag in lags], dtype=np.int64)[model.geography.city]


def plan_school_places(model: HukouModel) -> None:
    """Supply follows population where the texts ask for it (深府〔2005〕125号 （十九）, 穗府〔2016〕3号 （十一）1,
    深府〔2016〕58号 （三）, 成府发〔2017〕23号 三（四）3): each school year the resident children are counted, and a
    planned district's places rise to cover the children it had ``lag`` years before at its census-day coverage
    (places per resident child). Places are never removed, and until ``lag`` years have passed the census-day count
    stands in for the years before it. Elsewhere places grow at a fixed rate (sim/phases/markets.py)."""
    state = model.district_state
    year = model.date.year
    state.children_by_year[year] = resident_children(model)
    lag = planned_districts(model)
    planned = lag >= 0
    if not planned.any():
        return
    target = state.school_places.copy()
    for k in np.unique(lag[planned]):
        mine = lag == k
        target[mine] = state.school_coverage[mine] * _counted(state, year - int(k))[mine]
    state.school_places = np.where(planned, np.maximum(state.school_places, target), state.school_places)


def school_group(settled: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Each migrant's school group (the column of ``school_access``): 0 for hukou holders, else 1 + school_level."""
    return np.where(settled, 0, 1 + level.astype(np.int64))


def _default_tier(permit: np.ndarray) -> np.ndarray:
    """居住证暂行条例 第十二条: permit holders' children are entitled to compulsory education; others come after."""
    return np.where(permit, 1, 2).astype(np.int64)


def enrolling_parents(model: HukouModel, rows: np.ndarray) -> MigrantBatch:
    """The parents at ``rows`` as enrolment sees them: a permit held on the enrolment date counts as held.

    A permit issued in the step of enrolment has no whole month behind it yet (``permit_months`` counts months
    from the next step), and every tier asks for a month or more (``permit_months_min: 1``, the texts' "holds a
    permit"): without this, a child whose parent got the permit this month would be barred from the basic
    schooling that every holder is entitled to (居住证暂行条例 第十二条; 成府发〔2017〕23号 三（三）1).
    """
    persons = model.persons(rows)
    held = model.population["permit"][rows]
    months = persons.residence_permit_months
    return persons.with_columns(residence_permit_months=np.where(held, np.maximum(months, 1), months))


def allocate_school_places(model: HukouModel) -> None:
    """Fill each district's school places in priority order; store each migrant parent's tier (``school_level``),
    access rates by school group and the counts of migrant children served."""
    pop, geo, state, b = model.population, model.geography, model.district_state, model.behaviour
    district = pop["district"]
    with_children = np.flatnonzero((district >= 0) & (pop["children"] > 0))
    d = district[with_children].astype(np.int64)
    kids = pop["children"][with_children].astype(np.float64) * model.scale
    settled = pop["settled"][with_children] >= 0
    permit = pop["permit"][with_children]
    tier = _default_tier(permit)
    for gov in model.governments:
        in_city = np.flatnonzero((geo.city[d] == gov.city_index) & ~settled)

        def tiers_of(chunk: np.ndarray, gov: CityGovernment = gov) -> np.ndarray | None:
            return gov.school_tier(enrolling_parents(model, with_children[chunk]))

        tiers = list(ordered_map(tiers_of, split_rows(model, in_city, CHUNK), model.threads))
        if tiers and tiers[0] is not None:
            tier[in_city] = np.concatenate([np.asarray(t, dtype=np.int64) for t in tiers])
    tier[settled] = 0
    barred = tier == CityGovernment.NO_SCHOOL          # the regime gives these children no place
    migrant = ~settled
    pop["school_level"][with_children[migrant]] = np.where(barred, BARRED, tier)[migrant]
    tier[barred] = 0
    n_tiers = int(tier.max(initial=2)) + 1
    demand = np.bincount(d[~barred] * n_tiers + tier[~barred], weights=kids[~barred],
                         minlength=geo.n * n_tiers).reshape(geo.n, n_tiers)
    remaining = np.maximum(state.school_places - state.natives * b.native_school_age_share, 0.0)
    served = np.zeros_like(demand)
    left_for = np.zeros_like(demand)     # places left when a tier's turn comes
    for t in range(n_tiers):
        left_for[:, t] = remaining
        served[:, t] = np.minimum(demand[:, t], remaining)
        remaining -= served[:, t]
    # a tier with no children here would be served if any place were left at its turn
    access_by_tier = np.divide(served, demand, out=(left_for > 0).astype(np.float64), where=demand > 0)

    access_person = np.where(barred, 0.0, access_by_tier[d, tier])
    state.school_access = _access_by_group(model, access_by_tier, d[migrant & ~permit],
                                           (kids * access_person)[migrant & ~permit], kids[migrant & ~permit])
    model.flows.school_demand = np.bincount(d[migrant], weights=kids[migrant], minlength=geo.n)
    model.flows.school_served = np.bincount(d[migrant], weights=kids[migrant] * access_person[migrant],
                                            minlength=geo.n)


def _counted(state: DistrictState, year: int) -> np.ndarray:
    """The children counted in ``year``'s school year (the census-day count for the years before it)."""
    return state.children_by_year[max(year, min(state.children_by_year))]


def _access_by_group(model: HukouModel, access_by_tier: np.ndarray, district: np.ndarray, served: np.ndarray,
                     children: np.ndarray) -> np.ndarray:
    """Access by district and school group (``SCHOOL_GROUPS``): each tier's access as allocated; barred none; and
    for parents not yet ranked, the access children without a permit had (``district``, ``served``, ``children``
    of those children), or where there were none, what the rule gives them: nothing where a services rule is in
    force (every tier of the texts asks for a permit), the last tier under the model's default rule."""
    geo = model.geography
    access = np.zeros((geo.n, len(SCHOOL_GROUPS)))
    n_tiers = access_by_tier.shape[1]
    access[:, 0] = access_by_tier[:, 0]
    for k in range(1, min(n_tiers, MAX_TIERS + 1)):
        access[:, 1 + k] = access_by_tier[:, k]
    ruled = np.array([gov.school_rule_in_force() for gov in model.governments])[geo.city]
    fallback = np.where(ruled, 0.0, access_by_tier[:, 2])
    got = np.bincount(district, weights=served, minlength=geo.n)
    want = np.bincount(district, weights=children, minlength=geo.n)
    access[:, UNRANKED_GROUP] = np.divide(got, want, out=fallback.copy(), where=want > 0)
    return access


def initial_school_places(model: HukouModel) -> np.ndarray:
    """School places on the census day: all hukou children plus a share of migrant children (behaviour.yaml).
    Records the census-day coverage (places per resident child) and count that planning starts from."""
    geo, b, state = model.geography, model.behaviour, model.district_state
    migrant_kids = _migrant_children(model)
    places = state.natives * b.native_school_age_share + (
        migrant_kids * model.scale * b.school_places_for_migrants_2010)
    children = resident_children(model, migrant_kids)
    state.school_coverage = np.divide(places, children, out=np.ones(geo.n), where=children > 0)
    state.children_by_year = {model.date.year: children}
    return places
