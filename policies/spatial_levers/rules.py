"""深府〔2016〕58号 （三）（四）（五）（十二）; 深府〔2005〕125号 （四）（二十）; 穗府〔2018〕14号 三（一）:
spatial levers.

Each parameter of a variant is one lever: a mapping with ``kind`` (``housing``, ``low_skill_jobs``,
``commute``,
``services``: see ``policies.decision.Lever``), ``districts`` (adcodes), ``annual_change``, ``start_year``,
``end_year`` and ``article`` (the article that orders the measure). The article is the reference of the
measure; its size is an assumption of the parameter entry, since the texts name measures and not magnitudes.
A lever whose value is null is switched off (a counterfactual can drop one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.decision import Lever

__all__ = ["ROLE", "REQUIRED", "KINDS", "LEVER_KEYS", "levers"]

ROLE = "spatial"
REQUIRED: tuple[str, ...] = ()
KINDS = ("housing", "low_skill_jobs", "commute", "services")
LEVER_KEYS = ("kind", "districts", "annual_change", "start_year", "end_year", "article")


def levers(params: Mapping[str, Any]) -> list[Lever]:
    """深府〔2016〕58号 （三）（四）（五）（十二） / 穗府〔2018〕14号 三（一）1-4: the levers of the
    variant, in file order."""
    out = []
    for name, spec in params.items():
        if spec is None:
            continue
        if not isinstance(spec, Mapping) or set(spec) != set(LEVER_KEYS):
            raise ValueError(f"spatial_levers.{name}: a lever has exactly the keys {', '.join(LEVER_KEYS)}")
        if spec["kind"] not in KINDS:
            known = ", ".join(KINDS)
            raise ValueError(f"spatial_levers.{name}: unknown kind {spec['kind']!r} (known: {known})")
        out.append(Lever(kind=str(spec["kind"]), districts=tuple(int(d) for d in spec["districts"]),
                         annual_change=float(spec["annual_change"]), start_year=int(spec["start_year"]),
                         end_year=int(spec["end_year"]), ref=str(spec["article"])))
    return out
