"""Employment and social insurance: jobs are lost and found, insured jobs accrue social-insurance months, time in
the city and with a permit accrues, and some renters buy a home."""

from __future__ import annotations

import numpy as np

from sim.attributes import tier_of
from sim.population import COLUMNS

__all__ = ["work_and_accrue"]
_MAX_MONTHS = np.iinfo(COLUMNS["si_months"]).max


def _add_months(column: np.ndarray, mask: np.ndarray, months: int) -> None:
    column[mask] = np.minimum(column[mask].astype(np.int32) + months, _MAX_MONTHS)


def work_and_accrue(model) -> None:  # noqa: ANN001
    """One step of labour-market transitions and record-keeping for every migrant present."""
    b, pop, rng, state = model.behaviour, model.population, model.rng, model.district_state
    months = model.step_months
    district = pop["district"]
    here = district >= 0
    tier = tier_of(pop["education"])
    employed = pop["employed"]

    draw = rng.random(len(pop))
    separation = 1 - (1 - np.asarray(b.job_separation_rate.as_list())) ** (months / 12)
    losing = here & employed & (draw < separation[tier])

    workers = np.bincount(district[here & employed].astype(np.int64) * 3 + tier[here & employed],
                          minlength=model.geography.n * 3).reshape(-1, 3) * model.scale
    seekers = np.bincount(district[here & ~employed].astype(np.int64) * 3 + tier[here & ~employed],
                          minlength=model.geography.n * 3).reshape(-1, 3) * model.scale
    openings = np.clip((state.jobs - workers) / np.maximum(seekers, model.scale), 0.0, 1.0)
    finding_rate = b.job_finding_rate * openings[np.maximum(district, 0), tier]
    finding = here & ~employed & (draw < 1 - np.exp(-finding_rate * months / 12))

    employed[losing] = False
    employed[finding] = True
    _add_months(pop["si_months"], here & employed & pop["formal"], months)
    _add_months(pop["months_in_city"], here, months)
    _add_months(pop["permit_months"], here & pop["permit"], months)

    renting = here & (pop["housing"] == 0)
    buy = 1 - (1 - np.asarray(b.home_purchase_rate.as_list())) ** (months / 12)
    buying = renting & (rng.random(len(pop)) < buy[tier])
    pop["housing"][buying] = 1
    pop["stable_home"][buying] = True
