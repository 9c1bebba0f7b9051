"""Machinery of the mechanism modules: contract, vectorisation, route specs, spatial levers, control."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from policies.conditions import CONDITION_KEYS, any_route, check_spec, routes_of
from policies.contract import check_rules, check_variant
from policies.decision import Decision, Lever, Points
from policies.errors import InputError
from policies.mechanisms import CHANNEL_CATEGORIES, CHANNEL_KINDS, MECHANISMS, ROLES, variants_of
from policies.schema import EDUCATION, HOUSING, SKILL, TITLE, Persons, Profile

OWN = [m for m in MECHANISMS if m != "points"]
DATE = dt.date(2019, 6, 1)
# The shipped copy of the reference district table (sim/data/SOURCES.md), read from the repository.
DISTRICTS_CSV = Path(__file__).parents[2] / "sim" / "data" / "districts.csv"
ADCODES = [440103, 440106, 440111, 440115, 440118, 440303, 440306, 440309, 510104, 510116, 510121, 510185, 0]


def _profiles(n: int, seed: int = 7) -> list[Profile]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        out.append(Profile(
            age=int(rng.integers(16, 62)), sex=("female", "male")[rng.integers(2)],
            education=EDUCATION[rng.integers(len(EDUCATION))], full_time_degree=bool(rng.integers(2)),
            professional_title=TITLE[rng.integers(len(TITLE))], skill_level=SKILL[rng.integers(len(SKILL))],
            shortage_occupation=bool(rng.integers(2)),
            social_insurance_months={k: int(rng.integers(0, 130)) for k in
                                     ("pension", "medical", "unemployment", "work_injury", "maternity")},
            residence_permit_months=int(rng.integers(0, 100)), months_in_city=int(rng.integers(0, 150)),
            employed=bool(rng.integers(2)),
            housing={"type": HOUSING[rng.integers(len(HOUSING))], "registered_lease": bool(rng.integers(2)),
                     "district": ADCODES[rng.integers(len(ADCODES))]},
            tax_paid_3y=float(rng.choice([0, 100000, 240000, 480000, 600000])),
            record={"criminal": bool(rng.random() < 0.1)},
        ))
    return out


PROFILES = _profiles(300)
BATCH = Persons.from_profiles(PROFILES, DATE)
POINTS = Points(np.random.default_rng(3).uniform(0, 200, len(PROFILES)), {})
VARIANTS = [(m, v) for m in OWN for v in variants_of(m) if MECHANISMS[m].ROLE not in ("spatial", "control")]


def test_contract_declarations() -> None:
    """Each module declares its role, and channels their column and kind, and has what its role's protocol asks
    for (policies/contract.py); every variant reads only parameters its mechanism knows."""
    for name, rules in MECHANISMS.items():
        assert rules.ROLE in ROLES, name
        assert (rules.__doc__ or "").strip(), name
        role = check_rules(name, rules)
        assert role.role == rules.ROLE
        if rules.ROLE == "channel":
            assert rules.CHANNEL in CHANNEL_CATEGORIES and rules.KIND in CHANNEL_KINDS, name
        for variant in variants_of(name).values():
            check_variant(name, rules, variant)


@pytest.mark.parametrize("mechanism,variant", VARIANTS, ids=[f"{m}.{v}" for m, v in VARIANTS])
def test_batch_equals_one_by_one(mechanism: str, variant: str) -> None:
    """A batch and each person alone get the same decision (the calculator and the model agree)."""
    rules = MECHANISMS[mechanism]
    params = variants_of(mechanism)[variant].at(DATE)
    if rules.ROLE == "services":
        batch = rules.school_tier(BATCH, params)
        assert batch.dtype == np.uint8 and batch.min() >= 1 and batch.max() <= params["tiers"]
        singles = [rules.school_tier(BATCH.take(np.array([i])), params)[0]
                   for i in range(0, len(PROFILES), 7)]
        assert list(batch[::7]) == singles
        return
    decision: Decision = rules.eligible(BATCH, params, POINTS)
    assert decision.eligible.dtype == bool and decision.reason.shape == (len(PROFILES),)
    assert np.array_equal(decision.eligible, decision.reason == 0)
    for i in range(0, len(PROFILES), 7):
        one = rules.eligible(BATCH.take(np.array([i])), params, Points(POINTS.total[[i]], {}))
        assert bool(one.eligible[0]) == bool(decision.eligible[i])
        assert one.why(0) == decision.why(i)
    if rules.ROLE == "channel" and rules.KIND == "quota":
        keys = rules.rank_keys(BATCH, params, POINTS)
        assert keys and all(np.shape(k) == (len(PROFILES),) for k in keys)


def test_route_specs_are_valid() -> None:
    """Every route, tier and condition parameter of every variant uses known keys and category names."""
    for mechanism in OWN:
        for variant in variants_of(mechanism).values():
            params = variant.at(DATE)
            for name, spec in routes_of(params).items():
                check_spec(spec, f"{mechanism}.{variant.name}.route_{name}")
            for name, spec in params.items():
                if name.startswith("tier_") and spec is not None:
                    check_spec(spec, f"{mechanism}.{variant.name}.{name}")
            check_spec({k: params[k] for k in CONDITION_KEYS if params.get(k) is not None}, variant.name)


def test_unknown_condition_refused() -> None:
    """A spec with an unknown key or category is an error naming it."""
    with pytest.raises(ValueError, match="unknown condition 'age_under'"):
        any_route(BATCH, {"x": {"age_under": 45}})
    with pytest.raises(ValueError, match="'phd' is not one of"):
        check_spec({"education_min": "phd"}, "x")


def test_no_route_reason() -> None:
    """A person who holds no route's qualification is told so."""
    d = any_route(Persons.from_profiles([Profile(age=30, education="none")], DATE),
                  {"bachelor": {"education_min": "bachelor", "age_below": 45}})
    assert not d.eligible[0] and d.why(0).startswith("meets no route")


