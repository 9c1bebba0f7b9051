"""Natives choose their district again (sim/phases/natives.py): nothing moves on the census day, new housing draws
natives, dearer districts lose them, and each city keeps its natives."""

from __future__ import annotations

import numpy as np

from sim.config import RunConfig
from sim.districts import DistrictState
from sim.geography import load_geography
from sim.model import HukouModel
from sim.params import default_behaviour
from sim.phases.natives import native_choice_shares, relocate_natives


def _census_day() -> tuple[DistrictState, object, object]:
    geo, b = load_geography(), default_behaviour()
    state = DistrictState.initial(geo, b)
    return state, geo, b


def test_on_the_census_day_the_choice_is_the_census_spread_and_nobody_moves() -> None:
    state, geo, b = _census_day()
    for c in np.unique(geo.city):
        mine = geo.city == c
        np.testing.assert_allclose(native_choice_shares(state, geo, b.beta_rent)[mine],
                                   geo.natives_2010[mine] / geo.natives_2010[mine].sum(), rtol=1e-12)
    before = state.natives.copy()
    relocate_natives(state, geo, b, 12)
    np.testing.assert_allclose(state.natives, before, rtol=1e-12)


def test_new_housing_draws_natives_a_dearer_district_loses_them_and_each_city_keeps_its_natives() -> None:
    state, geo, b = _census_day()
    chengdu = np.flatnonzero(geo.city == 2)
    built, dear = chengdu[0], chengdu[1]
    state.housing_stock[built] *= 1.5
    state.rent[dear] *= 1.5
    totals = np.bincount(geo.city, weights=state.natives)
    before = state.natives.copy()
    relocate_natives(state, geo, b, 12)
    assert state.natives[built] > before[built] * 1.005
    assert state.natives[dear] < before[dear] * 0.995
    np.testing.assert_allclose(np.bincount(geo.city, weights=state.natives), totals, rtol=1e-12)
    untouched = geo.city != 2
    np.testing.assert_allclose(state.natives[untouched], before[untouched], rtol=1e-12)   # other cities unchanged
    # the share that moves is the yearly rate: the gap to the choice closes by native_relocation_per_year
    target = native_choice_shares(state, geo, b.beta_rent)[built] * totals[2]
    np.testing.assert_allclose(state.natives[built] - before[built],
                               b.native_relocation_per_year * (target - before[built]), rtol=1e-6)


def test_in_a_run_natives_move_from_the_districts_that_lost_pull_to_those_that_gained() -> None:
    """Switched off, natives only grow at their natural rate; switched on, each city keeps its natives, and the
    district whose housing and rents turned most against it (its choice share fell most against its census share)
    loses natives against that, while the one that gained most wins them."""
    def run(rate: float) -> HukouModel:
        behaviour = default_behaviour().model_copy(update={"native_relocation_per_year": rate})
        return HukouModel(RunConfig(scale=4000, end=2014, seed=5, behaviour=behaviour)).run()

    still, moving = run(0.0), run(0.03)
    geo, b = moving.geography, moving.behaviour
    np.testing.assert_allclose(still.district_state.natives,
                               geo.natives_2010 * (1 + b.native_growth_per_year) ** (50 / 12), rtol=0.01)
    pull_change = native_choice_shares(moving.district_state, geo, b.beta_rent) / native_choice_shares(
        DistrictState.initial(geo, b), geo, b.beta_rent)
    for c in np.unique(geo.city):
        mine = np.flatnonzero(geo.city == c)
        np.testing.assert_allclose(moving.district_state.natives[mine].sum(), still.district_state.natives[mine].sum(),
                                   rtol=1e-9)
        lost, gained = mine[np.argmin(pull_change[mine])], mine[np.argmax(pull_change[mine])]
        assert pull_change[lost] < 0.98 < 1.02 < pull_change[gained]
        assert moving.district_state.natives[lost] < still.district_state.natives[lost]
        assert moving.district_state.natives[gained] > still.district_state.natives[gained]
