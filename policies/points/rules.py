"""Points tables (积分制入户 / 人才引进综合评价 / 居住证积分): score people indicator by indicator.

Each indicator of a table is one parameter of the variant (``params.yaml``); its points are the part of
the same name, so a part's citation is that parameter's ``ref`` (or its ``assumption``). A variant scores
exactly the indicators it declares: Guangzhou 2011–2015 (穗来穗〔2014〕19号 积分指标及分值表),
Shenzhen 2015 and 2017 (人才引进综合评价分值表, 深人社规〔2014〕15号 / 深人社规〔2016〕23号),
Chengdu 2018 (居住证积分, 成府发〔2017〕23号 三（一）3). Indicators the ``Persons`` columns cannot
represent (skills competitions, honours, employer bonus, charity, firm tax) are not scored;
``docs/policies-points.md`` lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import numpy as np

from policies.contract import Parameters
from policies.decision import Points
from policies.schema import EDUCATION, HOUSING, INSURANCES, SKILL, TITLE, WINDOW_YEARS, PersonColumns, code_of

__all__ = ["ROLE", "PARAMETERS", "INDICATORS", "NOT_PARTS", "known_parameters", "required", "score", "district_bonus"]

ROLE = "points"

# Highest-only ladders (取最高项, 不累计): the first parameter is the documented table, the optional
# second holds rungs that are assumptions; a person's points go to the parameter whose rung wins, so the
# part cites it.
_LADDERS: tuple[tuple[str, str], ...] = (
    ("education", ""),
    ("technical_ability", "technical_ability_technician"),
    ("education_skill", "education_skill_assumed"),
)
_TIER_KEYS = {"points", "education_min", "full_time", "title_min", "skill_min", "shortage"}
# Parameters that modify or configure parts rather than being parts themselves.
NOT_PARTS = ("threshold", "social_service_window_years", "social_service_cap")
MONTHS_PER_YEAR = 12  # a unit, not a policy value: tables count full years of months
_MAX_AGE = 120  # the profile's upper bound on age (policies.schema.Profile)

Params = Mapping[str, Any]


class _Qualifications(Protocol):
    """The columns a rung tests: ``PersonColumns`` have them, and so has ``_QualificationGrid``."""

    @property
    def education(self) -> np.ndarray: ...
    @property
    def professional_title(self) -> np.ndarray: ...
    @property
    def skill_level(self) -> np.ndarray: ...
    @property
    def full_time_degree(self) -> np.ndarray: ...
    @property
    def shortage_occupation(self) -> np.ndarray: ...
    def __len__(self) -> int: ...


def _meets(persons: _Qualifications, condition: Mapping[str, Any]) -> np.ndarray:
    """Who meets a rung's conditions: each ``*_min`` is "this level or above"; flags must hold."""
    unknown = set(condition) - _TIER_KEYS
    if unknown:
        raise ValueError(f"unknown key(s) in a points rung: {', '.join(sorted(unknown))}")
    ok = np.ones(len(persons), dtype=bool)
    if "education_min" in condition:
        ok &= persons.education >= code_of(EDUCATION, condition["education_min"])
    if "title_min" in condition:
        ok &= persons.professional_title >= code_of(TITLE, condition["title_min"])
    if "skill_min" in condition:
        ok &= persons.skill_level >= code_of(SKILL, condition["skill_min"])
    if condition.get("full_time"):
        ok &= persons.full_time_degree
    if condition.get("shortage"):
        ok &= persons.shortage_occupation
    return ok


class _QualificationGrid:
    """Every combination of the qualification columns a rung can test, as a tiny batch of ``Persons`` columns.

    A rung's conditions read only education, title, skill, full-time study and the shortage flag: fewer than a
    thousand combinations. Evaluating a ladder once on this grid and looking each person up is the same rule as
    evaluating it on every person, at a fraction of the array passes.
    """

    def __init__(self) -> None:
        grid = np.meshgrid(np.arange(len(EDUCATION)), np.arange(len(TITLE)), np.arange(len(SKILL)),
                           np.arange(2), np.arange(2), indexing="ij")
        self.education, self.professional_title, self.skill_level, full_time, shortage = (g.ravel() for g in grid)
        self.full_time_degree, self.shortage_occupation = full_time.astype(bool), shortage.astype(bool)

    def __len__(self) -> int:
        return len(self.education)


