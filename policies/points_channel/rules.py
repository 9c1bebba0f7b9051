"""穗府〔2016〕3号 （四） 积分制入户; 成府发〔2017〕23号 三（一）3 积分入户: the yearly quota round.

Applicants who meet the scheme's conditions (age, education, residence permit, months of social insurance,
job, home, no criminal record: the condition keys of ``policies.conditions`` present among the parameters)
and reach
``min_score`` on the regime's points enter a yearly round of ``quota`` places. The round ranks them by the
real rule of each scheme (``rank_by``): Guangzhou 2011–2015 by months of medical insurance then unemployment
insurance; Guangzhou 2016 by medical-insurance months then continuous residence-permit months, remaining
ties all admitted (``admit_ties``); Chengdu 2018 by score.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from policies.conditions import CONDITION_KEYS, check_parameter, check_spec, conditions
from policies.contract import Parameters
from policies.decision import Decision, Points, decide
from policies.schema import PersonColumns

__all__ = ["ROLE", "CHANNEL", "KIND", "PARAMETERS", "RANK_COLUMNS", "eligible", "rank_keys", "admit_ties"]

ROLE = "channel"
CHANNEL = "points"
KIND = "quota"
PARAMETERS = Parameters(required=("min_score", "rank_by"), optional=CONDITION_KEYS, check=check_parameter)
RANK_COLUMNS = ("score", "si_pension", "si_medical", "si_unemployment", "si_work_injury", "si_maternity",
                "residence_permit_months", "months_in_city")


def eligible(persons: PersonColumns, params: Mapping[str, Any], points: Points | None) -> Decision:
    """穗府〔2016〕3号 （四） 达到规定分值、符合相关条件: the scheme's conditions and ``min_score`` points."""
    spec = {k: params[k] for k in CONDITION_KEYS if params.get(k) is not None}
    spec["score_min"] = params["min_score"]
    check_spec(spec, "points_channel")
    return decide(conditions(persons, spec, points), len(persons))


def rank_keys(persons: PersonColumns, params: Mapping[str, Any], points: Points | None) -> list[np.ndarray]:
    """广州市积分制入户管理办法实施细则 第八条 / 穗来穗〔2016〕24号 第二条: ranking keys, first key first.

    ``rank_by`` names ``score`` (the regime's points total) or a ``Persons`` column of months; larger is
    better.
    """
    keys = []
    for name in params["rank_by"]:
        if name not in RANK_COLUMNS:
            known = ", ".join(RANK_COLUMNS)
            raise ValueError(f"points_channel.rank_by: unknown key {name!r} (known: {known})")
        if name == "score":
            keys.append(points.total if points is not None else np.zeros(len(persons)))
        else:
            keys.append(np.asarray(getattr(persons, name)))
    return keys


def admit_ties(params: Mapping[str, Any]) -> bool:
    """穗来穗〔2016〕24号 第二条: whether applicants tied with the last admitted one are all admitted."""
    return bool(params["admit_ties"])
