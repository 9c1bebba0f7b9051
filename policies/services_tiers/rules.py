"""深府〔2016〕58号 （十三） 梯度赋权; 穗府〔2016〕3号 （八）（十一）1; 成府发〔2017〕23号 三（三）1: tiered
public schooling.

Migrant children reach public school in tiers: ``tier_1``, ``tier_2``, … are condition specs
(``policies.conditions``) on the parent, tried in order; a child's tier is the first one the parent meets,
and ``tiers`` (one more than the number of specs) means no access to public school. The model fills school
places tier by tier. Where access is by residence-permit points (Guangzhou 积分入学), ``service_points``
weights the parent's permit years, insurance years, job, home, education and skill into a score that specs
test with ``score_min``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from policies.conditions import check_condition_mapping, check_spec, conditions
from policies.contract import Parameters
from policies.decision import Points
from policies.schema import EDUCATION, SKILL, PersonColumns, code_of

__all__ = ["ROLE", "PARAMETERS", "PLANNING", "MAX_TIERS", "TIER_PREFIX", "check_parameter", "check_planning",
           "levels_of", "service_score", "school_tier"]

ROLE = "services"
TIER_PREFIX = "tier_"
_MONTHS_PER_YEAR = 12  # a unit conversion, not a policy number
_SERVICE_KEYS = {"permit_year", "insurance_year", "employed", "stable_home", "education", "skill"}
PLANNING = "school_planning"
MAX_TIERS = 4  # tiers with a place (tier_1 … tier_4): each is a group of chooser types in the model's location choice


def check_parameter(name: str, value: Any) -> None:
    """Refuse a tier that is not a condition spec of known keys, or service-point weights of unknown keys
    (``ValueError``); a null tier (dropped) passes."""
    if value is None:
        return
    if name == "tiers":
        if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= MAX_TIERS + 1:
            raise ValueError(f"tiers: expected a whole number from 2 to {MAX_TIERS + 1} (at most {MAX_TIERS} tiers "
                             f"with a place), got {value!r}")
    elif name.startswith(TIER_PREFIX):
        check_condition_mapping(name, value, "tier")
    elif name == "service_points":
        unknown = set(value) - _SERVICE_KEYS if isinstance(value, Mapping) else {repr(value)}
        if unknown:
            raise ValueError(f"{name}: unknown key {sorted(unknown)[0]!r} "
                             f"(known: {', '.join(sorted(_SERVICE_KEYS))})")
    elif name == PLANNING:
        check_planning(value)


def check_planning(value: Any) -> None:
    """``school_planning`` is ``{follows_population: false}`` or ``{follows_population: true, lag_years: N}`` with
    N a whole number of years from 0 to 10 (``ValueError`` otherwise)."""
    if not isinstance(value, Mapping) or not isinstance(value.get("follows_population"), bool):
        raise ValueError(f"{PLANNING}: expected {{follows_population: true|false, lag_years: N}}, got {value!r}")
    expected = {"follows_population", "lag_years"} if value["follows_population"] else {"follows_population"}
    if set(value) != expected:
        raise ValueError(f"{PLANNING}: expected the keys {', '.join(sorted(expected))}, got {', '.join(sorted(value))}")
    lag = value.get("lag_years", 0)
    if isinstance(lag, bool) or not isinstance(lag, int) or not 0 <= lag <= 10:
        raise ValueError(f"{PLANNING}.lag_years: expected a whole number of years from 0 to 10, got {lag!r}")


PARAMETERS = Parameters(required=("tier_1",), optional=("service_points",), prefixes=(TIER_PREFIX,),
                        check=check_parameter)


def levels_of(params: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The tier specs ``tier_1``, ``tier_2``, … in order (a null value drops a tier)."""
    numbered = [(int(k[len(TIER_PREFIX):]), v) for k, v in params.items()
                if k.startswith(TIER_PREFIX) and k[len(TIER_PREFIX):].isdigit() and v is not None]
    return [spec for _, spec in sorted(numbered, key=lambda kv: kv[0])]


def service_score(persons: PersonColumns, weights: Mapping[str, Any]) -> Points:
    """穗府〔2016〕3号 （八）: residence-permit points for services
    (连续居住年限、合法稳定就业、合法稳定居所、文化程度、缴纳社保、技术能力).

    ``weights``: ``permit_year`` and ``insurance_year`` per whole year (permit held, pension insurance),
    ``employed`` and ``stable_home`` once, ``education`` and ``skill`` as ``{minimum level: points}`` (the
    highest level met).
    """
    unknown = set(weights) - _SERVICE_KEYS
    if unknown:
        raise ValueError(f"services_tiers.service_points: unknown key {sorted(unknown)[0]!r}")
    n = len(persons)
    parts = {
        "permit_year": np.floor(persons.residence_permit_months / _MONTHS_PER_YEAR)
        * weights.get("permit_year", 0),
        "insurance_year": np.floor(persons.si_pension / _MONTHS_PER_YEAR) * weights.get("insurance_year", 0),
        "employed": persons.employed.astype(float) * weights.get("employed", 0),
        "stable_home": persons.stable_home.astype(float) * weights.get("stable_home", 0),
        "education": _highest(persons.education, EDUCATION, weights.get("education") or {}, n),
        "skill": _highest(persons.skill_level, SKILL, weights.get("skill") or {}, n),
    }
    return Points(sum(parts.values()), parts)


def _highest(codes: np.ndarray, table: tuple[str, ...], points: Mapping[str, float], n: int) -> np.ndarray:
    out = np.zeros(n)
    for level, value in points.items():
        out = np.where(codes >= code_of(table, level), np.maximum(out, value), out)
    return out


def school_tier(persons: PersonColumns, params: Mapping[str, Any]) -> np.ndarray:
    """深府〔2016〕58号 （十三） 梯度赋权: each child's tier (1 = first served; ``tiers`` = no public
    school)."""
    levels = levels_of(params)
    if params["tiers"] != len(levels) + 1:
        raise ValueError(f"services_tiers: tiers = {params['tiers']} but {len(levels)} tier specs "
                         "(+1 for no access)")
    points = service_score(persons, params["service_points"]) if params.get("service_points") else None
    tier = np.full(len(persons), params["tiers"], dtype=np.uint8)
    for k in range(len(levels), 0, -1):  # from the last tier up, so the first tier a parent meets wins
        spec = levels[k - 1]
        check_spec(spec, f"{TIER_PREFIX}{k}")
        conds = conditions(persons, spec, points)
        met = np.logical_and.reduce(list(conds.values())) if conds else np.ones(len(persons), dtype=bool)
        tier[met] = k
    return tier
