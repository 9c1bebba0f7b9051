"""Employment and social insurance: jobs are lost and found, insured jobs accrue social-insurance months, time in
the city and with a permit accrues, and some renters buy a home."""

from __future__ import annotations

import numpy as np

from sim.counting import count_by

__all__ = ["work_and_accrue"]


def _add_months(column: np.ndarray, mask: np.ndarray, months: int) -> None:
    """Add ``months`` where ``mask`` (uint16 months cannot overflow within the model's 40 years).

    Multiplying the mask is many times faster than ``np.add(..., where=mask)``.
    """
    column += mask.view(np.uint8) * np.uint8(months)


def work_and_accrue(model) -> None:  # noqa: ANN001
    """One step of labour-market transitions and record-keeping for every migrant present.

    One uniform draw per migrant decides both job loss (for the employed) and job finding (for job seekers),
    which are exclusive; masks and float32 tables keep the temporaries to a few bytes a migrant.
    """
    b, pop, rng, state, geo = model.behaviour, model.population, model.rng, model.district_state, model.geography
    months = model.step_months
    district, tier, employed = pop["district"], pop["tier"], pop["employed"]
    here = district >= 0
    cell = np.where(here, district.astype(np.int16) * 3 + tier, 0)   # district × tier (0 when gone: masked)

    workers = count_by(cell, geo.n * 3, where=here & employed) * model.scale
    seekers = count_by(cell, geo.n * 3, where=here & ~employed) * model.scale
    openings = np.clip((state.jobs.ravel() - workers) / np.maximum(seekers, model.scale), 0.0, 1.0)
    separation = (1 - (1 - np.asarray(b.job_separation_rate.as_list())) ** (months / 12)).astype(np.float32)
    finding = (1 - np.exp(-b.job_finding_rate * openings * months / 12)).astype(np.float32)

    draw = rng.random(len(pop), dtype=np.float32)
    losing = here & employed & (draw < separation[tier])
    found = here & ~employed & (draw < finding[cell])
    employed[losing] = False
    employed[found] = True

    _add_months(pop["si_months"], here & employed & pop["formal"], months)
    _add_months(pop["months_in_city"], here, months)
    _add_months(pop["permit_months"], here & pop["permit"], months)

    buy = (1 - (1 - np.asarray(b.home_purchase_rate.as_list())) ** (months / 12)).astype(np.float32)
    buying = here & (pop["housing"] == 0) & (rng.random(len(pop), dtype=np.float32) < buy[tier])
    pop["housing"][buying] = 1
    pop["stable_home"][buying] = True