_GRID = _QualificationGrid()


def _qualification_code(persons: PersonColumns) -> np.ndarray:
    """Each person's row in ``_GRID`` (same order as its meshgrid)."""
    code = persons.education.astype(np.int32) * len(TITLE) + persons.professional_title
    code = code * len(SKILL) + persons.skill_level
    code = code * 2 + persons.full_time_degree
    return code * 2 + persons.shortage_occupation


def _ladder_on_grid(tiers: list[Mapping[str, Any]]) -> np.ndarray:
    best = np.zeros(len(_GRID), dtype=np.float64)
    for tier in tiers:
        best = np.where(_meets(_GRID, tier), np.maximum(best, tier["points"]), best)
    return best


def _ladder_points(persons: PersonColumns, tiers: list[Mapping[str, Any]]) -> np.ndarray:
    """The highest rung each person meets (0 when none)."""
    return _ladder_on_grid(tiers)[_qualification_code(persons)]


def highest_rung(persons: PersonColumns, params: Params, documented: str, assumed: str) -> dict[str, np.ndarray]:
    """文化程度 / 技术能力 (穗来穗〔2014〕19号 分值表 一、二), 学历技能 (深人社规〔2016〕23号): best rung.

    The documented rungs are ``params[documented]["tiers"]``; ``params[assumed]`` (when the variant has
    it) adds rungs the table does not list. Each person's points (capped by ``cap`` when given) go to the
    part whose rung won, the documented one on a tie.
    """
    table = params[documented]
    doc = _ladder_points(persons, table["tiers"])
    parts = {documented: doc}
    if assumed and assumed in params:
        extra = _ladder_points(persons, params[assumed]["tiers"])
        wins = extra > doc
        parts = {documented: np.where(wins, 0.0, doc), assumed: np.where(wins, extra, 0.0)}
    if "cap" in table:
        parts = {k: np.minimum(v, table["cap"]) for k, v in parts.items()}
    return parts


def listed_occupation(persons: PersonColumns, params: Params) -> dict[str, np.ndarray]:
    """职业资格或职业工种 (穗来穗〔2014〕19号 分值表 三): points for an occupation on the catalogue."""
    value = params["listed_occupation"]
    return {"listed_occupation": np.where(persons.shortage_occupation, float(value["points"]), 0.0)}


def _per_unit_window(amounts: np.ndarray, value: Mapping[str, Any], window: int) -> np.ndarray:
    """Points per whole unit in each calendar year of the window, capped per year and in total."""
    if not 1 <= window <= WINDOW_YEARS:
        raise ValueError(f"social_service_window_years must be between 1 and {WINDOW_YEARS}, got {window}")
    if amounts.ndim == 2 and len(amounts) > 1 and amounts.strides == (0, 0):
        # the same record for everyone: score one row, broadcast the result
        return np.broadcast_to(_per_unit_window(amounts[:1], value, window), (len(amounts),))
    if amounts.ndim == 2 and len(amounts) > 1 and amounts.strides[1] == 0:
        # the same amount every year, per person (the model's migrants, sim.population): records are rare, so
        # score the rows that have one and leave the rest at zero (no (n, years) temporaries)
        total = np.zeros(len(amounts))
        some = np.flatnonzero(amounts[:, 0])
        total[some] = _per_unit_window(np.ascontiguousarray(amounts[some]), value, window)
        return total
    yearly = np.floor(amounts[:, :window] / value["unit"]) * value["per_unit"]
    if value.get("cap_per_year") is not None:
        yearly = np.minimum(yearly, value["cap_per_year"])
    total = yearly.sum(axis=1, dtype=np.float64)
    if value.get("cap_total") is not None:
        total = np.minimum(total, value["cap_total"])
    return total


def blood_donation(persons: PersonColumns, params: Params) -> dict[str, np.ndarray]:
    """献血 (穗来穗〔2014〕19号 分值表 四; 2015年深圳分值表 社会服务): points per donation in the window."""
    window = int(params["social_service_window_years"])
    return {"blood_donation": _per_unit_window(persons.blood_donations, params["blood_donation"], window)}


