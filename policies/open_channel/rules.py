"""成都 条件入户 by home and residence (pre-2018); open registration (counterfactual): no quota.

Conditional entry by years of residence, an owned home and social insurance, with no talent qualification
and no quota: Chengdu's home-purchase and long-residence routes before 成府发〔2017〕23号, and the
``open_registration`` counterfactual (settle after N years of residence permit and social insurance, the
longest requirement 国发〔2014〕25号 allows). Routes are ``route_*`` parameters (``policies.conditions``);
KIND ``direct``, counted in
``other``.

The rule and its parameters are shared with the other route channels (``policies.route_channel``).
"""

from __future__ import annotations

from policies.route_channel import KIND, PARAMETERS, eligible

__all__ = ["ROLE", "CHANNEL", "KIND", "PARAMETERS", "eligible"]

ROLE = "channel"
CHANNEL = "other"
