"""深府〔2016〕59号 政策性迁户; 穗府〔2018〕14号 一 政策性入户: family and policy entry as a yearly hazard.

Spouses, parents and minor children of hukou holders (夫妻投靠, 父母投靠, 子女随迁) and other policy cases
settle outside the talent and points channels. The model has no household links to hukou holders, so the
channel is a yearly probability (``rate``, KIND ``hazard``) among long-term residents who meet the text's
residence condition.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.conditions import CONDITION_KEYS, check_parameter, check_spec, conditions
from policies.contract import Parameters
from policies.decision import Decision, Points, decide
from policies.schema import PersonColumns

__all__ = ["ROLE", "CHANNEL", "KIND", "PARAMETERS", "eligible"]

ROLE = "channel"
CHANNEL = "other"
KIND = "hazard"
PARAMETERS = Parameters(required=("months_in_city_min",), optional=CONDITION_KEYS, check=check_parameter)


def eligible(persons: PersonColumns, params: Mapping[str, Any], points: Points | None) -> Decision:
    """深府〔2016〕59号 政策性迁户 (spouse separated >= 2 years): long-term residents at risk.

    The conditions are the condition keys present among the parameters (``months_in_city_min``, …).
    """
    spec = {k: params[k] for k in CONDITION_KEYS if params.get(k) is not None}
    check_spec(spec, "family_channel")
    return decide(conditions(persons, spec, points), len(persons))
