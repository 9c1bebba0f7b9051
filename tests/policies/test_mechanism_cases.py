"""Policy expectations as data: the cases in ``policies/<mechanism>/cases/*.yaml`` of every mechanism, run by
this one parametrised test.

A case has ``name``, ``variant``, ``date``, ``input``, ``output`` and ``ref``, and optionally ``points`` (a
points total, or the name of a ``points`` variant to score the input with, for channels that read the
regime's points).
``input`` is a Profile mapping (or a list of them, for rankings); for ``control`` mechanisms it is the
``state``.
``output`` keys by role: ``total`` and ``parts`` (points: the total and some of its parts), ``eligible`` and
``reason`` (channels, permits), ``score`` (a channel's own score), ``rank_keys`` and ``admit_ties`` (quota
channels), ``tier`` (services), ``factors`` (control).

The same test runs the allocation's cases (``policies/allocation/cases/*.yaml``: quota rounds and chances, pure
functions of numbers rather than of persons). Such a case has ``name``, ``function`` (one of
``ALLOCATION_FUNCTIONS``), ``input`` (its arguments), ``output`` and ``ref``: ``chosen`` and ``ties`` (``admit``),
``order`` (``rank``), ``places`` (``places``), ``chance`` (``chance_per_step``, ``channel_chance``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from policies import allocation
from policies.decision import Points
from policies.mechanisms import MECHANISMS, variants_of
from policies.schema import Persons, Profile
from policies.yamlio import load_yaml

CASE_KEYS = {"name", "variant", "date", "input", "output", "ref"}
OPTIONAL_KEYS = {"points"}
ALLOCATION_KEYS = {"name", "function", "input", "output", "ref"}
ALLOCATION_FUNCTIONS = ("places", "admit", "rank", "chance_per_step", "channel_chance")
# Points tables implemented exactly from a text read in full (conf high): at least ten hand-worked cases each.
HIGH_CONFIDENCE_POINTS = ("guangzhou_2011", "shenzhen_2015", "shenzhen_2017")


def _load_cases() -> list[dict[str, Any]]:
    cases = []
    for mechanism, module in [*MECHANISMS.items(), ("allocation", allocation)]:
        folder = Path(str(module.__file__)).parent / "cases"
        for path in sorted(folder.glob("*.yaml")):
            for case in load_yaml(path) or []:
                cases.append({**case, "mechanism": mechanism, "file": f"{mechanism}/{path.name}"})
    return cases


CASES = _load_cases()


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _persons(raw: Any, date: dt.date) -> Persons:
    profiles = raw if isinstance(raw, list) else [raw]
    return Persons.from_profiles([Profile(**p) for p in profiles], date)


def _points(spec: Any, persons: Persons, date: dt.date) -> Points | None:
    if spec is None:
        return None
    if isinstance(spec, str):
        return MECHANISMS["points"].score(persons, variants_of("points")[spec].at(date))
    totals = np.asarray(spec if isinstance(spec, list) else [spec], dtype=np.float64)
    return Points(totals, {})


def _as_list(value: Any, n: int) -> list[Any]:
    return value if isinstance(value, list) else [value] * n


@pytest.mark.parametrize("case", CASES, ids=[f"{c['file']}::{c['name']}" for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    """Each case's decision, reason, score, ranking keys, tier, factors, admission or chance match the
    hand-worked values."""
    keys = set(case) - {"mechanism", "file"}
    assert str(case.get("ref", "")).strip(), "a case cites its article"
    if case["mechanism"] == "allocation":
        assert keys == ALLOCATION_KEYS, f"case keys: {sorted(keys)}"
        _check_allocation(case["function"], case["input"], case["output"])
        return
    assert CASE_KEYS <= keys <= CASE_KEYS | OPTIONAL_KEYS, f"case keys: {sorted(keys)}"
    rules = MECHANISMS[case["mechanism"]]
    date = _date(case["date"])
    params = variants_of(case["mechanism"])[case["variant"]].at(date)
    expected = case["output"]

    if rules.ROLE == "control":
        factors = rules.quota_factors(case["input"], params)
        for name, value in expected["factors"].items():
            assert factors[name] == pytest.approx(value), name
        return

    persons = _persons(case["input"], date)
    n = len(persons)
    if rules.ROLE == "points":
        scored = rules.score(persons, params)
        assert list(scored.total) == pytest.approx(_as_list(expected["total"], n))
        for name, value in (expected.get("parts") or {}).items():
            assert name in scored.parts, f"no part {name!r}; parts: {sorted(scored.parts)}"
            assert list(scored.parts[name]) == pytest.approx(_as_list(value, n)), name
        return
    if rules.ROLE == "services":
        assert list(rules.school_tier(persons, params)) == _as_list(expected["tier"], n)
        return

    points = _points(case.get("points"), persons, date)
    decision = rules.eligible(persons, params, points)
    if "eligible" in expected:
        assert list(decision.eligible) == _as_list(expected["eligible"], n)
    if "reason" in expected:
        assert [decision.why(i) for i in range(n)] == _as_list(expected["reason"], n)
    if "score" in expected:
        assert list(rules.score(persons, params).total) == pytest.approx(_as_list(expected["score"], n))
    if "rank_keys" in expected:
        got = [list(np.asarray(k, dtype=float)) for k in rules.rank_keys(persons, params, points)]
        assert got == [[float(v) for v in key] for key in expected["rank_keys"]]
    if "admit_ties" in expected:
        assert rules.admit_ties(params) is expected["admit_ties"]


def _check_allocation(function: str, given: dict[str, Any], expected: dict[str, Any]) -> None:
    """An allocation case: the function's result on ``given`` is ``expected`` (a chance to float precision)."""
    assert function in ALLOCATION_FUNCTIONS, f"function {function!r}"
    if function in ("admit", "rank"):
        keys = [np.asarray(k, dtype=np.float64) for k in given["keys"]]
        n = len(keys[0])
        lottery = np.asarray(given.get("lottery", np.linspace(0.0, 1.0, n)), dtype=np.float64)  # default: index order
        if function == "rank":
            assert allocation.rank(keys, lottery).tolist() == expected["order"]
            return
        result = allocation.admit(keys, given["quota"], lottery, admit_ties=given["admit_ties"])
        assert (result.chosen.tolist(), result.ties) == (expected["chosen"], expected["ties"])
        return
    if function == "places":
        assert allocation.places(given["quota"], given["factor"], given["scale"]) == pytest.approx(expected["places"])
        return
    if function == "chance_per_step":
        chance = allocation.chance_per_step(given["yearly"], given["months"])
    else:
        chance = allocation.channel_chance(given["kind"], given["params"])
    assert chance == pytest.approx(expected["chance"], rel=1e-12, abs=1e-15)


