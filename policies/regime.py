"""Regimes: one city's active mechanisms and parameter variants over time, and counterfactuals derived from them.

A regime is a timeline of versions (the documents in force between two dates), each naming a parameter variant
per mechanism. ``Regime.snapshot(date)`` answers what the model asks a city government at each date: which rules
apply and with which numbers. A counterfactual is a new ``Regime`` built from a baseline plus data (variants of
its own, swapped variants from a date, dated parameter overrides); the baseline object is never changed
(docs/contracts.md §3). An override of a variant's parameter reaches every variant that inherits that parameter
through ``extends`` without setting it itself, so a change to Shenzhen's 2016 talent routes also holds under the
2017 rules that keep them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import ModuleType
from typing import Any, cast

from policies.cities import ADCODE_PREFIX, CITIES  # CITIES re-exported: the list itself is policies.cities
from policies.contract import (
    ChannelRules,
    ControlRules,
    PermitRules,
    PointsRules,
    QuotaChannelRules,
    Role,
    ServicesRules,
    SpatialRules,
    check_rules,
    check_values,
    check_variant,
    line_of,
    missing,
)
from policies.errors import InputError, Where
from policies.mechanisms import MECHANISMS, variants_of
from policies.parameters import FAR_FUTURE, FAR_PAST, DatedValue, Variant, parse_entries

__all__ = ["CITIES", "Regime", "RegimeVersion", "PolicySnapshot", "ActiveMechanism", "with_overrides"]


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
        return str(self.rules.ROLE)

    # The rules as their role's protocol (policies/contract.py), so that mypy checks every call the model makes.
    # ``Regime.check`` has checked the module against the protocol of its role when the regime loaded; asking for
    # another role's view is a programming error.
    def _as(self, role: str, kind: str | None = None) -> Any:
        if self.rules.ROLE != role or (kind is not None and self.rules.KIND != kind):
            raise TypeError(f"{self.name} is a {self.rules.ROLE} mechanism, not {kind or ''} {role}")
        return self.rules

    @property
    def as_permit(self) -> PermitRules:
        """The rules of a permit mechanism."""
        return cast(PermitRules, self._as("permit"))

    @property
    def as_points(self) -> PointsRules:
        """The rules of a points table."""
        return cast(PointsRules, self._as("points"))

    @property
    def as_channel(self) -> ChannelRules:
        """The rules of a settlement channel of any kind."""
        return cast(ChannelRules, self._as("channel"))

    @property
    def as_quota(self) -> QuotaChannelRules:
        """The rules of a quota channel."""
        return cast(QuotaChannelRules, self._as("channel", "quota"))

    @property
    def as_services(self) -> ServicesRules:
        """The rules of a services mechanism."""
        return cast(ServicesRules, self._as("services"))

    @property
    def as_spatial(self) -> SpatialRules:
        """The rules of a spatial-levers mechanism."""
        return cast(SpatialRules, self._as("spatial"))

    @property
    def as_control(self) -> ControlRules:
        """The rules of a population-control mechanism."""
        return cast(ControlRules, self._as("control"))


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
    variants: Mapping[str, Mapping[str, Variant]] = field(default_factory=dict)
    title_zh: str = ""  # the title in Chinese: the one line that describes the regime in the dashboard's zh mode

    def version_at(self, date: dt.date) -> RegimeVersion:
        """The version in force on ``date`` (the last one before it when the timeline has a gap)."""
        for version in self.versions:
            if version.covers(date):
                return version
        earlier = [v for v in self.versions if v.start <= date]
        if not earlier:
            raise InputError(f"regime {self.name!r} has no rules before {date}", field="start")
        return earlier[-1]

    def base_variant(self, mechanism: str, name: str) -> Variant:
        """A mechanism's variant as written: one of the regime's own (``variants:`` of a counterfactual) or one of
        the mechanism's ``params.yaml``."""
        own = self.variants.get(mechanism, {})
        return own[name] if name in own else variants_of(mechanism)[name]

    def lineage(self, mechanism: str, name: str) -> list[Variant]:
        """The variant and the ones it extends, nearest first."""
        chain = [self.base_variant(mechanism, name)]
        while chain[-1].extends is not None and len(chain) <= 32:  # load_variants refused cycles
            chain.append(self.base_variant(mechanism, chain[-1].extends))
        return chain

    def variant(self, mechanism: str, name: str) -> Variant:
        """A mechanism's variant with this regime's overrides applied (the shared variant stays unchanged).

        Each parameter takes the override of the nearest variant in its ``extends`` chain that either is
        overridden or sets the parameter itself: an override of ``talent_channel.shenzhen_2016.route_bachelor``
        reaches ``shenzhen_2017``, which inherits that route, but not a route ``shenzhen_2017`` redefines.
        """
        chain = self.lineage(mechanism, name)
        mine = {}
        for param in chain[0].params:
            for level in chain:
                key = f"{mechanism}.{level.name}.{param}"
                if key in self.overrides:
                    mine[param] = self.overrides[key]
                    break
                if param in level.own:
                    break
        return chain[0].with_overrides(mine) if mine else chain[0]

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
        """``mechanism.variant.parameter`` of each parameter a mechanism needs on ``date`` (its role's and its own,
        policies/contract.py) that does not resolve or is null; empty when the regime is complete."""
        return [f"{m.name}.{m.variant}.{p}" for m in self.snapshot(date).mechanisms.values()
                for p in missing(m.rules, m.params)]

    def check(self, file: str | None = None) -> None:
        """Check every mechanism the regime activates against its role's contract (policies/contract.py): the
        rules module has the role's constants and functions, each variant reads no parameter its mechanism does
        not know (a misspelling), and on each date a version or a value starts every parameter the mechanism needs
        resolves, with a value its rules can read (``Parameters.check``: routes, tiers, levers).

        Raises:
            InputError: a module without a function or constant of its role (naming the module's file and
                ``mechanism.function``); an unknown parameter (naming its ``params.yaml``, line and
                ``mechanism.variant.parameter``); a missing or null parameter, or a value the rules cannot read
                (naming the variant's ``params.yaml``, or ``file`` when this regime's overrides set the value, and
                ``mechanism.variant.parameter``).
        """
        roles: dict[str, Role] = {}
        for version in self.versions:
            for mechanism, variant_name in version.mechanisms.items():
                if mechanism not in roles:
                    roles[mechanism] = check_rules(mechanism, MECHANISMS[mechanism])
                check_variant(mechanism, MECHANISMS[mechanism], self.base_variant(mechanism, variant_name))
            starts = {version.start} | {d for d in self.change_dates if version.covers(d)}
            for date in sorted(starts):
                for m in self.snapshot(date).mechanisms.values():
                    self._check_values(m, date, roles[m.name], version, file)

    def _check_values(self, m: ActiveMechanism, date: dt.date, role: Role, version: RegimeVersion,
                      file: str | None) -> None:
        """Refuse a parameter of ``m`` that is missing, null or unreadable on ``date`` (``Regime.check``)."""
        base = self.base_variant(m.name, m.variant)
        for param in missing(m.rules, m.params):
            nulled = base.at(date).get(param) is not None
            raise InputError(f"missing parameter: the {role.label} {m.name} needs it on {date} (regime "
                             f"{self.name!r}, {self.city}, version {version.label!r})"
                             + (", and an override sets it to null" if nulled else ""),
                             file=(file if nulled else base.source) or None, field=f"{m.name}.{m.variant}.{param}")
        refused = check_values(m.rules, m.params)
        if refused is not None:
            where, reason = refused
            param = where.split(".")[0]
            overridden = base.at(date).get(param) != m.params[param]
            raise InputError(f"{reason} (on {date})", file=(file if overridden else base.source) or None,
                             line=None if overridden else line_of(base, param), field=f"{m.name}.{m.variant}.{where}")
        if m.role == "spatial":
            self._check_lever_cities(m, date, base, file)

    def _check_lever_cities(self, m: ActiveMechanism, date: dt.date, base: Variant, file: str | None) -> None:
        """Refuse a spatial lever naming a district outside the regime's city: a city's levers act on its own
        districts only (``apply_levers`` would silently skip the others, and a new area's land would be lost)."""
        for param, spec in m.params.items():
            if spec is None:
                continue
            for lever in m.as_spatial.levers({param: spec}):
                foreign = sorted(d for d in (*lever.districts, *lever.to_districts)
                                 if d // 100 != ADCODE_PREFIX[self.city])
                if foreign:
                    overridden = base.at(date).get(param) != spec
                    owner = next(v for v in self.lineage(m.name, m.variant) if param in v.own or v.extends is None)
                    inherited = "" if overridden or owner is base else (
                        f"; inherited from {m.name}.{owner.name}: set it to null or redefine it in {base.name}")
                    raise InputError(f"districts outside {self.city}: {foreign} (regime {self.name!r}, on {date})"
                                     + inherited, file=(file if overridden else base.source) or None,
                                     line=None if overridden else line_of(base, param),
                                     field=f"{m.name}.{m.variant}.{param}")

    def derive(self, name: str, *, title: str, start: dt.date = FAR_PAST,
               swap: Mapping[str, str | None] | None = None,
               overrides: Mapping[str, tuple[DatedValue, ...]] | None = None, description: str = "",
               variants: Mapping[str, Mapping[str, Variant]] | None = None, title_zh: str = "") -> Regime:
        """A counterfactual: ``variants`` (mechanism → name → variant) join the regime's own, from ``start`` on
        mechanisms in ``swap`` use another variant (None removes one), and ``overrides`` replace dated parameter
        values; ``title_zh`` is its title in Chinese. ``self`` is unchanged."""
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
        own = {m: dict(v) for m, v in self.variants.items()}
        for mechanism, new in (variants or {}).items():
            own.setdefault(mechanism, {}).update(new)
        return Regime(name, self.city, title, tuple(versions), self.documents, merged, base=self.name,
                      description=description, variants=own, title_zh=title_zh)


def with_overrides(regimes: Mapping[str, Regime], overrides: Mapping[str, tuple[DatedValue, ...]], *,
                   file: str | None = None) -> dict[str, Regime]:
    """Each regime that uses an overridden variant, derived with the overrides (a run's ``overrides:``) and
    checked against the mechanism contract (``Regime.check``, naming ``file``); the baselines stay unchanged."""
    out = {}
    for city, regime in regimes.items():
        used = {f"{m}.{a.name}." for version in regime.versions for m, v in version.mechanisms.items()
                for a in regime.lineage(m, v)}
        mine = {k: v for k, v in overrides.items() if any(k.startswith(prefix) for prefix in used)}
        out[city] = regime
        if mine:
            out[city] = regime.derive(f"{regime.name}+overrides", title=f"{regime.title} (with overrides)",
                                      overrides=mine,
                                      title_zh=f"{regime.title_zh}（含参数覆盖）" if regime.title_zh else "")
            out[city].check(file)
    return out


def check_mechanisms(mechanisms: Mapping[str, Any], *, file: str, line: int | None, path: str,
                     local: Mapping[str, Mapping[str, Variant]] | None = None) -> dict[str, str]:
    """Validate a ``mechanism: variant`` mapping against the registry and the file's own variants (``local``),
    naming the bad key."""
    out = {}
    lines = getattr(mechanisms, "lines", {})
    for mechanism, variant in mechanisms.items():
        where: Where = {"file": file, "line": lines.get(mechanism, line), "field": f"{path}.{mechanism}"}
        if mechanism not in MECHANISMS:
            raise InputError(f"unknown mechanism (known: {', '.join(sorted(MECHANISMS))})", **where)
        if variant is None:
            continue
        known_variants = {**variants_of(mechanism), **(local or {}).get(str(mechanism), {})}
        if str(variant) not in known_variants:
            known = ", ".join(sorted(known_variants))
            raise InputError(f"unknown variant {variant!r} (known: {known})", **where)
        out[str(mechanism)] = str(variant)
    return out


def parse_overrides(raw: Mapping[str, Any], *, file: str, path: str,
                    local: Mapping[str, Mapping[str, Variant]] | None = None) -> dict[str, tuple[DatedValue, ...]]:
    """Parse ``mechanism.variant.param: dated entries``, refusing paths that name nothing (the variant may be one
    of the file's own, ``local``)."""
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
        variants = {**variants_of(mechanism), **(local or {}).get(mechanism, {})}
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
