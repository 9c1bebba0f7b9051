"""Behaviour in the right direction: rents, service access and the outside option move choices as they should."""

from __future__ import annotations

import numpy as np

from sim.config import RunConfig
from sim.model import HukouModel
from sim.phases.choice import choose, district_terms
from sim.phases.services import SCHOOL_GROUPS
from sim.population import OUTSIDE

N_DRAWS = 60_000


def _model() -> HukouModel:
    return HukouModel(RunConfig(scale=4000, end=2012, seed=21, regimes=("national_baseline",)))


def _pool(model: HukouModel, n: int = N_DRAWS) -> dict[str, np.ndarray]:
    """A pool of would-be arrivals drawn as the arrivals phase draws them."""
    from sim.attributes import draw_migrants

    origin = np.resize(np.arange(4, dtype=np.uint8), n)
    columns = draw_migrants(np.random.default_rng(0), origin, model.behaviour, month_index=model.month_index,
                            step=0)
    columns["district"] = np.full(n, OUTSIDE, dtype=np.int8)
    return columns


def _share_choosing(model: HukouModel, columns: dict, district: int, *, arriving: bool = True) -> float:
    model.rng = np.random.default_rng(1)
    choice = choose(model, columns, np.arange(len(columns["origin"])), arriving=arriving)
    return float(np.mean(choice == district))


def test_raising_a_districts_rent_lowers_its_share_of_arrivals() -> None:
    model = _model()
    pool = _pool(model)
    target = int(np.flatnonzero(model.geography.adcode == 440306)[0])  # Bao'an
    before = _share_choosing(model, pool, target)
    model.district_state.rent[target] *= 1.5
    model.choice_terms = district_terms(model)
    after = _share_choosing(model, pool, target)
    assert after < before - 3 * np.sqrt(before * (1 - before) / N_DRAWS), (before, after)


def test_better_school_access_for_ones_tier_raises_a_districts_share() -> None:
    """A parent ranked in the first school tier weighs the first tier's access (深府〔2016〕58号 （十三）)."""
    model = _model()
    pool = _pool(model)
    pool["permit"][:] = True
    pool["children"][:] = 1
    pool["school_level"][:] = 1
    tier_1 = SCHOOL_GROUPS.index("tier_1")
    here = int(np.flatnonzero(model.geography.adcode == 440113)[0])  # Panyu
    pool["district"][:] = int(np.flatnonzero(model.geography.adcode == 440111)[0])  # living in Baiyun
    model.district_state.school_access[here, tier_1] = 0.0
    model.choice_terms = district_terms(model)
    before = _share_choosing(model, pool, here, arriving=False)
    unchanged = _share_choosing(model, {**pool, "school_level": np.full_like(pool["school_level"], 3)}, here,
                                arriving=False)
    model.district_state.school_access[here, tier_1] = 1.0
    model.choice_terms = district_terms(model)
    after = _share_choosing(model, pool, here, arriving=False)
    assert after > before + 3 * np.sqrt(before * (1 - before) / N_DRAWS), (before, after)
    # a parent in the third tier is not moved by the first tier's access (the same draws: the same choices)
    third = _share_choosing(model, {**pool, "school_level": np.full_like(pool["school_level"], 3)}, here,
                            arriving=False)
    assert third == unchanged, (unchanged, third)


def _arrivals(outside_scale: float) -> float:
    config = RunConfig(scale=4000, end=2012, seed=5, regimes=("national_baseline",))
    halved = {o: u * outside_scale for o, u in config.behaviour.outside_utility.items()}
    config = config.model_copy(update={"behaviour": config.behaviour.model_copy(
        update={"outside_utility": halved})})
    frame = HukouModel(config).run().city_year()
    return float(frame["arrivals"].sum())


def test_halving_the_outside_options_utility_raises_total_inflow() -> None:
    assert _arrivals(0.5) > 1.2 * _arrivals(1.0)


def test_choice_follows_the_logit_with_settlement_prospects_exactly() -> None:
    """Rejection sampling around the prospects factor (sim.phases.choice) draws from the logit itself: one
    migrant, copied many times, chooses with the probabilities computed from its weights and prospects."""
    from scipy.stats import chisquare

    from sim.phases.choice import type_index
    from sim.phases.prospects import prospect_factor

    model = HukouModel(RunConfig(scale=4000, end=2019, seed=3))
    while model.date.year < 2018:  # Chengdu's district points bonus is in force
        model.step()
    pop, geo, n = model.population, model.geography, 200_000
    districts = np.arange(geo.n)

    def factors(row: int) -> np.ndarray:
        copies = np.full(geo.n, row)
        here_city = geo.city[pop["district"][row]]
        return prospect_factor(model, model.persons(copies), np.full(geo.n, here_city), pop["formal"][copies],
                               districts)

    candidates = np.flatnonzero((pop["district"] >= 0) & (pop["settled"] < 0))
    # A migrant whose prospects differ between districts, so that the test has teeth.
    row = next(int(r) for r in candidates if np.ptp(factors(int(r))) > 0.05)
    factor = factors(row)
    here = int(pop["district"][row])
    model.rng = np.random.default_rng(11)
    chosen = choose(model, pop, np.full(n, row), arriving=False)
    observed = np.bincount(np.where(chosen == OUTSIDE, geo.n, chosen), minlength=geo.n + 1)

    group = 1 if pop["permit"][row] else 2
    kind = type_index(int(pop["tier"][row]), int(pop["origin"][row]), group, int(pop["children"][row] > 0),
                       int(geo.city[here]))
    weights = model.choice_terms["weights"][kind].astype(np.float64)
    weights[here] = model.choice_terms["stay"][kind, here]
    weights[:geo.n] *= factor
    expected = weights / weights.sum() * n
    seen = expected > 0
    assert observed[~seen].sum() == 0
    assert chisquare(observed[seen], expected[seen]).pvalue > 1e-4
