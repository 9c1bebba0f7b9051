"""积分计算器 (docs/contracts.md §6): one person's points and settlement channels under a regime on a date.

The same rules that score a million migrants in the model score one profile here: the profile becomes
a ``Persons`` batch of one, the regime's snapshot on the date gives the points mechanism and the channel
mechanisms in force, and the result says how many points the person has, from which indicators (each
with its citation), and through which channel they could settle, or why not. ``hukou points`` prints
it (``--json`` prints ``CalculatorResult.to_json()``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from policies.catalogue import load_regime_file, resolve
from policies.cities import CITIES, city_of_adcode
from policies.decision import Points
from policies.errors import InputError
from policies.regime import PolicySnapshot, Regime
from policies.schema import Persons, Profile
from policies.yamlio import load_yaml, validation_error

__all__ = [
    "BreakdownRow", "ChannelRow", "CalculatorResult", "calculate", "calculate_file", "load_profile",
    "parse_date", "regime_for", "city_of_adcode",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BreakdownRow:
    """Points from one indicator, with the citation of its parameter (or the assumption behind it)."""

    indicator: str
    points: float
    ref: str

    @property
    def assumed(self) -> bool:
        """Whether the indicator's scoring is an assumption (no text found gives it) rather than a cited rule."""
        return self.ref.lstrip().lower().startswith("assumption")


@dataclass(frozen=True)
class ChannelRow:
    """Whether the person is eligible for one settlement channel, and the first unmet condition if not."""

    channel: str
    eligible: bool
    reason: str
    mechanism: str
    kind: str
    category: str = ""  # talent | points | other (policies.mechanisms.CHANNEL_CATEGORIES)


@dataclass(frozen=True)
class CalculatorResult:
    """One person's points and channels under a regime on a date."""

    regime: str
    city: str
    date: dt.date
    version: str
    total: float
    threshold: float | None
    breakdown: tuple[BreakdownRow, ...] = ()
    channels: tuple[ChannelRow, ...] = ()
    points_variant: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    assumed: Mapping[str, Any] = field(default_factory=dict)  # profile keys left out: their least favourable default

    @property
    def reaches_threshold(self) -> bool | None:
        """Whether the total reaches the points line (None when the regime has no points line)."""
        return None if self.threshold is None else self.total >= self.threshold

    @property
    def points_route_open(self) -> bool | None:
        """Whether a channel of the points category is open to the person (None when the regime has none)."""
        rows = [c for c in self.channels if c.category == "points"]
        return None if not rows else any(c.eligible for c in rows)

    @property
    def points_route_reason(self) -> str:
        """Why the points route is closed (the first closed points channel's reason), or empty."""
        return next((c.reason for c in self.channels if c.category == "points" and not c.eligible), "") \
            if self.points_route_open is False else ""

    @property
    def line_status(self) -> str:
        """The total against the line, read with the points route, so a total over the line never reads as passing
        while the route is closed: ``no_line``, ``below``, ``reached`` (route open, or the regime has no points
        channel) or ``reached_route_closed``."""
        if self.reaches_threshold is None:
            return "no_line"
        if not self.reaches_threshold:
            return "below"
        return "reached_route_closed" if self.points_route_open is False else "reached"

    @property
    def open_channels(self) -> tuple[str, ...]:
        """The channels open to the person on the date (the plain verdict: through which they can settle)."""
        return tuple(c.channel for c in self.channels if c.eligible)

    @property
    def assumed_indicators(self) -> tuple[str, ...]:
        """The indicators whose scoring is an assumption, not a cited rule (said beside the total)."""
        return tuple(r.indicator for r in self.breakdown if r.assumed)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document of docs/contracts.md §6, extended with regime, city, date and version."""
        return {
            "total": self.total,
            "threshold": self.threshold,
            "breakdown": [{"indicator": r.indicator, "points": r.points, "ref": r.ref, "assumed": r.assumed}
                          for r in self.breakdown],
            "channels": [{"channel": c.channel, "eligible": c.eligible, "reason": c.reason,
                          "mechanism": c.mechanism, "kind": c.kind, "category": c.category}
                         for c in self.channels],
            "line_status": self.line_status,
            "regime": self.regime,
            "city": self.city,
            "date": self.date.isoformat(),
            "version": self.version,
            "points_variant": self.points_variant,
            "assumed_defaults": dict(self.assumed),
        }


# The first day the regimes answer for: the 2010 census day, where the model starts. The first version of each
# timeline stands for the years before its own documents only as the nearest documented rules (each cites which).
RULES_FROM = dt.date(2010, 11, 1)


def parse_date(value: str | dt.date, *, field_name: str = "date") -> dt.date:
    """A date from ``YYYY-MM-DD`` (an ``InputError`` naming the field otherwise)."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"not a date (YYYY-MM-DD): {value!r}", field=field_name) from None


def load_profile(path: str | Path) -> Profile:
    """Read a points profile (docs/contracts.md §6) strictly; errors name file, line and the dotted field.

    Raises:
        InputError: the file is missing or not YAML, a key is unknown, a value has the wrong type or range
            (negative months, an unknown education level, …).
    """
    file = str(path)
    doc = load_yaml(path)
    if not isinstance(doc, Mapping):
        raise InputError("a profile is a mapping of keys (age, education, …)", file=file, line=1)
    try:
        return Profile.model_validate(dict(doc))
    except ValidationError as exc:
        raise validation_error(exc, file=file, doc=doc) from None


