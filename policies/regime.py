"""Regimes: one city's active mechanisms and parameter variants over time, and counterfactuals derived from them.

A regime is a timeline of versions (the documents in force between two dates), each naming a parameter variant
per mechanism. ``Regime.snapshot(date)`` answers what the model asks a city government at each date: which rules
apply and with which numbers. A counterfactual is a new ``Regime`` built from a baseline plus data (swapped
variants from a date, dated parameter overrides); the baseline object is never changed (docs/contracts.md §3).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import ModuleType
from typing import Any

from policies.cities import CITIES  # re-exported: the list itself is policies.cities
from policies.errors import InputError, Where
from policies.mechanisms import MECHANISMS, variants_of
from policies.parameters import FAR_FUTURE, FAR_PAST, DatedValue, Variant, parse_entries

__all__ = ["CITIES", "Regime", "RegimeVersion", "PolicySnapshot", "ActiveMechanism"]


@dataclass(frozen=True)
class RegimeVersion:
    """The documents in force over ``[start, end]`` and the variant each mechanism uses then."""

    label: str
    start: dt.date
    end: dt.date
    ref: str
    mechanisms: Mapping[str, str]

    def covers(self, date: dt.date) -> bool:
        """Whether this version is in force on ``date``."""
        return self.start <= date <= self.end


@dataclass(frozen=True)
class ActiveMechanism:
    """One mechanism as in force on a date: its rules module, variant name, parameter values and citations."""

    name: str
    rules: ModuleType
    variant: str
    params: Mapping[str, Any]
    refs: Mapping[str, str]

    @property
    def role(self) -> str:
        """What the model uses it for (``permit``, ``points``, ``channel``, …)."""
        return self.rules.ROLE


@dataclass(frozen=True)
class PolicySnapshot:
    """Everything one city's regime says on one date."""

    city: str
    date: dt.date
    regime: str
    version: str
    mechanisms: Mapping[str, ActiveMechanism]

    def by_role(self, role: str) -> list[ActiveMechanism]:
        """The active mechanisms of one role, in the order the regime lists them."""
        return [m for m in self.mechanisms.values() if m.role == role]

    def one(self, role: str) -> ActiveMechanism | None:
        """The single active mechanism of a role (permit, points, services), or None when the regime has none."""
        found = self.by_role(role)
        return found[0] if found else None


@dataclass(frozen=True)
class Regime:
    """A city's rules over time: historical (from the documents) or a counterfactual derived from one."""

    name: str
    city: str
    title: str
    versions: tuple[RegimeVersion, ...]
    documents: tuple[str, ...] = ()
    overrides: Mapping[str, tuple[DatedValue, ...]] = field(default_factory=dict)
    base: str | None = None
    description: str = ""

    def version_at(self, date: dt.date) -> RegimeVersion:
        """The version in force on ``date`` (the last one before it when the timeline has a gap)."""
        for version in self.versions:
            if version.covers(date):
                return version
        earlier = [v for v in self.versions if v.start <= date]
        if not earlier:
            raise InputError(f"regime {self.name!r} has no rules before {date}", field="start")
        return earlier[-1]

    def variant(self, mechanism: str, name: str) -> Variant:
        """A mechanism's variant with this regime's overrides applied (the shared variant stays unchanged)."""
        base = variants_of(mechanism)[name]
        prefix = f"{mechanism}.{name}."
        mine = {k[len(prefix):]: v for k, v in self.overrides.items() if k.startswith(prefix)}
        return base.with_overrides(mine) if mine else base

    def snapshot(self, date: dt.date) -> PolicySnapshot:
        """What this regime says on ``date``: the active mechanisms with their parameter values."""
        version = self.version_at(date)
        active = {}
        for mechanism, variant_name in version.mechanisms.items():
            variant = self.variant(mechanism, variant_name)
            params = variant.at(date)
            refs = {p: e.provenance for p in params if (e := variant.entry(p, date)) is not None}
            active[mechanism] = ActiveMechanism(mechanism, MECHANISMS[mechanism], variant_name, params, refs)
        return PolicySnapshot(self.city, date, self.name, version.label, active)

    @cached_property
    def change_dates(self) -> tuple[dt.date, ...]:
        """Every date on which a version or one of its parameter values starts or ends, sorted."""
        dates: set[dt.date] = set()
        for version in self.versions:
            if version.start != FAR_PAST:
                dates.add(version.start)
            if version.end != FAR_FUTURE:
                dates.add(version.end + dt.timedelta(days=1))
            for mechanism, variant_name in version.mechanisms.items():
                dates |= {d for d in self.variant(mechanism, variant_name).change_dates()
                          if version.start <= d <= version.end}
        return tuple(sorted(dates))

    def missing_parameters(self, date: dt.date) -> list[str]:
        """Parameters a mechanism needs on ``date`` that do not resolve (empty when the regime is complete)."""
        missing = []
        for m in self.snapshot(date).mechanisms.values():
            required = m.rules.required(m.params) if hasattr(m.rules, "required") else m.rules.REQUIRED
            missing += [f"{m.name}.{m.variant}.{p}" for p in required if p not in m.params]
        return missing

    def derive(self, name: str, *, title: str, start: dt.date = FAR_PAST,
               swap: Mapping[str, str | None] | None = None,
               overrides: Mapping[str, tuple[DatedValue, ...]] | None = None, description: str = "") -> Regime:
        """A counterfactual: from ``start`` on, mechanisms in ``swap`` use another variant (None removes one),
        and ``overrides`` replace dated parameter values. ``self`` is unchanged."""
        swap = dict(swap or {})
        versions: list[RegimeVersion] = []
        for v in self.versions:
            if v.end < start or not swap:
                versions.append(v)
                continue
            if v.start < start:
                versions.append(replace(v, end=start - dt.timedelta(days=1)))
                v = replace(v, start=start)
            mechanisms = dict(v.mechanisms)
            for mechanism, variant in swap.items():
                if variant is None:
                    mechanisms.pop(mechanism, None)
                else:
                    mechanisms[mechanism] = variant
            versions.append(replace(v, label=f"{v.label} → {name}", mechanisms=mechanisms))
        merged = dict(self.overrides)
        for key, entries in (overrides or {}).items():
            merged[key] = merged.get(key, ()) + tuple(entries)
        return Regime(name, self.city, title, tuple(versions), self.documents, merged, base=self.name,
                      description=description)


