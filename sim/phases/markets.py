"""Markets: rents respond to occupancy against housing stock, wages to migrant workers against jobs by skill tier;
stocks grow at their trend rates and as the regimes' spatial levers say."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

from policies.cities import CITIES
from policies.decision import Lever
from sim.counting import presence_counts
from sim.drivers import job_series
from sim.params import Behaviour
from sim.phases.natives import relocate_natives
from sim.phases.services import planned_districts

if TYPE_CHECKING:
    from sim.districts import DistrictState
    from sim.model import HukouModel

__all__ = ["update_markets", "apply_levers", "housing_growth", "job_growth"]


def _per_step(rate_per_year: float | np.ndarray, months: int) -> np.ndarray:
    """Growth factor over ``months`` of a yearly rate."""
    return np.power(1.0 + np.asarray(rate_per_year, dtype=np.float64), months / 12)


def _add_months(date: dt.date, months: int) -> dt.date:
    month = date.month - 1 + months
    return dt.date(date.year + month // 12, month % 12 + 1, 1)


def _lever_districts(model: HukouModel, adcodes: tuple[int, ...], city: int) -> np.ndarray:
    """District indices of ``adcodes`` that belong to city ``city`` (others are dropped)."""
    geo = model.geography
    idx = geo.index_of_adcode(np.asarray(adcodes, dtype=np.int32))
    return idx[(idx >= 0) & (geo.city[np.maximum(idx, 0)] == city)]


def _move_low_skill_jobs(jobs: np.ndarray, src: np.ndarray, dst: np.ndarray, lever: Lever, months: int) -> None:
    """穗府〔2018〕14号 三（一）2: a share of the low-skill jobs of ``src`` moves to ``dst`` (in place).

    The jobs that move are ``1 − (1 − share)^(months/12)`` of each origin's jobs; ``out_of_city_share`` of them leave
    the city, the rest are shared among the destinations in proportion to their low-skill jobs (``weights: jobs``)
    or equally, so the city's total falls by exactly the share said to leave."""
    moved = jobs[src] * (1.0 - np.power(1.0 - lever.annual_change, months / 12))
    jobs[src] -= moved
    if dst.size == 0:
        return
    staying = moved.sum() * (1.0 - lever.out_of_city_share)
    weight = jobs[dst] if lever.weights == "jobs" else np.ones(dst.size)
    weight = weight / weight.sum() if weight.sum() > 0 else np.full(dst.size, 1.0 / dst.size)
    jobs[dst] += staying * weight


def _add_new_area(state: DistrictState, idx: np.ndarray, lever: Lever, months: int) -> None:
    """A planned new area's land enters over its build-out (in place): each year from ``start_year`` to
    ``end_year`` adds an equal part of its housing (persons) and of its jobs (split over the tiers by
    ``job_tiers``), ``months``/12 of that part in a step. An area of several districts shares it in proportion to
    their housing stock. Absolute amounts, so new land in a built-up core district (前海 in Nanshan) adds as much
    as the same land in a suburb, whatever the district's zone."""
    if idx.size == 0:
        return
    part = months / 12 / (lever.end_year - lever.start_year + 1)
    stock = state.housing_stock[idx]
    weight = stock / stock.sum() if stock.sum() > 0 else np.full(idx.size, 1.0 / idx.size)
    state.housing_stock[idx] += lever.persons * part * weight
    state.jobs[idx] += lever.jobs * part * weight[:, None] * np.asarray(lever.job_tiers)[None, :]


