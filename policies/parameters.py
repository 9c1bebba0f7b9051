"""Dated parameters with provenance: every number a rule uses, when it applies, and where it comes from.

A mechanism's ``params.yaml`` holds named *variants* (one per document or city scheme). Each variant maps a
parameter name to one dated entry or a list of them::

    guangzhou_2011:
      description: 广州市积分制入户 2011–2015
      extends: null                 # optional: start from another variant's parameters
      params:
        threshold: {value: 60, ref: "2015年广州市积分制入户申办指南 （二）"}
        quota:
          - {start: 2015-01-01, end: 2015-12-31, value: 4500, ref: "..."}

An entry must carry ``ref:`` (document number and article) or ``assumption:`` (why this number); the loader refuses
one with neither, and any key it does not know, naming file, line and dotted path (as OpenFisca and GETTSIM do).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from policies.errors import InputError, Where
from policies.yamlio import key_lines, load_yaml

__all__ = ["DatedValue", "Variant", "load_variants", "parse_variants", "parse_entries", "FAR_PAST", "FAR_FUTURE"]

FAR_PAST = dt.date(1900, 1, 1)
FAR_FUTURE = dt.date(2100, 12, 31)
_ENTRY_KEYS = {"start", "end", "value", "ref", "assumption", "note"}
_VARIANT_KEYS = {"description", "extends", "params"}


@dataclass(frozen=True)
class DatedValue:
    """One value of one parameter over ``[start, end]`` with its provenance (``ref`` or ``assumption``)."""

    value: Any
    start: dt.date = FAR_PAST
    end: dt.date = FAR_FUTURE
    ref: str | None = None
    assumption: str | None = None
    note: str | None = None

    def covers(self, date: dt.date) -> bool:
        """Whether this value is in force on ``date``."""
        return self.start <= date <= self.end

    @property
    def provenance(self) -> str:
        """The citation, or ``assumption: …`` when the texts leave the number open."""
        return self.ref if self.ref else f"assumption: {self.assumption}"


@dataclass(frozen=True)
class Variant:
    """A named set of dated parameters of one mechanism (for example Guangzhou's 2011–2015 points table).

    ``params`` holds every parameter, inherited ones included (``extends`` is resolved when the file loads);
    ``own`` names those the variant sets itself, with their line in ``source``, and ``extends`` its parent: a
    regime's override of a parent's parameter reaches the variants that inherit it (``Regime.variant``).
    """

    mechanism: str
    name: str
    description: str
    params: Mapping[str, tuple[DatedValue, ...]] = field(default_factory=dict)
    source: str = ""
    extends: str | None = None
    own: Mapping[str, int | None] = field(default_factory=dict)
    line: int | None = None

    def entry(self, param: str, date: dt.date) -> DatedValue | None:
        """The entry of ``param`` in force on ``date`` (the latest-starting one when several cover it)."""
        covering = [e for e in self.params.get(param, ()) if e.covers(date)]
        overriding = [e for e in covering if isinstance(e, _Override)]
        pool = overriding or covering
        return max(pool, key=lambda e: e.start) if pool else None

    def at(self, date: dt.date) -> dict[str, Any]:
        """All parameter values in force on ``date``; a parameter not in force is absent."""
        out = {}
        for name in self.params:
            entry = self.entry(name, date)
            if entry is not None:
                out[name] = entry.value
        return out

    def change_dates(self) -> set[dt.date]:
        """Dates on which some parameter value starts or ends (the day after an end)."""
        dates: set[dt.date] = set()
        for entries in self.params.values():
            for e in entries:
                if e.start != FAR_PAST:
                    dates.add(e.start)
                if e.end != FAR_FUTURE:
                    dates.add(e.end + dt.timedelta(days=1))
        return dates

    def with_overrides(self, overrides: Mapping[str, tuple[DatedValue, ...]]) -> Variant:
        """A new variant whose overriding entries take precedence where they apply; ``self`` is unchanged."""
        params = dict(self.params)
        for name, entries in overrides.items():
            # Overrides win on the dates they cover, whatever the baseline's entries say.
            kept = tuple(params.get(name, ()))
            params[name] = kept + tuple(_Override(e) for e in entries)
        return replace(self, params=params)


class _Override(DatedValue):
    """A dated value from a counterfactual: wins over any baseline entry on the dates it covers."""

    def __init__(self, base: DatedValue) -> None:
        super().__init__(base.value, base.start, base.end, base.ref, base.assumption, base.note)


def _as_date(value: Any, where: Where) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int) and 1900 <= value <= 2100:
        return dt.date(value, 1, 1)
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"not a date (YYYY-MM-DD): {value!r}", **where) from None


def parse_entries(raw: Any, *, file: str | None, line: int | None, path: str) -> tuple[DatedValue, ...]:
    """Parse one parameter's dated entries (a mapping or a list of mappings) with strict checks."""
    items = raw if isinstance(raw, list) else [raw]
    entries = []
    for i, item in enumerate(items):
        item_path = f"{path}[{i}]" if isinstance(raw, list) else path
        item_line = getattr(item, "line", None) or line
        where: Where = {"file": file, "line": item_line, "field": item_path}
        if not isinstance(item, Mapping):
            raise InputError("expected a mapping with value and ref: or assumption:", **where)
        unknown = set(item) - _ENTRY_KEYS
        if unknown:
            key = sorted(map(str, unknown))[0]
            raise InputError(f"unknown key (allowed: {', '.join(sorted(_ENTRY_KEYS))})", file=file,
                             line=getattr(item, "lines", {}).get(key, item_line), field=f"{item_path}.{key}")
        if "value" not in item:
            raise InputError("missing value", **where)
        ref, assumption = item.get("ref"), item.get("assumption")
        if not (ref and str(ref).strip()) and not (assumption and str(assumption).strip()):
            raise InputError("a value needs ref: (document and article) or assumption: (the reason)", **where)
        start = _as_date(item["start"], where) if "start" in item else FAR_PAST
        end = _as_date(item["end"], where) if "end" in item else FAR_FUTURE
        if end < start:
            raise InputError(f"end {end} is before start {start}", **where)
        entries.append(DatedValue(_plain(item["value"]), start, end, ref and str(ref),
                                  assumption and str(assumption), item.get("note")))
    return tuple(entries)


def _plain(value: Any) -> Any:
    """Turn line-tracking dicts into plain dicts (values are data, not documents)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def load_variants(path: str | Path, mechanism: str) -> dict[str, Variant]:
    """Load every variant of a mechanism's ``params.yaml``, resolving ``extends`` chains."""
    path = Path(path)
    doc = load_yaml(path)
    if not isinstance(doc, Mapping):
        raise InputError("expected a mapping of variant names", file=str(path), line=1)
    return parse_variants(doc, file=str(path), mechanism=mechanism)


def parse_variants(doc: Mapping[str, Any], *, file: str, mechanism: str, path: str = "",
                   inherit: Mapping[str, Variant] | None = None) -> dict[str, Variant]:
    """Parse a mapping of variants (the body of a ``params.yaml``, or a counterfactual's ``variants.<mechanism>``),
    resolving ``extends`` within ``doc`` and to the variants of ``inherit`` (the mechanism's own, for a
    counterfactual). ``path`` prefixes the field names of errors (``variants.talent_channel.``).

    Raises:
        InputError: a variant that is not a mapping, an unknown key, an ``extends`` naming no variant or forming a
            cycle, or a bad entry (``parse_entries``), naming file, line and the dotted field.
    """
    inherit = inherit or {}
    raw_variants: dict[str, tuple[Mapping[str, Any], int | None]] = {}
    for name, body in doc.items():
        line = key_lines(doc).get(name)
        if not isinstance(body, Mapping):
            raise InputError("a variant is a mapping with description, extends, params", file=file, line=line,
                             field=f"{path}{name}")
        unknown = set(body) - _VARIANT_KEYS
        if unknown:
            key = sorted(map(str, unknown))[0]
            raise InputError(f"unknown key (allowed: {', '.join(sorted(_VARIANT_KEYS))})", file=file,
                             line=key_lines(body).get(key, line), field=f"{path}{name}.{key}")
        raw_variants[str(name)] = (body, line)

    resolved: dict[str, Variant] = {}

    def resolve(name: str, chain: Iterable[str] = ()) -> Variant:
        if name in resolved:
            return resolved[name]
        if name in chain:
            raise InputError(f"extends forms a cycle: {' -> '.join([*chain, name])}", file=file,
                             line=raw_variants[name][1], field=f"{path}{name}.extends")
        body, line = raw_variants[name]
        params: dict[str, tuple[DatedValue, ...]] = {}
        parent = body.get("extends")
        if parent:
            parent = str(parent)
            if parent in raw_variants:
                params.update(resolve(parent, [*chain, name]).params)
            elif parent in inherit:
                params.update(inherit[parent].params)
            else:
                known = ", ".join(sorted({*raw_variants, *inherit} - {name}))
                raise InputError(f"extends an unknown variant {parent!r} of {mechanism} (known: {known})", file=file,
                                 line=key_lines(body).get("extends", line), field=f"{path}{name}.extends")
        raw_params = body.get("params") or {}
        if not isinstance(raw_params, Mapping):
            raise InputError("params must be a mapping", file=file, line=line, field=f"{path}{name}.params")
        own = {}
        for pname, raw in raw_params.items():
            own[str(pname)] = key_lines(raw_params).get(pname)
            params[str(pname)] = parse_entries(raw, file=file, line=own[str(pname)],
                                               path=f"{path}{name}.params.{pname}")
        variant = Variant(mechanism, name, str(body.get("description", "")), params, file,
                          extends=parent or None, own=own, line=line)
        resolved[name] = variant
        return variant

    for name in raw_variants:
        resolve(name)
    return resolved
