"""The mechanism contract: what the model calls on each role's rules module, and the parameters it reads.

A regime's active mechanism exposes its ``rules.py`` module. The module declares its ``ROLE`` (and, for a
settlement channel, its output ``CHANNEL`` and its ``KIND``) and its ``PARAMETERS``; what else it must define is
the ``Protocol`` of its role below, one signature per method. The parameters every mechanism of a role needs
(``take_up``, ``round_month``, ``quota``, …) are declared here, once, in ``ROLES``; a module adds its own in
``PARAMETERS``.

``check_rules`` and ``check_variant`` test a module and a variant against the contract;
``policies.regime.Regime.check`` runs them for every active mechanism when a regime loads, so a missing method, a
missing parameter or a misspelled one is a one-line ``InputError`` naming the file and
``mechanism.variant.parameter`` before any simulated month (docs/contracts.md §7).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import numpy as np

from policies.decision import Decision, Lever, Points
from policies.errors import InputError
from policies.parameters import Variant
from policies.schema import PersonColumns
from policies.yamlio import key_lines, load_yaml

__all__ = [
    "Params", "Parameters", "Role", "ROLES", "CHANNEL_COLUMNS", "Mechanism", "PermitRules", "PointsRules",
    "ChannelRules", "DirectChannelRules", "HazardChannelRules", "QuotaChannelRules", "ServicesRules",
    "SpatialRules", "ControlRules", "role_of", "members", "check_rules", "check_variant", "missing", "check_values",
    "line_of",
]

Params = Mapping[str, Any]
"""The parameter values of one variant in force on one date (``Variant.at``)."""

CHANNEL_COLUMNS = ("talent", "points", "other")
"""The output columns a settlement channel counts in (``settled_talent``, ``settled_points``, ``settled_other``)."""


@dataclass(frozen=True)
class Parameters:
    """The parameter names a rules module reads, besides those its role requires (``Role.requires``).

    ``required``: always needed. ``optional``: read when a variant gives them. ``prefixes``: families of
    names (``route_*``, ``tier_*``). ``any_name``: every name is meaningful (spatial levers: each parameter is one
    lever, whose ``kind`` says what it is). ``depends``: the names that the values in force make necessary (a
    points indicator's companion parameter, a population target's sensitivity). ``check(name, value)``: raises
    ``ValueError`` (or ``InputError``) for a value the rules cannot read (a route with an unknown condition key), so
    it is refused when a regime loads rather than in the middle of a run.
    """

    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    any_name: bool = False
    depends: Callable[[Params], tuple[str, ...]] | None = None
    check: Callable[[str, Any], None] | None = None

    def needed(self, params: Params) -> tuple[str, ...]:
        """The module's own parameters a variant needs, given its values in force."""
        more = self.depends(params) if self.depends is not None else ()
        return tuple(dict.fromkeys((*self.required, *more)))

    def knows(self, name: str) -> bool:
        """Whether ``name`` means something to the module (otherwise it is a misspelling)."""
        return (self.any_name or name in self.required or name in self.optional
                or any(name.startswith(p) for p in self.prefixes))


# The protocols: one per role, one signature per method. A rules module is a module, not a class: mypy checks a
# module against a protocol where it is used as one (policies.mechanisms), and ``check_rules`` at run time.


class Mechanism(Protocol):
    """What every rules module declares."""

    ROLE: str
    PARAMETERS: Parameters


class PermitRules(Mechanism, Protocol):
    """暂住证 / 居住证: who may hold a residence permit. Requires ``take_up`` (yearly chance an eligible migrant
    without a permit applies) and ``gates_insured_work`` (whether insured work, hence social-insurance months,
    needs the permit)."""

    def eligible(self, persons: PersonColumns, params: Params, points: Points | None) -> Decision:
        """Who may hold a permit (``points`` is not used: the model passes None)."""
        ...


class PointsRules(Mechanism, Protocol):
    """积分: a points table. Requires ``threshold`` (the points line the calculator reports)."""

    def score(self, persons: PersonColumns, params: Params) -> Points:
        """Every declared indicator's points per person (parts keyed by parameter name) and their total."""
        ...

    def district_bonus(self, adcodes: np.ndarray, params: Params) -> np.ndarray:
        """Points for living in each district (zeros when the table has no district indicator)."""
        ...


class ChannelRules(Mechanism, Protocol):
    """A settlement channel: ``CHANNEL`` is the output column it counts in (``CHANNEL_COLUMNS``), ``KIND`` how
    it admits (``direct``, ``hazard``, ``quota``). Every channel requires ``round_month`` (1-12)."""

    CHANNEL: str
    KIND: str

    def eligible(self, persons: PersonColumns, params: Params, points: Points | None) -> Decision:
        """Who meets the channel's conditions (``points``: the regime's points, or None without a table)."""
        ...


