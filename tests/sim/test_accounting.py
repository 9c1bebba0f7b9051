"""Accounting invariants: stocks follow flows, settlements follow the rules, quotas hold, points are never
negative."""

from __future__ import annotations

import numpy as np
import pytest

import sim.phases.settlement as settlement
from policies.regime import ActiveMechanism
from sim.config import RunConfig
from sim.government import CityGovernment
from sim.model import HukouModel


def _stock(model: HukouModel) -> np.ndarray:
    district = model.population["district"]
    return np.bincount(district[district >= 0], minlength=model.geography.n)


def test_every_step_stock_change_equals_arrivals_minus_exits_per_district_and_city() -> None:
    model = HukouModel(RunConfig(scale=4000, end=2013, seed=3))
    checked = 0
    while not model.steps_done:
        before = _stock(model)
        model.step()
        f = model.flows.step
        change = _stock(model) - before
        expected = f["arrivals"] + f["moves_in"] - f["moves_out"] - f["returns"] - f["retirements"]
        np.testing.assert_array_equal(change, expected)
        for c in range(3):
            mine = model.geography.city == c
            assert change[mine].sum() == expected[mine].sum()
        checked += 1
    assert checked == model.clock.n_steps
    assert sum(model.flows.year["arrivals"]) >= 0 and model.district_year()["arrivals"].sum() > 0


def test_nobody_settles_without_meeting_the_channels_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    original = settlement.settle
    seen = {"settled": 0}

    def checked_settle(model: HukouModel, gov: CityGovernment, mech: ActiveMechanism, rows: np.ndarray) -> None:
        if len(rows):
            persons = model.persons(rows)
            points = gov.points(persons)
            assert mech.rules.eligible(persons, mech.params, points).eligible.all(), mech.name
            if points is not None and "min_score" in mech.params:
                assert (points.total >= mech.params["min_score"]).all()
            assert (model.population["settled"][rows] < 0).all(), "settled twice"
            seen["settled"] += len(rows)
        original(model, gov, mech, rows)

    monkeypatch.setattr(settlement, "settle", checked_settle)
    HukouModel(RunConfig(scale=4000, end=2019, seed=5)).run()
    assert seen["settled"] > 0


def test_quotas_are_never_exceeded(small_run: HukouModel) -> None:
    rounds = small_run.round_log
    assert rounds, "no quota round ran"
    for r in rounds:
        assert r["admitted"] <= r["quota_agents"] + r["ties_admitted"], r
        assert r["admitted"] <= r["applicants"]
        assert r["ties_admitted"] == 0 or r["admitted"] > r["quota_agents"]


def test_points_are_never_negative(small_run: HukouModel) -> None:
    model = small_run
    rows = np.flatnonzero(model.population["district"] >= 0)
    for gov in model.governments:
        points = gov.points(model.persons(rows))
        if points is not None:
            assert (points.total >= 0).all(), gov.city


def test_outputs_are_in_persons_and_consistent(small_run: HukouModel) -> None:
    d = small_run.district_year()
    assert len(d["district"].unique()) == 41
    np.testing.assert_allclose(d["residents"], d["hukou_residents"] + d["migrants"])
    assert (d["migrants"] % small_run.scale == 0).all()
    census = d[d["census_day"]]
    assert sorted(census["year"].unique()) == [2010.83]  # the run ends in 2017: only the first census day
    c = small_run.city_year()
    assert set(c["city"]) == {"shenzhen", "guangzhou", "chengdu"}
    assert ((c["hukou_share"] > 0) & (c["hukou_share"] < 1)).all()
