"""Migrants carry the records the points tables and conditions score (blood donation, volunteering, patents,
credit, criminal record, unemployment insurance and how much later than medical insurance it began): drawn on
arrival with behaviour.yaml's shares and read by the same rules that score the calculator's person (issue 11, the
CALC-ONLY rows of the audit)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from policies.allocation import admit
from policies.mechanisms import variants_of
from policies.points_channel import rules as points_channel
from policies.schema import WINDOW_YEARS
from sim import attributes
from sim.attributes import draw_migrants
from sim.config import RunConfig
from sim.model import HukouModel
from sim.params import default_behaviour
from sim.population import DONATIONS_PER_YEAR, RECORD_BITS


def test_records_are_drawn_with_their_shares_and_patents_only_for_graduates() -> None:
    b = default_behaviour()
    cols = draw_migrants(np.random.default_rng(0), np.zeros(200_000, dtype=np.int8), b, month_index=740, step=0)
    for name, bit in RECORD_BITS.items():
        has = (cols["records"] & bit) > 0
        graduates = cols["education"] >= 5
        share = has[graduates].mean() if name.endswith("_patent") else has.mean()
        expected = getattr(b.person_records, name)
        assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / 20_000) + 1e-9, (name, share)
        if name.endswith("_patent"):
            assert not has[~graduates].any()


def test_the_rules_read_the_records_and_guangzhou_points_count_them() -> None:
    model = HukouModel(RunConfig(scale=4000, end=2012, seed=2))
    pop, guangzhou = model.population, model.governments[1]
    rows = np.flatnonzero(model.geography.city[np.maximum(pop["district"], 0)] == guangzhou.city_index)[:500]
    pop["records"][rows] = 0
    before = guangzhou.points(model.persons(rows))
    pop["records"][rows] = (RECORD_BITS["blood_donor"] | RECORD_BITS["criminal"]
                            | RECORD_BITS["no_unemployment_insurance"])
    persons = model.persons(rows)
    after = guangzhou.points(persons)
    assert persons.criminal.all() and not persons.bad_credit.any()
    np.testing.assert_array_equal(persons.blood_donations, np.full((len(rows), WINDOW_YEARS), DONATIONS_PER_YEAR))
    assert (persons.si_unemployment == 0).all() and (persons.si_pension >= 0).all()
    # 穗 2011-2015 table: 2 points a donation, at most 2 a year and 10 in all: five yearly donations give 10
    assert before is not None and after is not None
    np.testing.assert_array_equal(after.total - before.total, np.full(len(rows), 10.0))


def test_unemployment_insurance_lags_for_a_share_of_those_who_have_it() -> None:
    b = default_behaviour()
    lag = b.unemployment_insurance_lag
    cols = draw_migrants(np.random.default_rng(1), np.zeros(200_000, dtype=np.int8), b, month_index=740, step=0)
    with_ui = (cols["records"] & RECORD_BITS["no_unemployment_insurance"]) == 0
    lagged = cols["ui_lag"] > 0
    assert not lagged[~with_ui].any()        # no unemployment insurance: no account to begin late
    share = lagged[with_ui].mean()
    assert abs(share - lag.share) < 4 * np.sqrt(lag.share * (1 - lag.share) / with_ui.sum()), share
    assert cols["ui_lag"][lagged].min() == 1 and cols["ui_lag"].max() == lag.max_months


def test_the_lag_lets_guangzhou_2011_tie_break_decide_who_is_admitted() -> None:
    """实施细则 2014 第八条: equal medical-insurance months, then more unemployment-insurance months first. Two
    applicants tied on 60 medical months, one who began unemployment insurance 12 months later: the one place goes
    to the other, whatever the lottery; ranked by medical months alone, the lottery decides."""
    model = HukouModel(RunConfig(scale=4000, end=2012, seed=2))
    pop, guangzhou = model.population, model.governments[1]
    rows = np.flatnonzero(model.geography.city[np.maximum(pop["district"], 0)] == guangzhou.city_index)[:2]
    pop["si_months"][rows], pop["records"][rows], pop["ui_lag"][rows] = 60, 0, [0, 12]
    persons = model.persons(rows)
    assert persons.si_medical.tolist() == [60, 60] and persons.si_unemployment.tolist() == [60, 48]
    params = variants_of("points_channel")["guangzhou_2011"].at(dt.date(2013, 9, 1))
    assert params["rank_by"] == ["si_medical", "si_unemployment"] and not params["admit_ties"]
    keys = points_channel.rank_keys(persons, params, None)
    for lottery in ([0.1, 0.9], [0.9, 0.1]):
        assert admit(keys, 1, np.array(lottery), admit_ties=False).chosen.tolist() == [0]
    medical_only = points_channel.rank_keys(persons, {**params, "rank_by": ["si_medical"]}, None)
    assert admit(medical_only, 1, np.array([0.9, 0.1]), admit_ties=False).chosen.tolist() == [1]


def test_the_lag_is_drawn_after_every_other_attribute(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every other attribute is drawn as before the lag existed (so runs differ only where unemployment-insurance
    months are read): drawing no lag at all leaves the other columns as they are."""
    b, origin = default_behaviour(), np.zeros(5_000, dtype=np.int8)
    with_lag = draw_migrants(np.random.default_rng(3), origin, b, month_index=740, step=0)
    monkeypatch.setattr(attributes, "_ui_lag", lambda rng, b, records, n: np.zeros(n, dtype=np.uint8))
    without = draw_migrants(np.random.default_rng(3), origin, b, month_index=740, step=0)
    assert (with_lag["ui_lag"] > 0).any() and not without["ui_lag"].any()
    for name in set(with_lag) - {"ui_lag"}:
        np.testing.assert_array_equal(with_lag[name], without[name], err_msg=name)
