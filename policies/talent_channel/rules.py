"""深府〔2016〕59号 人才引进迁户; 穗府〔2018〕14号 一; 成府发〔2017〕23号 三（一）2: talent entry by route.

Each variant lists its routes as parameters named ``route_*`` (``policies.conditions`` explains the keys):
Shenzhen 2016's direct approval by degree, title and skill with exclusive age limits; Shenzhen's earlier
talent introduction by the comprehensive evaluation score (``score_min`` on the regime's points);
Guangzhou's talent routes; Chengdu's pre-2018 conditional entry and its 2018 lowered thresholds (蓉漂).
Everyone who meets some route settles (KIND
``direct``) when they apply (``take_up``).

The rule and its parameters are shared with the other route channels (``policies.route_channel``).
"""

from __future__ import annotations

from policies.route_channel import KIND, PARAMETERS, eligible

__all__ = ["ROLE", "CHANNEL", "KIND", "PARAMETERS", "eligible"]

ROLE = "channel"
CHANNEL = "talent"
