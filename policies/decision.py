"""What a rule returns: a decision per person with a reason code, and points with their parts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Decision", "Lever", "Points", "decide"]


@dataclass(frozen=True)
class Decision:
    """``eligible[i]`` for each person, and ``reason[i]``: 0 when eligible, else the index of the first unmet
    condition in ``reasons`` (so the calculator can say why not)."""

    eligible: np.ndarray
    reason: np.ndarray
    reasons: tuple[str, ...]

    def why(self, i: int) -> str:
        """The reason text of person ``i`` (``"eligible"`` when eligible)."""
        return self.reasons[int(self.reason[i])]


def decide(conditions: Mapping[str, np.ndarray], n: int) -> Decision:
    """Combine named conditions (True = met) in order; the reason is the first one a person fails.

    ``conditions`` maps a reason text for failing ("age 45 or over", …) to the boolean array of who meets it.
    """
    reasons = ("eligible", *conditions.keys())
    reason = np.zeros(n, dtype=np.uint8)
    eligible = np.ones(n, dtype=bool)
    for code, met in enumerate(conditions.values(), start=1):
        met = np.broadcast_to(np.asarray(met, dtype=bool), (n,))
        failing = eligible & ~met
        reason[failing] = code
        eligible &= met
    return Decision(eligible, reason, reasons)


@dataclass(frozen=True)
class Points:
    """A points total per person and its parts by indicator (the indicator names are parameter names, so each
    part's citation is that parameter's ``ref``)."""

    total: np.ndarray
    parts: Mapping[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Lever:
    """A spatial lever of a regime: from ``start`` to ``end`` (inclusive years), the ``kind`` quantity of each
    district in ``districts`` (adcodes) changes by ``annual_change`` a year.

    Kinds: ``housing`` (relative change of housing stock; negative for urban-village redevelopment, 深府〔2016〕58号
    （五）), ``low_skill_jobs`` (relative change of low-skill jobs; industry relocation, （四）/ 穗府〔2018〕14号
    三（一）2), ``commute`` (absolute change of the commuting-cost index; metro lines, 穗府〔2018〕14号 三（一）4),
    ``services`` (relative change of school places; equalising services, 深府〔2016〕58号 （十二）).
    """

    kind: str
    districts: tuple[int, ...]
    annual_change: float
    start_year: int
    end_year: int
    ref: str