def volunteer_service(persons: PersonColumns, params: Params) -> dict[str, np.ndarray]:
    """志愿服务 (穗来穗〔2014〕19号 分值表 四): points per whole block of hours in each year of the window."""
    window = int(params["social_service_window_years"])
    value = params["volunteer_service"]
    return {"volunteer_service": _per_unit_window(persons.volunteer_hours, value, window)}


def tax(persons: PersonColumns, params: Params) -> dict[str, np.ndarray]:
    """纳税 (穗来穗〔2014〕19号 分值表 五; 深人社规〔2016〕23号): highest tier reached by 3 years' tax."""
    tiers = sorted(params["tax"]["tiers"], key=lambda t: t["min_rmb"])
    thresholds = np.array([t["min_rmb"] for t in tiers], dtype=np.float64)
    # best points among the tiers reached, for each count of tiers reached (0 = none)
    best = np.maximum.accumulate(np.array([0.0, *(float(t["points"]) for t in tiers)]))
    reached = np.searchsorted(thresholds, np.asarray(persons.tax_paid_3y, dtype=np.float64), side="right")
    return {"tax": best[reached]}


def _capped_count(count: np.ndarray, value: Mapping[str, Any]) -> np.ndarray:
    points = count.astype(np.float64) * value["per_unit"]
    return np.minimum(points, value["cap_total"]) if value.get("cap_total") is not None else points


def invention_patent(persons: PersonColumns, params: Params) -> dict[str, np.ndarray]:
    """发明专利 (深人社规〔2016〕23号 分值表): points per (share of a) granted invention patent, capped."""
    return {"invention_patent": _capped_count(persons.patents_invention, params["invention_patent"])}


def utility_model_patent(persons: PersonColumns, params: Params) -> dict[str, np.ndarray]:
    """实用新型专利 (深人社规〔2016〕23号 分值表): points per share of a utility-model patent, capped."""
    return {"utility_model_patent": _capped_count(persons.patents_utility, params["utility_model_patent"])}


def _si_years(persons: PersonColumns, insurance: str) -> np.ndarray:
    return getattr(persons, f"si_{insurance}") // MONTHS_PER_YEAR


def social_insurance(persons: PersonColumns, params: Params) -> dict[str, np.ndarray]:
    """社会保险 (深人社规〔2016〕23号; 2015年分值表; 广州来穗人员积分 合法稳定就业): per full year of pension and
    each other type, capped when the table sets a cap."""
    value = params["social_insurance"]
    points = _si_years(persons, "pension") * float(value["pension_per_year"])
    for insurance in INSURANCES:
        if insurance != "pension":
            points = points + _si_years(persons, insurance) * float(value["other_per_type_per_year"])
    if value.get("cap") is not None:
        points = np.minimum(points, value["cap"])
    return {"social_insurance": points.astype(np.float64)}


def social_insurance_by_type(persons: PersonColumns, params: Params) -> dict[str, np.ndarray]:
    """社会保险 (成都市居住证积分, assumed): per type, points once months exceed a line."""
    value = params["social_insurance_by_type"]
    points = np.zeros(len(persons), dtype=np.float64)
    for insurance in value["types"]:
        months = getattr(persons, f"si_{insurance}")
        best = np.zeros(len(persons), dtype=np.float64)
        for tier in value["over_months"]:
            best = np.where(months > tier["months"], np.maximum(best, tier["points"]), best)
        points += best
    return {"social_insurance_by_type": points}


