"""School places follow resident population where the texts ask for it (深府〔2005〕125号 （十九）,
穗府〔2016〕3号 （十一）1, 深府〔2016〕58号 （三）, 成府发〔2017〕23号 三（四）3): planned from the children counted
``lag_years`` before."""

from __future__ import annotations

import numpy as np
import pytest

from policies.services_tiers.rules import check_planning
from sim.config import RunConfig
from sim.model import HukouModel
from sim.phases.services import planned_districts

FIXED = {f"services_tiers.shenzhen_{v}.school_planning": {"follows_population": False} for v in (2005, 2016)}


def _model(overrides: dict, end: int = 2016) -> HukouModel:
    return HukouModel(RunConfig(scale=4000, end=end, seed=5, overrides=overrides)).run()


def test_planned_places_cover_the_children_counted_three_years_before() -> None:
    model = _model({}, end=2015)   # before the 2016 levers that add places on top of the plan
    state, geo = model.district_state, model.geography
    shenzhen = geo.city == 0
    assert (planned_districts(model)[shenzhen] == 3).all()
    year = max(state.children_by_year)
    planned_for = state.school_coverage * state.children_by_year[year - 3]
    assert np.all(state.school_places[shenzhen] >= planned_for[shenzhen] * (1 - 1e-9))
    # places are never removed: each district holds the largest plan so far (the census-day places at least)
    plans = [state.school_coverage * state.children_by_year[max(y - 3, 2010)] for y in range(2011, year + 1)]
    np.testing.assert_allclose(state.school_places[shenzhen], np.max(plans, axis=0)[shenzhen], rtol=1e-9)

def test_without_planning_places_grow_at_the_fixed_rate_and_growing_districts_fall_behind() -> None:
    planned, fixed = _model({}), _model(FIXED)
    shenzhen = planned.geography.city == 0
    children = planned.district_state.children_by_year
    grew = shenzhen & (children[2013] > children[2010] * 1.2)   # faster than 2% a year over six years
    assert (planned_districts(fixed)[shenzhen] == -1).all()
    assert grew.any()
    assert np.all(planned.district_state.school_places[grew] > fixed.district_state.school_places[grew])


@pytest.mark.parametrize("value", [{"follows_population": True}, {"follows_population": "yes"},
                                   {"follows_population": True, "lag_years": -1},
                                   {"follows_population": False, "lag_years": 3}, 3])
def test_a_malformed_plan_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="school_planning"):
        check_planning(value)
