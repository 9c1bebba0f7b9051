"""District constants and the size term of location choice (sim/phases/constants.py, docs/model.md 7.3)."""

from __future__ import annotations

import numpy as np
import pytest

import sim.phases.markets as markets
from policies.regime import CITIES
from sim.config import RunConfig
from sim.drivers import JobSeries
from sim.model import HukouModel
from sim.params import ByTier, default_behaviour
from sim.phases.choice import district_terms
from sim.phases.constants import (
    ChoiceFlows,
    arrival_pull,
    census_day_flows,
    expected_flows,
    fit_constants,
    keep_city_pull,
)


def _synthetic(rng: np.random.Generator, truth: np.ndarray) -> ChoiceFlows:
    """A small world (2 cities, 7 districts, 6 chooser types) whose stock is stationary under ``truth``."""
    city = np.array([0, 0, 0, 1, 1, 1, 1])
    n_types, n_d = 6, len(city)
    weights = np.column_stack([rng.uniform(0.2, 2.0, (n_types, n_d)), np.full(n_types, 3.0)])
    stay = weights * rng.uniform(3.0, 5.0, (n_types, n_d + 1))
    arrivals = np.array([5e4, 3e4, 2e4, 0, 0, 0])              # types 0-2 arrive; 3-5 are present
    stock_type = np.repeat(np.arange(3, 6), n_d)
    stock_district = np.tile(np.arange(n_d), 3)
    flows = ChoiceFlows(weights=weights, arrivals=arrivals, stock_type=stock_type, stock_district=stock_district,
                        stock_count=np.full(len(stock_type), 1e5), reconsider=0.2, stay=stay, city=city,
                        target=np.full(n_d, 1 / 3.5))
    # The fit leaves each city's pull on arrivals as it is without constants (sim/phases/constants.py); a truth
    # normalised the same way is what it can recover. (A common shift of a city's constants changes how many
    # leave each district, so within-city constants depend on the city's level.)
    truth[:] = keep_city_pull(flows, truth, arrival_pull(flows, np.zeros(n_d)))
    # Iterate the truth's flows until the within-city shares no longer change: the stationary census-day state.
    count = flows.stock_count.copy()
    for _ in range(5000):
        probe = ChoiceFlows(**{**flows.__dict__, "stock_count": count})
        stock, inflow, outflow = expected_flows(probe, truth)
        after = stock + inflow - outflow
        share = after / np.bincount(city, weights=after)[city]
        now = stock / np.bincount(city, weights=stock)[city]
        count = count * (share / now)[stock_district]
    stock = np.bincount(stock_district, weights=count)
    target = stock / np.bincount(city, weights=stock)[city]
    return ChoiceFlows(**{**flows.__dict__, "stock_count": count, "target": target})


def test_the_fit_recovers_constants_from_a_synthetic_truth() -> None:
    rng = np.random.default_rng(7)
    truth = rng.normal(0, 0.5, 7)
    flows = _synthetic(rng, truth)
    np.testing.assert_allclose(fit_constants(flows), truth, atol=1e-3)   # truth: sd 0.5


def test_with_the_fitted_constants_the_first_years_flows_keep_each_citys_shares() -> None:
    model = HukouModel(RunConfig(scale=2000, end=2011, seed=3, regimes=("historical",)))
    fitted = model.district_constants
    model.district_constants = np.zeros_like(fitted)          # the fit's inputs are the weights without constants
    model.choice_terms = district_terms(model)
    flows = census_day_flows(model)
    stock, inflow, outflow = expected_flows(flows, fitted)
    after = stock + inflow - outflow
    share = after / np.bincount(flows.city, weights=after)[flows.city]
    np.testing.assert_allclose(share, flows.target, atol=1e-6)


def test_the_census_day_spread_stays_put_when_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """No growth of jobs, housing or pools and no levers (national_baseline has none): two years on, each
    district's share of its city's migrants is still the census's, within sampling noise."""
    flat = default_behaviour().model_copy(update={
        "housing_growth_per_year": [0.0] * 5, "housing_supply_elasticity": [0.0] * 5,
        "job_growth_per_year": ByTier(low=0.0, mid=0.0, high=0.0), "inflow_growth_per_year": 0.0})
    model = HukouModel(RunConfig(scale=200, end=2012, seed=5, regimes=("national_baseline",), behaviour=flat))
    monkeypatch.setattr(model, "pool_index", lambda origin, date: 1.0)   # the pools as on the census day
    monkeypatch.setattr(markets, "job_series", lambda: JobSeries(growth={}, after=dict.fromkeys(CITIES, 0.0)))
    model.run()
    geo = model.geography
    table = model.district_year()
    end = table[(~table["census_day"]) & (table["year"] == 2012.0)].set_index("district")["migrants"]
    migrants = end.reindex(geo.adcode).to_numpy(dtype=np.float64)
    share = migrants / np.bincount(geo.city, weights=migrants)[geo.city]
    census = geo.migrants_2010 / np.bincount(geo.city, weights=geo.migrants_2010)[geo.city]
    drift = np.abs(share - census) * 100
    # Before the constants the mean drift in Shenzhen after two years was 1.4 percentage points of residents.
    assert drift.mean() < 0.25, np.round(drift, 2)


def test_more_jobs_in_a_district_raise_its_share_of_arrivals() -> None:
    model = HukouModel(RunConfig(scale=4000, end=2012, seed=21, regimes=("national_baseline",)))
    target = int(np.flatnonzero(model.geography.adcode == 440113)[0])   # Panyu
    b = model.behaviour

    def arrival_odds() -> np.ndarray:
        weights = model.choice_terms["weights"].astype(np.float64)
        arrivals = weights[[k for k in range(len(weights)) if k % 5 == 0]]   # current city "none"
        p = arrivals[:, target] / arrivals.sum(axis=1)
        return p / (1 - p)

    before = arrival_odds()
    model.district_state.jobs[target] *= 2
    model.choice_terms = district_terms(model)
    # Twice the jobs multiply the odds of choosing the district by 2 ** (beta_size · size_jobs_weight) for every
    # arriving type (wages answer later, in the markets phase).
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = arrival_odds() / before
    ratio = ratio[np.isfinite(ratio)]          # types that cannot arrive (all weight on other cities) drop out
    assert len(ratio) > 10
    np.testing.assert_allclose(ratio, 2 ** (b.beta_size * b.size_jobs_weight), rtol=1e-5)
    assert b.beta_size * b.size_jobs_weight > 0
