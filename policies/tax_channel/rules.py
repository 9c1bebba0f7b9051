"""深府〔2016〕59号 纳税迁户; 深府〔2005〕125号 （六） 投资纳税迁户: settlement by personal income tax paid
in the city.

Routes (``route_*`` parameters, see ``policies.conditions``) pair a three-year tax amount with an age limit:
RMB 240,000 of personal income tax and under 50, or twice that and under 55. Everyone who meets a route
settles when they apply (KIND ``direct``); settlers count in the ``other`` column.

The rule and its parameters are shared with the other route channels (``policies.route_channel``).
"""

from __future__ import annotations

from policies.route_channel import KIND, PARAMETERS, eligible

__all__ = ["ROLE", "CHANNEL", "KIND", "PARAMETERS", "eligible"]

ROLE = "channel"
CHANNEL = "other"