def residence_years(persons: PersonColumns, params: Params) -> dict[str, np.ndarray]:
    """连续居住年限 (成府发〔2017〕23号 三（一）3): points per full year of continuous residence permit."""
    value = params["residence_years"]
    points = (persons.residence_permit_months // MONTHS_PER_YEAR) * float(value["per_year"])
    if value.get("cap") is not None:
        points = np.minimum(points, value["cap"])
    return {"residence_years": points}


def housing(persons: PersonColumns, params: Params) -> dict[str, np.ndarray]:
    """住房 (2015年深圳人才引进分值表): owned home or residence-permit years, whichever is more."""
    value = params["housing"]
    owned = persons.housing_type == code_of(HOUSING, "owned")
    owned_value = np.where(persons.mortgaged, value["owned_mortgaged"], value["owned_outright"])
    owned_points = np.where(owned, owned_value, 0)
    permit_years = persons.residence_permit_months // MONTHS_PER_YEAR
    permit_points = np.minimum(permit_years * float(value["permit_per_year"]), value["permit_cap"])
    return {"housing": np.maximum(owned_points, permit_points).astype(np.float64)}


def owned_housing(persons: PersonColumns, params: Params) -> dict[str, np.ndarray]:
    """自有住房 (广州 2018+ 积分制入户, low-confidence secondary source): flat points for an owned home."""
    owned = persons.housing_type == code_of(HOUSING, "owned")
    return {"owned_housing": np.where(owned, float(params["owned_housing"]["points"]), 0.0)}


def rented_housing(persons: PersonColumns, params: Params) -> dict[str, np.ndarray]:
    """合法租赁住所或单位宿舍 (广州来穗人员积分 合法稳定住所, low-confidence secondary source): points per full
    year in the city for people with a legal home they do not own, capped.

    The table scores an owned home (``owned_housing``) or the years in a legal rented home, one of the two
    (既有合法产权住房、又有合法租赁住房的, 选择其中一项), so owners score nothing here. Years in a legal lease are
    not a column: the months lived in the city stand for them (a migrant's current home is legal when it is a
    registered lease, employer housing or a relative's home, 投亲靠友 counting as a zero-rent lease).
    """
    value = params["rented_housing"]
    owned = persons.housing_type == code_of(HOUSING, "owned")
    years = persons.months_in_city // MONTHS_PER_YEAR
    points = np.minimum(years * float(value["per_year"]), value["cap"])
    return {"rented_housing": np.where(persons.stable_home & ~owned, points, 0.0).astype(np.float64)}


def age(persons: PersonColumns, params: Params) -> dict[str, np.ndarray]:
    """年龄 (深人社规〔2016〕23号; 2015年分值表): points by age bracket; exempt people lose no points."""
    value = params["age"]
    ages = np.arange(_MAX_AGE + 1)
    by_age = np.zeros(len(ages), dtype=np.float64)   # the brackets evaluated once for every whole age
    for bracket in value["brackets"]:
        inside = (ages >= bracket["min"]) & (ages <= bracket["max"])
        slope = bracket.get("per_year", 0) * (ages - bracket.get("from", 0))
        by_age = np.where(inside, bracket["points"] + slope, by_age)
    points = by_age[np.clip(persons.age, 0, _MAX_AGE)]
    exempt_grid = np.zeros(len(_GRID), dtype=bool)
    for condition in value.get("exempt") or []:
        exempt_grid |= _meets(_GRID, condition)
    exempt = exempt_grid[_qualification_code(persons)]
    return {"age": np.where(exempt, np.maximum(points, 0.0), points)}


def _by_adcode(adcodes: np.ndarray, table: Mapping[Any, Any]) -> np.ndarray:
    """Look up points per adcode (0 for a district the table does not name), vectorised."""
    adcodes = np.asarray(adcodes)
    if not table:
        return np.zeros(adcodes.shape, dtype=np.float64)
    keys = np.array(sorted(int(k) for k in table), dtype=np.int64)
    values = np.array([float(table[k]) for k in sorted(table, key=int)], dtype=np.float64)
    idx = np.clip(np.searchsorted(keys, adcodes), 0, len(keys) - 1)
    return np.where(keys[idx] == adcodes, values[idx], 0.0)


def district_bonus(adcodes: np.ndarray, params: Params) -> np.ndarray:
    """区域差异化积分 (成府发〔2017〕23号 三（一）3; 职住区域 穗来穗〔2016〕24号): points per home district.

    Zeros when the variant has no district indicator. The model adds these per alternative in location
    choice; ``score`` adds the bonus of each person's home district.
    """
    if "district_bonus" not in params:
        return np.zeros(np.shape(adcodes), dtype=np.float64)
    return _by_adcode(adcodes, params["district_bonus"]["by_adcode"])


def home_district(persons: PersonColumns, params: Params) -> dict[str, np.ndarray]:
    """区域差异化积分 (成府发〔2017〕23号 三（一）3): the district bonus of each person's home district."""
    return {"district_bonus": district_bonus(persons.home_district, params)}


def bad_credit(persons: PersonColumns, params: Params) -> dict[str, np.ndarray]:
    """减分指标 个人信用不良记录 (2015年深圳人才引进分值表): a deduction for a bad credit record."""
    return {"bad_credit": np.where(persons.bad_credit, float(params["bad_credit"]["points"]), 0.0)}


def _cap_group(parts: dict[str, np.ndarray], value: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """社会服务 最高10分 (2015年深圳分值表): cap a sum of parts, cutting the last ones first."""
    names = [n for n in value["parts"] if n in parts]
    out = dict(parts)
    if not names:
        return out
    excess = np.maximum(sum(parts[n] for n in names) - value["cap"], 0.0)
    for name in reversed(names):
        cut = np.minimum(out[name], excess)
        out[name] = out[name] - cut
        excess = excess - cut
    return out


def _ladder_rule(documented: str, assumed: str) -> Callable[[PersonColumns, Params], dict[str, np.ndarray]]:
    def rule(persons: PersonColumns, params: Params) -> dict[str, np.ndarray]:
        return highest_rung(persons, params, documented, assumed)
    rule.__doc__ = highest_rung.__doc__
    return rule


# Indicator parameter name -> its rule and the companion parameters it needs. Order = breakdown order.
INDICATORS: dict[str, tuple[Callable[[PersonColumns, Params], dict[str, np.ndarray]], tuple[str, ...]]] = {
    **{doc: (_ladder_rule(doc, extra), ()) for doc, extra in _LADDERS},
    "listed_occupation": (listed_occupation, ()),
    "residence_years": (residence_years, ()),
    "social_insurance": (social_insurance, ()),
    "social_insurance_by_type": (social_insurance_by_type, ()),
    "housing": (housing, ()),
    "owned_housing": (owned_housing, ()),
    "rented_housing": (rented_housing, ()),
    "tax": (tax, ()),
    "invention_patent": (invention_patent, ()),
    "utility_model_patent": (utility_model_patent, ()),
    "age": (age, ()),
    "blood_donation": (blood_donation, ("social_service_window_years",)),
    "volunteer_service": (volunteer_service, ("social_service_window_years",)),
    "district_bonus": (home_district, ()),
    "bad_credit": (bad_credit, ()),
}
_COMPANIONS = {extra for _, extra in _LADDERS if extra}


def known_parameters() -> set[str]:
    """Every parameter name this module reads (a variant with another name has a typo)."""
    return set(INDICATORS) | _COMPANIONS | set(NOT_PARTS)


def required(params: Params) -> tuple[str, ...]:
    """The parameters a variant needs: the threshold and the companions of the indicators it declares."""
    needed = ["threshold"]
    for name, (_, companions) in INDICATORS.items():
        if name in params:
            needed += [c for c in companions if c not in needed]
    return tuple(needed)


PARAMETERS = Parameters(optional=tuple(sorted(known_parameters())), depends=required)


def score(persons: PersonColumns, params: Params) -> Points:
    """积分 (the variant's points table): every declared indicator's points per person, and their total.

    Args:
        persons: the batch to score, on the date of ``params``.
        params: the points variant's parameter values in force on that date.

    Returns:
        ``Points`` with ``parts`` keyed by parameter name (in table order) and ``total`` their sum, floored at
        zero: deductions (Shenzhen's age and record deductions) can make the parts add up to less than nothing,
        and the tables give a negative total no meaning beyond "below the line", so a total is never negative.
    """
    parts: dict[str, np.ndarray] = {}
    for name, (rule, _) in INDICATORS.items():
        if name in params:
            parts.update(rule(persons, params))
    if "social_service_cap" in params:
        parts = _cap_group(parts, params["social_service_cap"])
    total = np.zeros(len(persons), dtype=np.float64)
    for part in parts.values():
        total = total + part
    return Points(total=np.maximum(total, 0.0), parts=parts)