def regime_for(name: str, *, city: str | None = None, profile: Profile | None = None) -> Regime:
    """The one regime a user means by ``name``: a regime name of ``catalogue.available()`` or a YAML file.

    When the name covers several cities (``historical``, a national baseline), ``city`` picks one;
    without it the city of the profile's home (or work) district does.

    Raises:
        InputError: an unknown name (the message lists the available ones), or a city the name does not
            cover or cannot be told.
    """
    if name.endswith((".yaml", ".yml")):
        candidates = load_regime_file(name)
    else:
        chosen = resolve([name])
        named = {c: r for c, r in chosen.items() if r.name == name}
        candidates = named or chosen
    if city is not None:
        if city not in candidates:
            covered = ", ".join(candidates)
            raise InputError(f"regime {name!r} has no rules for {city!r} (covers: {covered})", field="city")
        return candidates[city]
    if len(candidates) == 1:
        return next(iter(candidates.values()))
    if profile is not None:
        for adcode in (profile.housing.district, profile.work_district):
            guess = city_of_adcode(adcode)
            if guess in candidates:
                return candidates[guess]
    raise InputError(f"regime {name!r} covers {', '.join(candidates)}: choose one with --city "
                     f"({' | '.join(CITIES)}) or give housing.district in the profile", field="city")


def _breakdown(snapshot: PolicySnapshot, points: Points | None) -> tuple[BreakdownRow, ...]:
    active = snapshot.one("points")
    if active is None or points is None:
        return ()
    return tuple(BreakdownRow(name, float(part[0]), active.refs.get(name, ""))
                 for name, part in points.parts.items())


# Why a hazard channel (family entry) is closed to a profile without a family member holding the city's hukou.
NO_FAMILY_MEMBER = "no spouse, parent or child with this city's hukou (family entry is for them)"


def _channels(snapshot: PolicySnapshot, persons: Persons, points: Points | None,
              profile: Profile | None = None) -> tuple[ChannelRow, ...]:
    """Each channel's decision for the one person. A hazard channel (family entry, 深府〔2016〕59号 政策性迁户) is,
    in the model, a yearly chance among long-term residents, because migrants have no family links there; one
    profile says whether the person has a spouse, parent or child with the city's hukou, and without one the
    channel is closed to them whatever their residence."""
    rows: list[ChannelRow] = []
    used: set[str] = set()
    for m in snapshot.by_role("channel"):
        decision = m.as_channel.eligible(persons, m.params, points)
        category = label = str(m.as_channel.CHANNEL)
        if label == "other" or label in used:
            label = m.name
        used.add(label)
        kind = str(m.as_channel.KIND)
        eligible, reason = bool(decision.eligible[0]), decision.why(0)
        if kind == "hazard" and profile is not None and not profile.family_hukou_member:
            eligible, reason = False, NO_FAMILY_MEMBER
        rows.append(ChannelRow(label, eligible, reason, m.name, kind, category))
    return tuple(rows)


def calculate(profile: Profile, regime: Regime, date: str | dt.date) -> CalculatorResult:
    """积分计算器: the points and channels of one profile under ``regime`` on ``date``.

    Args:
        profile: the person (points profile, docs/contracts.md §6).
        regime: one city's regime (historical or counterfactual).
        date: the day the rules are read on (``YYYY-MM-DD`` or a date).

    Returns:
        The total and its breakdown by indicator (with citations), the points line, and each channel's
        decision. A regime without a points mechanism gives a total of 0 and no threshold; one without
        channels, no channel rows.
    """
    day = parse_date(date)
    snapshot = regime.snapshot(day)
    persons = Persons.from_profiles([profile], day)
    active = snapshot.one("points")
    points = active.as_points.score(persons, active.params) if active is not None else None
    total = float(points.total[0]) if points is not None else 0.0
    threshold = active.params["threshold"] if active is not None else None
    logger.debug("points of a profile under %s on %s: %s", regime.name, day, total)
    return CalculatorResult(
        regime=regime.name, city=regime.city, date=day, version=snapshot.version, total=total,
        threshold=float(threshold) if threshold is not None else None,
        breakdown=_breakdown(snapshot, points), channels=_channels(snapshot, persons, points, profile),
        points_variant=active.variant if active is not None else None,
    )


def calculate_file(profile_path: str | Path, regime_name: str, date: str | dt.date,
                   city: str | None = None) -> CalculatorResult:
    """``hukou points``: read a profile file and calculate under the named regime on the date.

    Raises:
        InputError: a bad profile (file, line, field), date, regime name or city.
    """
    day = parse_date(date)
    if day < RULES_FROM:
        raise InputError(f"no documented rule applies on {day}: the regimes are written for the model's period, "
                         f"from the 2010 census day ({RULES_FROM}) on", field="--date")
    profile = load_profile(profile_path)
    result = calculate(profile, regime_for(regime_name, city=city, profile=profile), day)
    return dataclasses.replace(result, assumed=assumed_defaults(profile))


def assumed_defaults(profile: Profile) -> dict[str, Any]:
    """The profile keys a user left out, with the value the calculator assumed (the least favourable one), so the
    result can say what it rests on."""
    left_out = sorted(set(Profile.model_fields) - profile.model_fields_set)
    dumped = profile.model_dump(mode="json")
    return {key: dumped[key] for key in left_out}
