"""Employment and social insurance: jobs are lost and found, insured jobs accrue social-insurance months, time in
the city and with a permit accrues, and some renters buy a home."""

from __future__ import annotations

import numpy as np

from sim.counting import count_by
from sim.sampling import bernoulli_rows

__all__ = ["work_and_accrue"]


def _add_months(column: np.ndarray, mask: np.ndarray, months: int) -> None:
    """Add ``months`` where ``mask`` (uint16 months cannot overflow within the model's 40 years).

    Multiplying the mask is many times faster than ``np.add(..., where=mask)``.
    """
    column += mask.view(np.uint8) * np.uint8(months)


def work_and_accrue(model) -> None:  # noqa: ANN001
    """One step of labour-market transitions and record-keeping for every migrant present.

    Rare events (job loss, home purchase) are sampled sparsely (``sim.sampling``); float32 tables keep the
    temporaries to a few bytes a migrant.
    """
    b, pop, rng, state, geo = model.behaviour, model.population, model.rng, model.district_state, model.geography
    months = model.step_months
    district, tier, employed = pop["district"], pop["tier"], pop["employed"]
    here = district >= 0
    cell = np.where(here, district.astype(np.int16) * 3 + tier, 0)   # district × tier (0 when gone: masked)

    by_status = count_by(cell * 2 + employed, geo.n * 6, where=here, threads=model.threads).reshape(-1, 2) * model.scale
    seekers, workers = by_status[:, 0], by_status[:, 1]
    openings = np.clip((state.jobs.ravel() - workers) / np.maximum(seekers, model.scale), 0.0, 1.0)
    separation = (1 - (1 - np.asarray(b.job_separation_rate.as_list())) ** (months / 12)).astype(np.float32)
    finding = (1 - np.exp(-b.job_finding_rate * openings * months / 12)).astype(np.float32)

    losing = bernoulli_rows(rng, len(pop), separation[tier], eligible=here & employed, threads=model.threads)
    seekers_rows = np.flatnonzero(here & ~employed)        # job seekers are few and often find work: draw densely
    found = seekers_rows[rng.random(len(seekers_rows), dtype=np.float32) < finding[cell[seekers_rows]]]
    employed[losing] = False
    employed[found] = True

    _add_months(pop["si_months"], here & employed & pop["formal"], months)
    _add_months(pop["months_in_city"], here, months)
    _add_months(pop["permit_months"], here & pop["permit"], months)

    buy = (1 - (1 - np.asarray(b.home_purchase_rate.as_list())) ** (months / 12)).astype(np.float32)
    buying = bernoulli_rows(rng, len(pop), buy[tier], eligible=here & (pop["housing"] == 0),
                            threads=model.threads)
    pop["housing"][buying] = 1
    pop["stable_home"][buying] = True
