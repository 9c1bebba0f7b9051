"""Public services: school places in each district go first to hukou children, then to migrant children tier by
tier (the regime's 梯度赋权 / points tiers, or by default permit holders first, 居住证暂行条例 第十二条).

Places are allocated once a year, in the step holding the start of the school year (September), as enrolment is;
the access rates then hold for the year (and on the census day, from an allocation made at the start).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.government import CityGovernment
from sim.parallel import ordered_map, split_rows

if TYPE_CHECKING:
    from sim.model import HukouModel
    from sim.population import MigrantBatch

__all__ = ["allocate_school_places", "enrol", "enrolling_parents", "STATUS_GROUPS", "SCHOOL_YEAR_MONTH"]

STATUS_GROUPS = ("hukou", "permit", "none")
SCHOOL_YEAR_MONTH = 9
CHUNK = 65_536  # children's parents per evaluation of a regime's school tiers (on threads, sim.parallel)


def enrol(model: HukouModel) -> None:
    """Allocate school places when the school year starts in this step."""
    if model.clock.contains_month(model.t, SCHOOL_YEAR_MONTH):
        allocate_school_places(model)


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
    """Fill each district's school places in priority order; store access rates by status group and the counts
    of migrant children served."""
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
    tier[barred] = 0
    n_tiers = int(tier.max(initial=2)) + 1
    demand = np.bincount(d[~barred] * n_tiers + tier[~barred], weights=kids[~barred],
                         minlength=geo.n * n_tiers).reshape(geo.n, n_tiers)
    remaining = np.maximum(state.school_places - state.natives * b.native_school_age_share, 0.0)
    served = np.zeros_like(demand)
    for t in range(n_tiers):
        served[:, t] = np.minimum(demand[:, t], remaining)
        remaining -= served[:, t]
    access_by_tier = np.divide(served, demand, out=np.ones_like(served), where=demand > 0)

    group = np.where(settled, 0, np.where(permit, 1, 2))
    access_person = np.where(barred, 0.0, access_by_tier[d, tier])
    for g in range(len(STATUS_GROUPS)):
        mine = group == g
        got = np.bincount(d[mine], weights=kids[mine] * access_person[mine], minlength=geo.n)
        want = np.bincount(d[mine], weights=kids[mine], minlength=geo.n)
        state.school_access[:, g] = np.divide(got, want, out=np.full(geo.n, np.nan), where=want > 0)
    # Where a group has no children, fall back on the access of the tier it would have.
    fallback = np.stack([access_by_tier[:, 0], access_by_tier[:, 1], access_by_tier[:, min(2, n_tiers - 1)]], 1)
    state.school_access = np.where(np.isnan(state.school_access), fallback, state.school_access)
    migrant = ~settled
    model.flows.school_demand = np.bincount(d[migrant], weights=kids[migrant], minlength=geo.n)
    model.flows.school_served = np.bincount(d[migrant], weights=kids[migrant] * access_person[migrant],
                                            minlength=geo.n)


def initial_school_places(model: HukouModel) -> np.ndarray:
    """School places on the census day: all hukou children plus a share of migrant children (behaviour.yaml)."""
    pop, geo, b = model.population, model.geography, model.behaviour
    district = pop["district"]
    here = district >= 0
    migrant_kids = np.bincount(district[here], weights=pop["children"][here].astype(np.float64), minlength=geo.n)
    return model.district_state.natives * b.native_school_age_share + (
        migrant_kids * model.scale * b.school_places_for_migrants_2010)