def test_services_tiers_count_is_consistent() -> None:
    """``tiers`` is one more than the number of tier specs in every variant."""
    rules = MECHANISMS["services_tiers"]
    for variant in variants_of("services_tiers").values():
        params = variant.at(DATE)
        assert params["tiers"] == len(rules.levels_of(params)) + 1, variant.name


def _known_adcodes() -> set[int]:
    with DISTRICTS_CSV.open(encoding="utf-8") as f:
        return {int(row["adcode"]) for row in csv.DictReader(f) if row["adcode"]}


@pytest.mark.parametrize("variant", sorted(variants_of("spatial_levers")))
def test_levers_name_real_districts(variant: str) -> None:
    """Spatial levers are well formed, cite an article, and name districts of one city that exist."""
    known = _known_adcodes()
    levers = MECHANISMS["spatial_levers"].levers(variants_of("spatial_levers")[variant].at(DATE))
    assert levers
    for lever in levers:
        assert isinstance(lever, Lever) and lever.ref.strip()
        named = set(lever.districts) | set(lever.to_districts)
        assert named <= known, named - known
        assert len({d // 100 for d in named}) == 1
        assert lever.start_year <= lever.end_year
        assert -0.2 < lever.annual_change < 0.2
        assert lever.on is None or lever.on.year == lever.start_year


def test_lever_switched_off_by_null() -> None:
    """A null lever (a counterfactual dropping one) is skipped; a malformed one is refused."""
    rules = MECHANISMS["spatial_levers"]
    params = dict(variants_of("spatial_levers")["shenzhen_2016"].at(DATE))
    n = len(rules.levers(params))
    params["industry_relocation"] = None
    assert len(rules.levers(params)) == n - 1
    with pytest.raises(InputError, match="spatial_levers.bad: a housing lever has exactly the keys"):
        rules.levers({"bad": {"kind": "housing"}})


def test_control_required_depends_on_rules() -> None:
    """Population control needs the total-control parameters only with a target, balance only with a plan."""
    rules = MECHANISMS["population_control"]
    sz = variants_of("population_control")["shenzhen_2016"].at(DATE)
    cd = variants_of("population_control")["chengdu_2018"].at(DATE)
    assert "resident_target" in rules.required(sz) and "talent_plan" not in rules.required(sz)
    assert "talent_plan" in rules.required(cd) and "resident_target" not in rules.required(cd)
    assert rules.quota_factors({"residents": 0.0, "hukou_residents": 0.0, "settled_last_year": {}}, sz) == \
        {"residence_insurance_channel": 1.0}


def test_residence_insurance_score_parts_cite_parameters() -> None:
    """The 居住社保 score's parts are named after the parameters that value them."""
    rules = MECHANISMS["residence_insurance_channel"]
    params = variants_of("residence_insurance_channel")["shenzhen_2016"].at(DATE)
    pts = rules.score(BATCH, params)
    assert set(pts.parts) <= set(params)
    assert np.allclose(pts.total, sum(pts.parts.values()))


def test_docs_cover_every_variant_and_assumption() -> None:
    """docs/policies.md names every mechanism and variant, and lists every assumed parameter."""
    text = (Path(__file__).parents[2] / "docs" / "policies.md").read_text(encoding="utf-8")
    for mechanism in OWN:
        assert f"`{mechanism}`" in text, mechanism
        for variant in variants_of(mechanism).values():
            assert f"`{variant.name}`" in text, f"{mechanism}.{variant.name}"
            for name, entries in variant.params.items():
                if any(e.assumption for e in entries):
                    assert f"`{name}`" in text, f"{variant.name}.{name}"


def test_the_2015_shenzhen_talent_table_is_an_assumption_before_2015() -> None:
    """The 2015 talent table (深人社规〔2014〕15号) is cited by `ref:` only from 2015: the regime applies it from
    2010, where the same values are assumptions (the 2010–2014 tables are not among the sources)."""
    early, late = dt.date(2012, 6, 1), dt.date(2016, 6, 1)
    checked = 0
    for mechanism, variant in (("points", "shenzhen_2015"), ("talent_channel", "shenzhen_2005")):
        v = variants_of(mechanism)[variant]
        for name in v.params:
            before, after = v.entry(name, early), v.entry(name, late)
            assert before is not None and after is not None and before.value == after.value, name
            if after.ref and ("2015" in after.ref or "深人社规〔2014〕15号" in after.ref):
                assert before.assumption and not before.ref, f"{variant}.{name} cites the 2015 table in 2012"
                checked += 1
    assert checked >= 12, checked
