"""Eligibility conditions as data: every channel's settlement routes and conditions, over ``Persons``.

The documents state settlement conditions as short lists ("具有全日制本科及以上学历，年龄在45周岁以下";
"持有效居住证， 在穗缴纳社会保险满4年"). A *condition spec* writes one such list as a mapping in
``params.yaml``; a *route* is a named spec (one way in: a degree, a title, a skill, a tax amount, years of
residence). The rule modules of the channels (``talent_channel``, ``tax_channel``, ``open_channel``,
``points_channel``, …) only say which specs apply; the numbers stay in the parameter files with their
citations, and this module holds no number of its own.

Keys of a spec (all optional; a key that is absent or null sets no condition):

| key | meaning |
|---|---|
| ``education_min`` | highest education at least this ``EDUCATION`` name |
| ``full_time`` | the degree was earned full-time (全日制) |
| ``title_min`` | professional title at least this ``TITLE`` name |
| ``skill_min`` | vocational skill level at least this ``SKILL`` name |
| ``shortage`` | occupation on the city's shortage list (紧缺工种) |
| ``age_min`` | age at least (inclusive) |
| ``age_below`` | age under (exclusive: "45周岁以下" in Shenzhen's texts); a number or ``{male:, female:}`` |
| ``age_at_most`` | age at most (inclusive: "不超过45周岁"); a number or ``{male: , female: }`` |
| ``insurance_months_min`` | ``{insurance: months}``: months of each named social insurance in this city |
| ``permit_months_min`` | continuous months holding a residence permit in this city |
| ``months_in_city_min`` | months lived in this city |
| ``employed`` / ``stable_home`` / ``owned_home`` | a legal stable job / a legal stable home / an owned home |
| ``home_districts`` | the home is in one of these districts (adcodes) |
| ``tax_3y_min`` | personal income tax paid in this city over three tax years, RMB |
| ``score_min`` | points (the regime's points, or the channel's own score) at least |
| ``no_criminal`` | no criminal record |

The qualification keys (education, full-time, title, skill, shortage) say which route a person is on; the
others are the route's further conditions. When no route fits, the reason a person is refused is the first
unmet condition of the first route whose qualification they hold, so the calculator can say "age 45 or over"
rather than "not eligible".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from policies.decision import Decision, Points
from policies.schema import EDUCATION, INSURANCES, SEX, SKILL, TITLE, PersonColumns, code_of

__all__ = ["QUALIFICATION_KEYS", "CONDITION_KEYS", "check_spec", "conditions", "qualified", "any_route",
           "routes_of", "ROUTE_PREFIX", "check_parameter", "check_condition_mapping"]

QUALIFICATION_KEYS = ("education_min", "full_time", "title_min", "skill_min", "shortage")
CONDITION_KEYS = QUALIFICATION_KEYS + (
    "age_min", "age_below", "age_at_most", "insurance_months_min", "permit_months_min", "months_in_city_min",
    "employed", "stable_home", "owned_home", "home_districts", "tax_3y_min", "score_min", "no_criminal",
)
ROUTE_PREFIX = "route_"
_OWNED = code_of(("rented", "owned", "employer", "relative"), "owned")
_MALE = code_of(SEX, "male")


def check_spec(spec: Mapping[str, Any], where: str = "") -> None:
    """Refuse a spec with an unknown key or an unknown category name (``ValueError`` naming ``where`` and the key;
    without ``where``, the key alone)."""
    inside = f"{where}." if where else ""
    for key, value in spec.items():
        if key not in CONDITION_KEYS:
            raise ValueError(f"{where or key}: unknown condition {key!r} (known: {', '.join(CONDITION_KEYS)})")
        table = {"education_min": EDUCATION, "title_min": TITLE, "skill_min": SKILL}.get(key)
        if table is not None and value is not None and value not in table:
            raise ValueError(f"{inside}{key}: {value!r} is not one of {', '.join(table)}")
        if key == "insurance_months_min" and value is not None:
            unknown = set(value) - set(INSURANCES)
            if unknown:
                raise ValueError(f"{inside}{key}: unknown insurance {sorted(unknown)[0]!r}")


def check_condition_mapping(name: str, value: Any, what: str) -> None:
    """Refuse a ``what`` (a channel's route, a services tier) that is not a mapping of known conditions."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{name}: a {what} is a mapping of conditions, not {value!r}")
    check_spec(value, name)


def check_parameter(name: str, value: Any) -> None:
    """Refuse a channel parameter its rule cannot read (``ValueError``): a ``route_*`` that is not a condition spec
    of known keys and categories, or a condition parameter (``age_below``, ``insurance_months_min``, …) with an
    unknown category. A null value (a route or condition switched off) passes."""
    if value is None:
        return
    if name.startswith(ROUTE_PREFIX):
        check_condition_mapping(name, value, "route")
    elif name in CONDITION_KEYS:
        check_spec({name: value})


def _by_sex(persons: PersonColumns, limit: float | Mapping[str, float]) -> np.ndarray:
    """A per-person limit from a number or a ``{male: , female: }`` mapping."""
    if isinstance(limit, Mapping):
        return np.where(persons.sex == _MALE, limit["male"], limit["female"])
    return np.full(len(persons), limit)


def _limit_text(limit: Any) -> str:
    if isinstance(limit, Mapping):
        return f"{limit['male']} (men) / {limit['female']} (women)"
    return str(limit)


def qualified(persons: PersonColumns, spec: Mapping[str, Any]) -> np.ndarray:
    """Whether each person holds the route's qualification (education, full-time, title, skill, shortage)."""
    return np.logical_and.reduce(
        [met for _, met in _qualification_conditions(persons, spec)] or [np.ones(len(persons), dtype=bool)]
    )


def _qualification_conditions(persons: PersonColumns, spec: Mapping[str, Any]) -> list[tuple[str, np.ndarray]]:
    out = []
    if spec.get("education_min") is not None:
        out.append((f"education below {spec['education_min']}",
                    persons.education >= code_of(EDUCATION, spec["education_min"])))
    if spec.get("full_time"):
        out.append(("degree not full-time", persons.full_time_degree.astype(bool)))
    if spec.get("title_min") is not None:
        out.append((f"professional title below {spec['title_min']}",
                    persons.professional_title >= code_of(TITLE, spec["title_min"])))
    if spec.get("skill_min") is not None:
        out.append((f"skill level below {spec['skill_min']}",
                    persons.skill_level >= code_of(SKILL, spec["skill_min"])))
    if spec.get("shortage"):
        out.append(("occupation not on the shortage list", persons.shortage_occupation.astype(bool)))
    return out


def conditions(persons: PersonColumns, spec: Mapping[str, Any], points: Points | None = None,
               label: str = "") -> dict[str, np.ndarray]:
    """The spec's conditions in a fixed order, as ``{text of failing: who meets it}`` (see ``decide``).

    ``label`` prefixes each text (the route's name), ``points`` feeds ``score_min``.
    """
    n = len(persons)
    out: list[tuple[str, np.ndarray]] = list(_qualification_conditions(persons, spec))
    if spec.get("age_min") is not None:
        out.append((f"under {spec['age_min']} years old", persons.age >= spec["age_min"]))
    if spec.get("age_below") is not None:
        out.append((f"age {_limit_text(spec['age_below'])} or over",
                    persons.age < _by_sex(persons, spec["age_below"])))
    if spec.get("age_at_most") is not None:
        out.append((f"older than {_limit_text(spec['age_at_most'])}",
                    persons.age <= _by_sex(persons, spec["age_at_most"])))
    for insurance, months in (spec.get("insurance_months_min") or {}).items():
        out.append((f"fewer than {months} months of {insurance} insurance",
                    getattr(persons, f"si_{insurance}") >= months))
    if spec.get("permit_months_min") is not None:
        out.append((f"fewer than {spec['permit_months_min']} months holding a residence permit",
                    persons.residence_permit_months >= spec["permit_months_min"]))
    if spec.get("months_in_city_min") is not None:
        out.append((f"fewer than {spec['months_in_city_min']} months in the city",
                    persons.months_in_city >= spec["months_in_city_min"]))
    if spec.get("employed"):
        out.append(("no stable job", persons.employed.astype(bool)))
    if spec.get("stable_home"):
        out.append(("no stable home", persons.stable_home.astype(bool)))
    if spec.get("owned_home"):
        out.append(("no owned home", persons.housing_type == _OWNED))
    if spec.get("home_districts") is not None:
        out.append(("home outside the route's districts",
                    np.isin(persons.home_district, np.asarray(spec["home_districts"], dtype=np.int64))))
    if spec.get("tax_3y_min") is not None:
        out.append((f"less than RMB {spec['tax_3y_min']:,} income tax over three years",
                    persons.tax_paid_3y >= spec["tax_3y_min"]))
    if spec.get("score_min") is not None:
        total = points.total if points is not None else np.full(n, -np.inf)
        out.append((f"fewer than {spec['score_min']} points", total >= spec["score_min"]))
    if spec.get("no_criminal"):
        out.append(("criminal record", ~persons.criminal.astype(bool)))
    prefix = f"{label}: " if label else ""
    return {prefix + text: _per_person(met, n) for text, met in out}


def _per_person(met: Any, n: int) -> np.ndarray:
    """``met`` as one boolean per person (a condition may be a scalar, or a column already)."""
    if isinstance(met, np.ndarray) and met.dtype == np.bool_ and met.shape == (n,):
        return met
    return np.broadcast_to(np.asarray(met, dtype=bool), (n,))


def routes_of(params: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The routes of a variant: parameters named ``route_*`` (a null value switches a route off)."""
    return {name[len(ROUTE_PREFIX):]: spec for name, spec in params.items()
            if name.startswith(ROUTE_PREFIX) and spec is not None}


def any_route(persons: PersonColumns, routes: Mapping[str, Mapping[str, Any]],
              points: Points | None = None) -> Decision:
    """条件入户 by route: eligible when some route's conditions all hold; else the nearest route's reason.

    A refused person's reason is the first unmet condition of the first route whose qualification they hold,
    or "meets no route" when they hold none. Routes with a qualification key and no points condition are tried
    first, points and open routes last, so a 45-year-old bachelor reads "bachelor: age 45 or over" rather than
    a points-route reason.
    """
    n = len(persons)
    eligible = np.zeros(n, dtype=bool)
    evaluated: list[tuple[bool, int, Mapping[str, Any], dict[str, np.ndarray]]] = []
    for name, spec in routes.items():
        check_spec(spec, name)
        conds = conditions(persons, spec, points, label=name)
        eligible |= np.logical_and.reduce(list(conds.values())) if conds else np.ones(n, dtype=bool)
        fallback = spec.get("score_min") is not None or not any(spec.get(k) for k in QUALIFICATION_KEYS)
        evaluated.append((fallback, len(evaluated), spec, conds))

    def explain() -> tuple[np.ndarray, tuple[str, ...]]:
        reasons: list[str] = ["eligible", "meets no route (education, title, skill or other qualification)"]
        reason = np.full(n, 1, dtype=np.uint8)
        explained = eligible.copy()
        for _, _, spec, conds in sorted(evaluated, key=lambda e: e[:2]):
            on_route = qualified(persons, spec) & ~explained
            for text, met in conds.items():
                if text not in reasons:
                    reasons.append(text)
                failing = on_route & ~met
                reason[failing] = reasons.index(text)
                on_route &= met
                explained |= failing
        reason[eligible] = 0
        return reason, tuple(reasons)

    return Decision(eligible, explain=explain)
