"""成都 条件入户 by home and residence (pre-2018); open registration (counterfactual): no quota.

Conditional entry by years of residence, an owned home and social insurance, with no talent qualification
and no quota: Chengdu's home-purchase and long-residence routes before 成府发〔2017〕23号, and the
``open_registration`` counterfactual (settle after N years of residence permit and social insurance, the
longest requirement 国发〔2014〕25号 allows). Routes are ``route_*`` parameters (``policies.conditions``);
KIND ``direct``, counted in
``other``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.conditions import any_route, routes_of
from policies.decision import Decision, Points
from policies.schema import PersonColumns

__all__ = ["ROLE", "CHANNEL", "KIND", "REQUIRED", "eligible"]

ROLE = "channel"
CHANNEL = "other"
KIND = "direct"
REQUIRED = ("take_up",)


def eligible(persons: PersonColumns, params: Mapping[str, Any], points: Points | None) -> Decision:
    """国发〔2014〕25号 三 / 成都 条件入户: eligible when some residence route holds."""
    return any_route(persons, routes_of(params), points)