class DirectChannelRules(ChannelRules, Protocol):
    """KIND ``direct``: every eligible applicant settles. Requires ``take_up`` (yearly chance of applying)."""


class HazardChannelRules(ChannelRules, Protocol):
    """KIND ``hazard``: a yearly chance among the eligible. Requires ``rate``."""


class QuotaChannelRules(ChannelRules, Protocol):
    """KIND ``quota``: a yearly round ranks applicants and admits ``quota`` persons. Requires ``take_up``,
    ``quota`` (persons a year) and ``admit_ties``."""

    def rank_keys(self, persons: PersonColumns, params: Params, points: Points | None) -> list[np.ndarray]:
        """Ranking keys, most important first; larger is better."""
        ...

    def admit_ties(self, params: Params) -> bool:
        """Whether applicants tied with the last one admitted are all admitted."""
        ...


class ServicesRules(Mechanism, Protocol):
    """梯度赋权: public-school access by tier. Requires ``tiers`` (the no-access tier value) and
    ``school_planning`` (``{follows_population: true, lag_years: L}``: places planned from the resident children of
    L years before; ``{follows_population: false}``: places grow at a fixed rate)."""

    def school_tier(self, persons: PersonColumns, params: Params) -> np.ndarray:
        """Each child's tier (1 = first served; ``tiers`` = no public school)."""
        ...


class SpatialRules(Mechanism, Protocol):
    """Spatial levers: housing, jobs, services and commuting changes by district."""

    def levers(self, params: Params) -> list[Lever]:
        """The levers of the variant, in file order."""
        ...


class ControlRules(Mechanism, Protocol):
    """总量控制 / 动态平衡: this year's quota multiplier per channel mechanism."""

    def quota_factors(self, state: Mapping[str, Any], params: Params) -> dict[str, float]:
        """Multiplier per channel mechanism name (``state``: residents, hukou_residents, settled_last_year,
        year)."""
        ...


@dataclass(frozen=True)
class Role:
    """One role of the contract: the ``ROLE`` (and ``KIND``) that select it, its protocol and the parameters every
    mechanism of the role needs."""

    name: str
    role: str
    kind: str | None
    protocol: type
    requires: tuple[str, ...]

    @property
    def label(self) -> str:
        """How messages name the role (``quota channel``)."""
        return self.name.replace("_", " ")


ROLES: dict[str, Role] = {r.name: r for r in (
    Role("permit", "permit", None, PermitRules, ("take_up", "gates_insured_work")),
    Role("points", "points", None, PointsRules, ("threshold",)),
    Role("direct_channel", "channel", "direct", DirectChannelRules, ("take_up", "round_month")),
    Role("hazard_channel", "channel", "hazard", HazardChannelRules, ("rate", "round_month")),
    Role("quota_channel", "channel", "quota", QuotaChannelRules, ("take_up", "quota", "round_month", "admit_ties")),
    Role("services", "services", None, ServicesRules, ("tiers", "school_planning")),
    Role("spatial", "spatial", None, SpatialRules, ()),
    Role("control", "control", None, ControlRules, ()),
)}
_BY_ROLE_AND_KIND = {(r.role, r.kind): r for r in ROLES.values()}


