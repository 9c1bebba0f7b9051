"""The one rule of the direct channels whose ways in are routes: talent, tax and open entry.

``talent_channel``, ``tax_channel`` and ``open_channel`` differ only in data: their routes (``route_*``
parameters, condition specs of ``policies.conditions``, each with its citation) and their ``take_up`` are in their
``params.yaml``, their output column (``CHANNEL``) in their ``rules.py``. Their rule is this one: everyone who
meets some route settles when they apply (KIND ``direct``).
"""

from __future__ import annotations

from policies.conditions import ROUTE_PREFIX, any_route, check_parameter, routes_of
from policies.contract import Parameters, Params
from policies.decision import Decision, Points
from policies.schema import PersonColumns

__all__ = ["KIND", "PARAMETERS", "eligible"]

KIND = "direct"
PARAMETERS = Parameters(prefixes=(ROUTE_PREFIX,), check=check_parameter)


def eligible(persons: PersonColumns, params: Params, points: Points | None) -> Decision:
    """国发〔2014〕25号 三; 深府〔2016〕59号; 成府发〔2017〕23号 三（一）2: eligible when some route holds.

    ``points`` is the regime's points (Shenzhen's talent comprehensive evaluation): routes with ``score_min``
    need it and refuse everyone when it is None. A refused person is told the first unmet condition of the
    route nearest to them.
    """
    return any_route(persons, routes_of(params), points)
