"""The machinery of the points tables' score (their hand-worked cases in ``policies/points/cases`` are run with
every mechanism's cases by test_mechanism_cases.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from policies.mechanisms import MECHANISMS, variants_of
from policies.points import rules
from policies.schema import EDUCATION, HOUSING, SKILL, TITLE, Persons, Profile

DISTRICTS = [440106, 440117, 440118, 440306, 510104, 510116, 510121, 0]


def _params(variant: str, date: dt.date) -> dict[str, Any]:
    return variants_of("points")[variant].at(date)


def _random_profiles(rng: np.random.Generator, n: int, year: int) -> list[Profile]:
    profiles = []
    for _ in range(n):
        months = {k: int(rng.integers(0, 300)) for k in ("pension", "medical", "unemployment", "work_injury",
                                                         "maternity")}
        profiles.append(Profile(
            age=int(rng.integers(16, 60)),
            education=EDUCATION[rng.integers(len(EDUCATION))],
            full_time_degree=bool(rng.integers(2)),
            professional_title=TITLE[rng.integers(len(TITLE))],
            skill_level=SKILL[rng.integers(len(SKILL))],
            shortage_occupation=bool(rng.integers(2)),
            social_insurance_months=months,
            residence_permit_months=int(rng.integers(0, 200)),
            housing={"type": HOUSING[rng.integers(len(HOUSING))], "mortgaged": bool(rng.integers(2)),
                     "district": int(rng.choice(DISTRICTS))},
            tax_paid_3y=float(rng.choice([0, 75999, 76000, 99999, 100000, 157000, 240000, 500000])),
            patents={"invention": float(rng.choice([0, 0.5, 1, 3])),
                     "utility_model": float(rng.choice([0, 1, 2]))},
            blood_donations_by_year={year - k: int(rng.integers(0, 4)) for k in range(1, 7)},
            volunteer_hours_by_year={year - k: float(rng.integers(0, 160)) for k in range(1, 7)},
            record={"bad_credit": bool(rng.integers(2))},
        ))
    return profiles


@pytest.mark.parametrize("variant", sorted(variants_of("points")))
def test_batch_equals_one_by_one_and_parts_sum(variant: str) -> None:
    """A vectorised batch scores each person as scoring them alone does; parts add up to the total (which is
    floored at zero)."""
    date = dt.date(2016, 7, 1)
    params = _params(variant, date)
    profiles = _random_profiles(np.random.default_rng(20160701), 200, date.year)
    batch = rules.score(Persons.from_profiles(profiles, date), params)
    stacked = sum(batch.parts.values())
    np.testing.assert_allclose(np.maximum(stacked, 0.0), batch.total)
    for i in range(0, len(profiles), 17):
        alone = rules.score(Persons.from_profiles([profiles[i]], date), params)
        assert alone.total[0] == pytest.approx(batch.total[i])
        assert alone.parts.keys() == batch.parts.keys()
        for name, part in alone.parts.items():
            assert part[0] == pytest.approx(batch.parts[name][i]), name
    sub = Persons.from_profiles(profiles, date).take(np.arange(50, 60))
    np.testing.assert_allclose(rules.score(sub, params).total, batch.total[50:60])


@pytest.mark.parametrize("variant", sorted(variants_of("points")))
def test_every_part_is_a_cited_parameter(variant: str) -> None:
    """Parts are parameter names with a ref or an assumption; every parameter is one the rules read."""
    v = variants_of("points")[variant]
    date = dt.date(2016, 7, 1)
    params = v.at(date)
    assert set(params) <= rules.known_parameters(), set(params) - rules.known_parameters()
    assert all(name in params for name in rules.required(params))
    persons = Persons.from_profiles([Profile(age=30, education="bachelor")], date)
    for name in rules.score(persons, params).parts:
        entry = v.entry(name, date)
        assert entry is not None and entry.provenance.strip(), name
        assert name not in rules.NOT_PARTS


def test_registered_as_points_role() -> None:
    """The registry names this module; its role is points."""
    assert MECHANISMS["points"] is rules
    assert rules.ROLE == "points"


def test_district_bonus() -> None:
    """成府发〔2017〕23号 三（一）3: +10 new towns, +20 outer counties, 0 core; else zeros."""
    adcodes = np.array([510104, 510112, 510118, 510185, 510131, 440118, 0])
    chengdu = rules.district_bonus(adcodes, _params("chengdu_2018", dt.date(2018, 6, 1)))
    np.testing.assert_array_equal(chengdu, [0, 10, 10, 20, 20, 0, 0])
    shenzhen = rules.district_bonus(adcodes, _params("shenzhen_2017", dt.date(2017, 6, 1)))
    np.testing.assert_array_equal(shenzhen, np.zeros(len(adcodes)))
    guangzhou = rules.district_bonus(adcodes, _params("guangzhou_2016", dt.date(2017, 6, 1)))
    np.testing.assert_array_equal(guangzhou, [0, 0, 0, 0, 0, 5, 0])


def test_thresholds() -> None:
    """积分线: Guangzhou 60 (2011, 2016), 100 (2018, low confidence); Shenzhen 100; Chengdu 100."""
    expected = {"guangzhou_2011": 60, "guangzhou_2016": 60, "guangzhou_2018": 100, "shenzhen_2015": 100,
                "shenzhen_2017": 100, "chengdu_2018": 100}
    for variant, threshold in expected.items():
        assert _params(variant, dt.date(2017, 1, 1))["threshold"] == threshold


def test_bad_window_is_refused() -> None:
    """A social-service window longer than the years a Persons batch carries is an error, not a silent cut."""
    params = dict(_params("guangzhou_2011", dt.date(2015, 6, 1)), social_service_window_years=9)
    persons = Persons.from_profiles([Profile(age=30, education="bachelor")], dt.date(2015, 6, 1))
    with pytest.raises(ValueError, match="window"):
        rules.score(persons, params)
