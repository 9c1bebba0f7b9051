"""Employment and social insurance: jobs are lost and found, insured jobs accrue social-insurance months (where the
permit in force gates insured work, only for permit holders), time in the city and with a permit accrues, and some
renters buy a home."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.parallel import ordered_map
from sim.sampling import bernoulli_rows

if TYPE_CHECKING:
    from sim.model import HukouModel

__all__ = ["work_and_accrue", "BLOCK"]

BLOCK = 1 << 18  # migrants per block (and per generator): small, so two blocks in flight cost little memory


def _add_months(column: np.ndarray, mask: np.ndarray, months: int) -> None:
    """Add ``months`` where ``mask`` (uint16 months cannot overflow within the model's 40 years).

    Multiplying the mask is many times faster than ``np.add(..., where=mask)``.
    """
    column += mask.view(np.uint8) * np.uint8(months)


def _gated_districts(model: HukouModel) -> np.ndarray | None:
    """Per district, whether the city's permit in force gates insured work (``gates_insured_work``: Shenzhen's
    暂住证 until 2016, no hiring registered and no insurance paid without it); None when no city does, so the
    common case costs nothing."""
    rules = [gov.permit_rule() for gov in model.governments]
    by_city = np.array([rule is not None and bool(rule.params["gates_insured_work"]) for rule in rules])
    return by_city[model.geography.city] if by_city.any() else None


def work_and_accrue(model: HukouModel) -> None:
    """One step of labour-market transitions and record-keeping for every migrant present.

    The rows are processed in blocks of ``BLOCK`` on ``model.threads`` threads: first counting job seekers and
    workers, then each block's transitions, drawn from the block's own generator (seeded from the model's in
    block order, so the result does not depend on the number of threads). Rare events (home purchase) are sampled
    sparsely (``sim.sampling``); float32 tables keep the temporaries to a few bytes a migrant.
    """
    b, pop, state, geo = model.behaviour, model.population, model.district_state, model.geography
    months, n = model.step_months, len(pop)
    starts = range(0, n, BLOCK)

    def cells(begin: int) -> tuple[np.ndarray, np.ndarray]:
        """District × tier of each migrant of the block (0 when gone: masked) and who is present."""
        district = pop["district"][begin:begin + BLOCK]
        here = district >= 0
        return np.where(here, district.astype(np.int16) * 3 + pop["tier"][begin:begin + BLOCK], 0), here

    def count_block(begin: int) -> np.ndarray:
        cell, here = cells(begin)
        code = np.where(here, cell * 2 + pop["employed"][begin:begin + BLOCK], geo.n * 6)  # spare bin: gone
        return np.bincount(code, minlength=geo.n * 6 + 1)[:-1]

    counts = sum(ordered_map(count_block, starts, model.threads), np.zeros(geo.n * 6, dtype=np.int64))
    by_status = counts.reshape(-1, 2) * model.scale
    seekers, workers = by_status[:, 0], by_status[:, 1]
    openings = np.clip((state.jobs.ravel() - workers) / np.maximum(seekers, model.scale), 0.0, 1.0)
    separation = (1 - (1 - np.asarray(b.job_separation_rate.as_list())) ** (months / 12)).astype(np.float32)
    finding = (1 - np.exp(-b.job_finding_rate * openings * months / 12)).astype(np.float32)
    buy = (1 - (1 - np.asarray(b.home_purchase_rate.as_list())) ** (months / 12)).astype(np.float32)
    seeds = model.rng.integers(2**63, size=len(starts))
    gated = _gated_districts(model)

    def step_block(block: int) -> None:
        begin = starts[block]
        end = min(begin + BLOCK, n)
        rng = np.random.default_rng(seeds[block])
        cell, here = cells(begin)
        tier, employed = pop["tier"][begin:end], pop["employed"][begin:end]
        losing = here & employed & (rng.random(end - begin, dtype=np.float32) < separation[tier])
        seeking = np.flatnonzero(here & ~employed)   # job seekers are few and often find work: draw densely
        found = seeking[rng.random(len(seeking), dtype=np.float32) < finding[cell[seeking]]]
        employed[losing] = False
        employed[found] = True

        insured = here & employed & pop["formal"][begin:end]
        if gated is not None:   # insured work needs the permit here: without one the job is informal
            insured &= pop["permit"][begin:end] | ~gated[np.maximum(pop["district"][begin:end], 0)]
        _add_months(pop["si_months"][begin:end], insured, months)
        _add_months(pop["months_in_city"][begin:end], here, months)
        _add_months(pop["permit_months"][begin:end], here & pop["permit"][begin:end], months)

        renting = here & (pop["housing"][begin:end] == 0)
        buying = bernoulli_rows(rng, end - begin, buy[tier], eligible=renting)
        pop["housing"][begin:end][buying] = 1
        pop["stable_home"][begin:end][buying] = True

    for _ in ordered_map(step_block, range(len(starts)), model.threads):
        pass