def test_every_variant_has_cases() -> None:
    """Every variant of every mechanism but spatial levers (tested in Python) has cases: at least two, three for a
    points table, ten for a high-confidence points table."""
    counts = Counter((c["mechanism"], c.get("variant")) for c in CASES)
    for mechanism in MECHANISMS:
        if MECHANISMS[mechanism].ROLE == "spatial":
            continue
        for variant in variants_of(mechanism):
            count = counts[(mechanism, variant)]
            least = 2 if mechanism != "points" else 10 if variant in HIGH_CONFIDENCE_POINTS else 3
            assert count >= least, f"{mechanism}.{variant} has {count} cases"
    names = {(c["mechanism"], c.get("variant", c.get("function")), c["name"]) for c in CASES}
    assert len(names) == len(CASES), "duplicate case names"


def test_every_allocation_function_has_cases() -> None:
    """Each public function of policies.allocation has at least two cases (and no case names another)."""
    counts = Counter(c["function"] for c in CASES if c["mechanism"] == "allocation")
    functions = [name for name in allocation.__all__ if callable(getattr(allocation, name))
                 and not isinstance(getattr(allocation, name), type)]
    assert sorted(functions) == sorted(ALLOCATION_FUNCTIONS)
    for function in ALLOCATION_FUNCTIONS:
        assert counts[function] >= 2, f"allocation.{function} has {counts[function]} cases"
