"""深府〔2016〕59号 人才引进迁户; 穗府〔2018〕14号 一; 成府发〔2017〕23号 三（一）2: talent entry by route.

Each variant lists its routes as parameters named ``route_*`` (``policies.conditions`` explains the keys):
Shenzhen 2016's direct approval by degree, title and skill with exclusive age limits; Shenzhen's earlier
talent introduction by the comprehensive evaluation score (``score_min`` on the regime's points);
Guangzhou's talent routes; Chengdu's pre-2018 conditional entry and its 2018 lowered thresholds (蓉漂).
Everyone who meets some route settles (KIND
``direct``) when they apply (``take_up``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.conditions import any_route, routes_of
from policies.decision import Decision, Points
from policies.schema import PersonColumns

__all__ = ["ROLE", "CHANNEL", "KIND", "REQUIRED", "eligible"]

ROLE = "channel"
CHANNEL = "talent"
KIND = "direct"
REQUIRED = ("take_up",)


def eligible(persons: PersonColumns, params: Mapping[str, Any], points: Points | None) -> Decision:
    """深府〔2016〕59号 人才引进迁户 / 成府发〔2017〕23号 三（一）2: eligible when some talent route holds.

    ``points`` is the regime's points (the talent comprehensive evaluation in Shenzhen); routes with
    ``score_min`` need it and refuse everyone when it is None.
    """
    return any_route(persons, routes_of(params), points)