def members(protocol: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The constants and the methods a protocol asks for, its bases' included (bases first)."""
    constants: list[str] = []
    methods: list[str] = []
    for klass in reversed(protocol.__mro__):
        if klass in (Protocol, object) or not getattr(klass, "_is_protocol", False):
            continue
        constants += [n for n in klass.__dict__.get("__annotations__", {}) if n not in constants]
        methods += [n for n, v in vars(klass).items()
                    if callable(v) and not n.startswith("_") and n not in methods]
    return tuple(constants), tuple(methods)


def _fail(rules: ModuleType, field: str, message: str) -> InputError:
    return InputError(message, file=rules.__file__, field=field)


def role_of(name: str, rules: ModuleType) -> Role:
    """The role a rules module declares (``ROLE``, and ``KIND`` for a channel).

    Raises:
        InputError: the module declares no role, an unknown one, or an unknown channel kind.
    """
    declared = vars(rules)
    if "ROLE" not in declared:
        raise _fail(rules, f"{name}.ROLE", "a rules module declares ROLE "
                    f"(one of {', '.join(sorted({r.role for r in ROLES.values()}))})")
    kind = declared.get("KIND") if declared["ROLE"] == "channel" else None
    role = _BY_ROLE_AND_KIND.get((declared["ROLE"], kind))
    if role is None:
        known = ", ".join(f"{r}/{k}" if k else r for r, k in _BY_ROLE_AND_KIND)
        raise _fail(rules, f"{name}.ROLE", f"no role {declared['ROLE']!r}"
                    + (f" of kind {kind!r}" if kind else "") + f" in the contract (known: {known})")
    return role


def check_rules(name: str, rules: ModuleType) -> Role:
    """The role of mechanism ``name``, after checking that its module has what the role's protocol asks for.

    Raises:
        InputError: naming the module's file and ``mechanism.member`` when a constant or a method is missing,
            a method is not callable, or ``CHANNEL`` or ``PARAMETERS`` has no meaning.
    """
    role = role_of(name, rules)
    constants, methods = members(role.protocol)
    declared = vars(rules)
    for constant in constants:
        if constant not in declared:
            raise _fail(rules, f"{name}.{constant}", f"the {role.label} contract needs the constant {constant}")
    for method in methods:
        if not callable(declared.get(method)):
            raise _fail(rules, f"{name}.{method}",
                        f"the {role.label} contract needs the function {method} (policies/contract.py)")
    if not isinstance(declared["PARAMETERS"], Parameters):
        raise _fail(rules, f"{name}.PARAMETERS", "PARAMETERS is a policies.contract.Parameters")
    if role.role == "channel" and declared["CHANNEL"] not in CHANNEL_COLUMNS:
        raise _fail(rules, f"{name}.CHANNEL",
                    f"unknown column {declared['CHANNEL']!r} (known: {', '.join(CHANNEL_COLUMNS)})")
    return role


def check_variant(name: str, rules: ModuleType, variant: Variant) -> None:
    """Refuse a variant with a parameter its mechanism does not read (a misspelling, or a leftover).

    Raises:
        InputError: naming the variant's ``params.yaml``, the line and ``mechanism.variant.parameter``.
    """
    role = role_of(name, rules)
    spec: Parameters = rules.PARAMETERS
    for param in variant.params:
        if param in role.requires or spec.knows(param):
            continue
        known = sorted({*role.requires, *spec.required, *spec.optional}) + [f"{p}*" for p in spec.prefixes]
        raise InputError(f"unknown parameter (the {role.label} {name} reads: {', '.join(known)})",
                         file=variant.source or None, line=line_of(variant, param),
                         field=f"{name}.{variant.name}.{param}")


def missing(rules: ModuleType, params: Params) -> list[str]:
    """The parameters a mechanism needs that ``params`` (the values in force on a date) lack or set to null: its
    role's (``ROLES``) and its own (``PARAMETERS``)."""
    role = _BY_ROLE_AND_KIND[(rules.ROLE, rules.KIND if rules.ROLE == "channel" else None)]
    spec: Parameters = rules.PARAMETERS
    needed = dict.fromkeys((*role.requires, *spec.needed(params)))
    return [p for p in needed if params.get(p) is None]


def check_values(rules: ModuleType, params: Params) -> tuple[str, str] | None:
    """The first value the module's ``PARAMETERS.check`` refuses, as ``(where, reason)`` with ``where`` the
    parameter or a key inside it (``route_bachelor.education_min``); None when all pass or there is no check."""
    spec: Parameters = rules.PARAMETERS
    if spec.check is None:
        return None
    for name, value in params.items():
        try:
            spec.check(name, value)
        except InputError as exc:
            return _within(name, exc.field or name), exc.message
        except ValueError as exc:  # "route_x.key: reason" or "route_x: reason" (policies.conditions.check_spec)
            where, _, reason = str(exc).partition(": ")
            return (_within(name, where), reason) if reason and name in where.split(".") else (name, str(exc))
    return None


def _within(name: str, where: str) -> str:
    """The part of a dotted ``where`` from the parameter ``name`` on (``name`` when it does not occur)."""
    parts = where.split(".")
    return ".".join(parts[parts.index(name):]) if name in parts else name


def line_of(variant: Variant, param: str) -> int | None:
    """The line of ``param`` under the variant's ``params:`` in its file; for an inherited parameter, the line of
    the variant itself (its ``extends:`` is what brings it in); None when it cannot be told."""
    if param in variant.own:
        return variant.own[param]
    if variant.line is not None:
        return variant.line
    if not variant.source or not Path(variant.source).is_file():
        return None
    doc = load_yaml(variant.source)
    body = doc.get(variant.name) if isinstance(doc, Mapping) else None
    params = body.get("params") if isinstance(body, Mapping) else None
    return key_lines(params).get(param) if isinstance(params, Mapping) else None
