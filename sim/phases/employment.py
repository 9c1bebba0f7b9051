"""Employment and social insurance: jobs are lost and found, insured jobs accrue social-insurance months, time in
the city and with a permit accrues, and some renters buy a home."""

from __future__ import annotations

import numpy as np

__all__ = ["work_and_accrue"]


def _add_months(column: np.ndarray, mask: np.ndarray, months: int) -> None:
    """Add ``months`` where ``mask`` (uint16 months cannot overflow within the model's 40 years).

    Multiplying the mask is many times faster than ``np.add(..., where=mask)``.
    """
    column += mask.view(np.uint8) * np.uint8(months)


def work_and_accrue(model) -> None:  # noqa: ANN001
    """One step of labour-market transitions and record-keeping for every migrant present."""
    b, pop, rng, state, geo = model.behaviour, model.population, model.rng, model.district_state, model.geography
    months = model.step_months
    district, tier, employed = pop["district"], pop["tier"], pop["employed"]
    here = district >= 0
    cell = district.astype(np.int16) * 3 + tier            # district × tier, negative when gone

    workers_rows = np.flatnonzero(here & employed)
    seeker_rows = np.flatnonzero(here & ~employed)
    workers = np.bincount(cell[workers_rows], minlength=geo.n * 3) * model.scale
    seekers = np.bincount(cell[seeker_rows], minlength=geo.n * 3) * model.scale
    openings = np.clip((state.jobs.ravel() - workers) / np.maximum(seekers, model.scale), 0.0, 1.0)

    separation = 1 - (1 - np.asarray(b.job_separation_rate.as_list())) ** (months / 12)
    losing = workers_rows[rng.random(len(workers_rows)) < separation[tier[workers_rows]]]
    finding_chance = 1 - np.exp(-b.job_finding_rate * openings * months / 12)
    finding = seeker_rows[rng.random(len(seeker_rows)) < finding_chance[cell[seeker_rows]]]
    employed[losing] = False
    employed[finding] = True

    _add_months(pop["si_months"], here & employed & pop["formal"], months)
    _add_months(pop["months_in_city"], here, months)
    _add_months(pop["permit_months"], here & pop["permit"], months)

    renters = np.flatnonzero(here & (pop["housing"] == 0))
    buy = 1 - (1 - np.asarray(b.home_purchase_rate.as_list())) ** (months / 12)
    buyers = renters[rng.random(len(renters)) < buy[tier[renters]]]
    pop["housing"][buyers] = 1
    pop["stable_home"][buyers] = True
