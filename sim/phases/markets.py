"""Markets: rents respond to occupancy against housing stock, wages to migrant workers against jobs by skill tier;
stocks grow at their trend rates and as the regimes' spatial levers say."""

from __future__ import annotations

import numpy as np

from sim.counting import presence_counts

__all__ = ["update_markets", "apply_levers"]


def _per_step(rate_per_year: float | np.ndarray, months: int) -> np.ndarray:
    """Growth factor over ``months`` of a yearly rate."""
    return np.power(1.0 + np.asarray(rate_per_year, dtype=np.float64), months / 12)


def apply_levers(model) -> None:  # noqa: ANN001 - HukouModel (avoid import cycle)
    """深府〔2016〕58号 （四）（五）（十二）, 穗府〔2018〕14号 三（一）: apply each city's spatial levers in force.

    Each lever changes its districts' housing, low-skill jobs, commuting or school places at its yearly rate.
    """
    state, months, year = model.district_state, model.step_months, model.date.year
    for gov in model.governments:
        for lever in gov.levers():
            if not lever.start_year <= year <= lever.end_year:
                continue
            idx = model.geography.index_of_adcode(np.asarray(lever.districts, dtype=np.int32))
            idx = idx[(idx >= 0) & (model.geography.city[np.maximum(idx, 0)] == gov.city_index)]
            if lever.kind == "housing":
                state.housing_stock[idx] *= _per_step(lever.annual_change, months)
            elif lever.kind == "low_skill_jobs":
                state.jobs[idx, 0] *= _per_step(lever.annual_change, months)
            elif lever.kind == "commute":
                state.commute[idx] = np.maximum(state.commute[idx] + lever.annual_change * months / 12, 0.0)
            elif lever.kind == "services":
                state.school_places[idx] *= _per_step(lever.annual_change, months)
            else:
                raise ValueError(f"unknown lever kind {lever.kind!r} in regime {gov.regime.name}")


def update_markets(model, presence: np.ndarray | None = None) -> None:  # noqa: ANN001
    """Rents and wages move toward the levels that current occupancy and labour supply imply.

    ``presence``: agents by origin × district × tier × employed (``sim.counting.presence_counts``), counted now
    when not given."""
    b, state, geo = model.behaviour, model.district_state, model.geography
    months = model.step_months
    zone = geo.zone.astype(np.int64)
    state.housing_stock *= _per_step(np.asarray(b.housing_growth_per_year)[zone], months)
    state.jobs *= _per_step(np.asarray(b.job_growth_per_year.as_list()), months)[None, :]
    state.school_places *= _per_step(b.school_places_growth_per_year, months)
    state.natives *= _per_step(b.native_growth_per_year, months)
    apply_levers(model)

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
