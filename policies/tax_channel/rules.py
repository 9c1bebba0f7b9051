"""深府〔2016〕59号 纳税迁户; 深府〔2005〕125号 （六） 投资纳税迁户: settlement by personal income tax paid
in the city.

Routes (``route_*`` parameters, see ``policies.conditions``) pair a three-year tax amount with an age limit:
RMB 240,000 of personal income tax and under 50, or twice that and under 55. Everyone who meets a route
settles when they apply (KIND ``direct``); settlers count in the ``other`` column.
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
    """深府〔2016〕59号 纳税迁户: eligible when some tax route holds (amount over three tax years and age)."""
    return any_route(persons, routes_of(params), points)