def apply_levers(model: HukouModel) -> None:
    """深府〔2016〕58号 （四）（五）（十二）, 穗府〔2018〕14号 三（一）, 成府发〔2017〕23号 三（一）: levers.

    Applies each city's spatial levers in force.

    A lever with yearly dates changes its districts' housing, jobs, commuting or school places at its yearly rate (or
    moves low-skill jobs between its districts, or adds a new area's housing and jobs); a dated one (a metro
    opening, a clearance) acts once, in the step whose period contains its date. Districts of another city are
    ignored here (a regime naming one is refused when it loads, ``Regime.check``).
    """
    state, months, date = model.district_state, model.step_months, model.date
    step_end = _add_months(date, months)
    for gov in model.governments:
        for lever in gov.levers():
            if lever.on is not None:
                if not date <= lever.on < step_end:
                    continue
            elif not lever.start_year <= date.year <= lever.end_year:
                continue
            idx = _lever_districts(model, lever.districts, gov.city_index)
            if lever.kind == "housing":
                state.housing_stock[idx] *= _per_step(lever.annual_change, months)
            elif lever.kind == "low_skill_jobs":
                state.jobs[idx, 0] *= _per_step(lever.annual_change, months)
            elif lever.kind == "jobs":
                state.jobs[idx, lever.tier] *= _per_step(lever.annual_change, months)
            elif lever.kind == "move_low_skill_jobs":
                dst = _lever_districts(model, lever.to_districts, gov.city_index)
                low = state.jobs[:, 0].copy()
                _move_low_skill_jobs(low, idx, dst, lever, months)
                state.jobs[:, 0] = low
            elif lever.kind == "remove_housing":
                stock = state.housing_stock[idx]
                state.housing_stock[idx] = np.maximum(stock - lever.persons * stock / max(stock.sum(), 1.0),
                                                      0.05 * stock)
            elif lever.kind == "commute":
                state.commute[idx] = np.maximum(state.commute[idx] + lever.annual_change * months / 12, 0.0)
            elif lever.kind == "metro_opening":
                now = state.commute[idx]
                state.commute[idx] = np.maximum(now + lever.annual_change, np.minimum(now, lever.floor))
            elif lever.kind == "services":
                state.school_places[idx] *= _per_step(lever.annual_change, months)
            elif lever.kind == "new_area":
                _add_new_area(state, idx, lever, months)
            else:
                raise ValueError(f"unknown lever kind {lever.kind!r} in regime {gov.regime.name}")


def housing_growth(b: Behaviour, zone: np.ndarray, rent_ratio: np.ndarray) -> np.ndarray:
    """Yearly growth of each district's housing: the zone's trend (building at 2010 rents) plus the zone's supply
    elasticity times the log of how far rents stand above their 2010 level. Builders answer rents where land
    allows: little in the built-up core, most in the new towns. Rents below 2010 do not demolish housing."""
    elasticity = np.asarray(b.housing_supply_elasticity)[zone]
    return np.asarray(b.housing_growth_per_year)[zone] + elasticity * np.log(np.maximum(rent_ratio, 1.0))


def job_growth(b: Behaviour, jobs: np.ndarray, city: np.ndarray, year: int) -> np.ndarray:
    """Yearly growth of jobs by district and skill tier: each city's jobs grow as its employment series
    (``sim.drivers.job_series``), shared among tiers by ``job_growth_per_year`` (industrial upgrading) so that the
    city's total grows as observed: tier ``k`` grows at ``(1 + g_city)(1 + j_k) / (1 + j̄_city) − 1``, where
    ``j̄_city`` is the tiers' rates weighted by the city's current jobs."""
    series = job_series()
    tier_rate = np.asarray(b.job_growth_per_year.as_list())
    out = np.empty_like(jobs)
    for c, name in enumerate(CITIES):
        mine = city == c
        weights = jobs[mine].sum(axis=0)
        mean_rate = float(weights @ tier_rate / max(weights.sum(), 1e-12))
        out[mine] = (1 + series.yearly_rate(name, year)) * (1 + tier_rate) / (1 + mean_rate) - 1
    return out


def update_markets(model: HukouModel, presence: np.ndarray | None = None) -> None:
    """Rents and wages move toward the levels that current occupancy and labour supply imply.

    ``presence``: agents by origin × district × tier × employed (``sim.counting.presence_counts``), counted now
    when not given."""
    b, state, geo = model.behaviour, model.district_state, model.geography
    months = model.step_months
    zone = geo.zone.astype(np.int64)
    state.housing_stock *= _per_step(housing_growth(b, zone, state.rent / state.rent_2010), months)
    state.jobs *= _per_step(job_growth(b, state.jobs, geo.city, model.date.year), months)
    fixed = planned_districts(model) < 0      # planned districts follow their children (sim/phases/services.py)
    state.school_places *= _per_step(np.where(fixed, b.school_places_growth_per_year, 0.0), months)
    state.natives *= _per_step(b.native_growth_per_year, months)
    apply_levers(model)
    relocate_natives(state, geo, b, months)

    if presence is None:
        presence = presence_counts(model, model.threads)
    occupants = presence.sum(axis=(0, 2, 3)) * model.scale + state.natives
    crowding = occupants / state.housing_stock * (1 + b.vacancy_rate)
    target = state.rent_2010 * np.power(np.maximum(crowding, 1e-6), b.rent_elasticity)
    adjust = 1 - (1 - b.rent_adjustment_per_year) ** (months / 12)
    state.rent += adjust * (target - state.rent)

    workers = presence[..., 1].sum(axis=0) * model.scale                           # (district, tier)
    tightness = state.jobs / np.maximum(workers, model.scale) / (1 + b.vacancy_rate)
    state.wage = state.wage_2010 * np.clip(np.power(np.maximum(tightness, 1e-6), b.wage_elasticity), 0.5, 2.0)
