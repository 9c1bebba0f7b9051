"""What a rule returns: a decision per person with a reason code, and points with their parts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Decision", "Lever", "Points", "decide"]


class Decision:
    """``eligible[i]`` for each person, and ``reason[i]``: 0 when eligible, else the index of the first unmet
    condition in ``reasons`` (so the calculator can say why not).

    The reasons are worked out only when asked for (``explain``): the model reads ``eligible`` for millions of
    migrants and never the reasons, the calculator reads both for one person.
    """

    __slots__ = ("eligible", "_explain", "_explained")

    def __init__(self, eligible: np.ndarray, reason: np.ndarray | None = None,
                 reasons: tuple[str, ...] | None = None, *,
                 explain: Callable[[], tuple[np.ndarray, tuple[str, ...]]] | None = None) -> None:
        self._explained: tuple[np.ndarray, tuple[str, ...]] | None = None
        if explain is None:
            if reason is None or reasons is None:
                raise ValueError("a Decision needs reason and reasons, or explain")
            self._explained = (reason, tuple(reasons))
        self.eligible = eligible
        self._explain = explain

    def _resolve(self) -> tuple[np.ndarray, tuple[str, ...]]:
        if self._explained is None:
            assert self._explain is not None  # __init__ sets one of the two
            reason, reasons = self._explain()
            self._explained = (reason, tuple(reasons))
        return self._explained

    @property
    def reason(self) -> np.ndarray:
        """Reason code per person (0 = eligible)."""
        return self._resolve()[0]

    @property
    def reasons(self) -> tuple[str, ...]:
        """Reason texts by code; the first is ``"eligible"``."""
        return self._resolve()[1]

    def why(self, i: int) -> str:
        """The reason text of person ``i`` (``"eligible"`` when eligible)."""
        return self.reasons[int(self.reason[i])]


def decide(conditions: Mapping[str, np.ndarray | bool], n: int) -> Decision:
    """Combine named conditions (True = met) in order; the reason is the first one a person fails.

    ``conditions`` maps a reason text for failing ("age 45 or over", …) to the boolean array of who meets it
    (or one bool for everyone).
    """
    met_all = [np.broadcast_to(np.asarray(met, dtype=bool), (n,)) for met in conditions.values()]
    eligible = np.logical_and.reduce(met_all) if met_all else np.ones(n, dtype=bool)

    def explain() -> tuple[np.ndarray, tuple[str, ...]]:
        reason = np.zeros(n, dtype=np.uint8)
        still = np.ones(n, dtype=bool)
        for code, met in enumerate(met_all, start=1):
            reason[still & ~met] = code
            still &= met
        return reason, ("eligible", *conditions.keys())

    return Decision(np.array(eligible, dtype=bool), explain=explain)


@dataclass(frozen=True)
class Points:
    """A points total per person and its parts by indicator (the indicator names are parameter names, so each
    part's citation is that parameter's ``ref``)."""

    total: np.ndarray
    parts: Mapping[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Lever:
    """A spatial lever of a regime: from ``start`` to ``end`` (inclusive years), the ``kind`` quantity of each
    district in ``districts`` (adcodes) changes by ``annual_change`` a year; a lever with a date ``on`` acts once,
    in the step that contains that date.

    Kinds: ``housing`` (relative change of housing stock; urban-village redevelopment, 深府〔2016〕58号 （五）),
    ``low_skill_jobs`` (relative change of low-skill jobs; demand reduced, 深府〔2005〕125号 一（四）), ``jobs``
    (relative change of the jobs of skill tier ``tier``; 成都 东进/南拓), ``move_low_skill_jobs`` (share
    ``annual_change`` of the low-skill jobs of ``districts`` moves each year to ``to_districts``, weighted by
    ``weights``, except ``out_of_city_share`` of it, which leaves the city; 穗府〔2018〕14号 三（一）2, 深府〔2016〕58号
    （四）), ``remove_housing`` (housing for ``persons`` persons removed on ``on``; a clearance),
    ``commute`` (absolute change of the commuting-cost index a year), ``metro_opening`` (absolute change of the
    commuting-cost index on ``on``, not below ``floor``; 穗府〔2018〕14号 三（一）4), ``services`` (relative change of
    school places; 深府〔2016〕58号 （十二））, ``new_area`` (land of a planned new area enters with its dates: housing
    for ``persons`` persons and ``jobs`` jobs, split over the tiers by ``job_tiers``, added in equal yearly parts
    from ``start`` to ``end``; 前海).
    """

    kind: str
    districts: tuple[int, ...]
    annual_change: float
    start_year: int
    end_year: int
    ref: str
    to_districts: tuple[int, ...] = ()
    out_of_city_share: float = 0.0
    weights: str = "jobs"
    tier: int = 0
    on: dt.date | None = None
    floor: float = 0.0
    persons: float = 0.0
    jobs: float = 0.0
    job_tiers: tuple[float, ...] = ()
