"""深府〔2016〕58号 （七） 居住社保迁户; 深府〔2016〕59号: long-term residents settle by pension and housing.

Holders of a Shenzhen residence permit with a legal stable job and home, men under 55 and women under 50,
score points for years of Shenzhen pension insurance and years in legal housing (owned, or rented at a lower
rate); a yearly round admits the best ``quota`` of them (KIND ``quota``, counted in the ``points`` column).
The point values and the quota were delegated to later rules that were not found: they are assumptions in
``params.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from policies.conditions import CONDITION_KEYS, check_parameter, check_spec, conditions
from policies.contract import Parameters
from policies.decision import Decision, Points, decide
from policies.schema import HOUSING, PersonColumns, code_of

__all__ = ["ROLE", "CHANNEL", "KIND", "PARAMETERS", "eligible", "score", "rank_keys", "admit_ties"]

ROLE = "channel"
CHANNEL = "points"
KIND = "quota"
PARAMETERS = Parameters(required=("pension_year_points", "owned_home_year_points", "rented_home_year_points"),
                        optional=CONDITION_KEYS, check=check_parameter)
_MONTHS_PER_YEAR = 12  # a unit conversion, not a policy number
_OWNED = code_of(HOUSING, "owned")


def score(persons: PersonColumns, params: Mapping[str, Any]) -> Points:
    """深府〔2016〕59号 居住社保迁户: points from whole years of pension insurance and of legal housing.

    Years of housing are whole years lived in the city in the current home type (owned, or legal rental /
    employer / relative home); the model does not track how long each home was held.
    """
    pension_years = np.floor(persons.si_pension / _MONTHS_PER_YEAR)
    housing_years = np.floor(persons.months_in_city / _MONTHS_PER_YEAR)
    owned = persons.housing_type == _OWNED
    rented = ~owned & persons.stable_home.astype(bool)
    parts = {
        "pension_year_points": pension_years * params["pension_year_points"],
        "owned_home_year_points": np.where(owned, housing_years * params["owned_home_year_points"], 0.0),
        "rented_home_year_points": np.where(rented, housing_years * params["rented_home_year_points"], 0.0),
    }
    return Points(sum(parts.values()), parts)


def eligible(persons: PersonColumns, params: Mapping[str, Any], points: Points | None) -> Decision:
    """深府〔2016〕59号 居住社保迁户: permit, stable job and home, age limits by sex (from ``params``).

    The channel scores its own points (``score``); the regime's points (the talent table) are not used.
    """
    spec = {k: params[k] for k in CONDITION_KEYS if params.get(k) is not None}
    check_spec(spec, "residence_insurance_channel")
    return decide(conditions(persons, spec, score(persons, params)), len(persons))


def rank_keys(persons: PersonColumns, params: Mapping[str, Any], points: Points | None) -> list[np.ndarray]:
    """深府〔2016〕59号 居住社保迁户: rank by this channel's score, then by months of pension insurance."""
    return [score(persons, params).total, np.asarray(persons.si_pension)]


def admit_ties(params: Mapping[str, Any]) -> bool:
    """深府〔2016〕59号 居住社保迁户: whether applicants tied with the last admitted one are all admitted."""
    return bool(params["admit_ties"])