def check_mechanisms(mechanisms: Mapping[str, Any], *, file: str, line: int | None, path: str) -> dict[str, str]:
    """Validate a ``mechanism: variant`` mapping against the registry, naming the bad key."""
    out = {}
    lines = getattr(mechanisms, "lines", {})
    for mechanism, variant in mechanisms.items():
        where: Where = {"file": file, "line": lines.get(mechanism, line), "field": f"{path}.{mechanism}"}
        if mechanism not in MECHANISMS:
            raise InputError(f"unknown mechanism (known: {', '.join(sorted(MECHANISMS))})", **where)
        if variant is None:
            continue
        if str(variant) not in variants_of(mechanism):
            known = ", ".join(sorted(variants_of(mechanism)))
            raise InputError(f"unknown variant {variant!r} (known: {known})", **where)
        out[str(mechanism)] = str(variant)
    return out


def parse_overrides(raw: Mapping[str, Any], *, file: str, path: str) -> dict[str, tuple[DatedValue, ...]]:
    """Parse ``mechanism.variant.param: dated entries``, refusing paths that name nothing."""
    out = {}
    lines = getattr(raw, "lines", {})
    for key, entries in raw.items():
        where: Where = {"file": file, "line": lines.get(key), "field": f"{path}.{key}"}
        parts = str(key).split(".")
        if len(parts) != 3:
            raise InputError("an override is mechanism.variant.parameter", **where)
        mechanism, variant, param = parts
        if mechanism not in MECHANISMS:
            raise InputError(f"unknown mechanism {mechanism!r}", **where)
        variants = variants_of(mechanism)
        if variant not in variants:
            raise InputError(f"unknown variant {variant!r} of {mechanism}", **where)
        if param not in variants[variant].params:
            known = ", ".join(sorted(variants[variant].params))
            raise InputError(f"unknown parameter {param!r} (known: {known})", **where)
        parsed = parse_entries(entries, file=file, line=lines.get(key), path=f"{path}.{key}")
        baseline = [e.value for e in variants[variant].params[param] if e.value is not None]
        for entry in parsed:
            problem = _unlike(entry.value, baseline)
            if problem:
                raise InputError(problem, **where)
        out[str(key)] = parsed
    return out


def _unlike(value: Any, baseline: list[Any]) -> str | None:
    """Why an override value cannot stand for its parameter, or None: it must have the type of the values the
    texts give (a number, true/false or a mapping), be finite, and not be negative where they never are. A text
    quota of 'lots' or a NaN once ran eight simulated years before a traceback; a negative quota ran to exit 0."""
    if not _finite(value):
        return f"NaN and infinity are not values ({value!r})"
    if not baseline or value is None:
        return None
    if all(_is_number(b) for b in baseline):
        if not _is_number(value):
            return f"a number is needed (as in the baseline, {baseline[0]!r}), not {value!r}"
        if value < 0 and all(b >= 0 for b in baseline):
            return f"cannot be negative (got {value:g}; the baseline never is)"
    elif all(isinstance(b, bool) for b in baseline) and not isinstance(value, bool):
        return f"true or false is needed, not {value!r}"
    elif all(isinstance(b, Mapping) for b in baseline) and not isinstance(value, Mapping):
        return f"a mapping is needed (like {baseline[0]!r}), not {value!r}"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    """No NaN or infinity anywhere inside a value (numbers, lists, mappings)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Mapping):
        return all(_finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_finite(v) for v in value)
    return True
