"""The regimes a user can name: the historical timelines, the shipped counterfactuals and YAML files of their own.

``resolve(["historical"])`` gives one regime per city; a counterfactual name gives the regimes it defines (one per
city it covers); cities that no name covers keep their historical timeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from policies.cities import CITIES
from policies.contract import check_variant
from policies.errors import InputError, Where
from policies.mechanisms import MECHANISMS, variants_of
from policies.parameters import FAR_FUTURE, FAR_PAST, Variant, _as_date, parse_variants
from policies.regime import Regime, RegimeVersion, check_mechanisms, parse_overrides
from policies.yamlio import key_lines, load_yaml

__all__ = ["REGIME_DIR", "available", "resolve", "load_regime_file"]

REGIME_DIR = Path(__file__).parent / "regimes"
_HISTORICAL_KEYS = {"name", "city", "cities", "title", "title_zh", "description", "documents", "versions"}
_VERSION_KEYS = {"label", "start", "end", "ref", "mechanisms"}
_COUNTERFACTUAL_KEYS = {"name", "title", "title_zh", "description", "derive_from", "cities", "from", "variants",
                        "swap",
                        "overrides"}


def _check_keys(doc: Mapping[str, Any], allowed: set[str], file: str, path: str) -> None:
    for key in doc:
        if key not in allowed:
            raise InputError(f"unknown key (allowed: {', '.join(sorted(allowed))})", file=file,
                             line=getattr(doc, "lines", {}).get(key), field=f"{path}{key}")


def _parse_timeline(doc: Mapping[str, Any], file: str) -> dict[str, Regime]:
    """A file of versions: one regime per city it names (``city:`` or ``cities:``)."""
    _check_keys(doc, _HISTORICAL_KEYS, file, "")
    cities = [doc["city"]] if "city" in doc else list(doc.get("cities") or [])
    for city in cities:
        if city not in CITIES:
            raise InputError(f"unknown city {city!r} (known: {', '.join(CITIES)})", file=file,
                             line=key_lines(doc).get("city", key_lines(doc).get("cities")), field="city")
    versions = []
    for i, raw in enumerate(doc.get("versions") or []):
        path = f"versions[{i}]"
        _check_keys(raw, _VERSION_KEYS, file, path + ".")
        where: Where = {"file": file, "line": raw.line, "field": path}
        start = _as_date(raw["start"], where) if "start" in raw else FAR_PAST
        end = _as_date(raw["end"], where) if "end" in raw else FAR_FUTURE
        mechanisms = check_mechanisms(raw.get("mechanisms") or {}, file=file, line=raw.line,
                                      path=f"{path}.mechanisms")
        versions.append(RegimeVersion(str(raw.get("label", path)), start, end, str(raw.get("ref", "")),
                                      mechanisms))
    if not versions:
        raise InputError("a regime needs at least one version", file=file, line=1, field="versions")
    name = str(doc.get("name") or Path(file).stem)
    return {city: Regime(name, city, str(doc.get("title", name)), tuple(versions),
                         tuple(doc.get("documents") or ()), description=str(doc.get("description", "")),
                         title_zh=str(doc.get("title_zh", "")))
            for city in cities}


def _parse_variants(raw: Any, file: str, line: int | None) -> dict[str, dict[str, Variant]]:
    """A counterfactual's ``variants:``: per mechanism, new variants in the format of its ``params.yaml``, which may
    extend the mechanism's variants or each other. A name the mechanism already has is refused (an existing
    variant is changed with ``overrides:``), and so is a parameter the mechanism does not read: new keys only
    where its ``PARAMETERS`` admit a family of names (``route_*``, ``tier_*``, any lever name)."""
    if not raw:
        return {}
    if not isinstance(raw, Mapping):
        raise InputError("variants is a mapping of mechanism: {variant: {description, extends, params}}", file=file,
                         line=line, field="variants")
    out: dict[str, dict[str, Variant]] = {}
    for mechanism, body in raw.items():
        where: Where = {"file": file, "line": key_lines(raw).get(mechanism, line), "field": f"variants.{mechanism}"}
        if mechanism not in MECHANISMS:
            raise InputError(f"unknown mechanism (known: {', '.join(sorted(MECHANISMS))})", **where)
        if not isinstance(body, Mapping):
            raise InputError("expected a mapping of variant names", **where)
        shared = variants_of(str(mechanism))
        for name in body:
            if name in shared:
                raise InputError(f"{mechanism} already has a variant {name!r}: change it with overrides:, or give the "
                                 "new variant another name", file=file, line=key_lines(body).get(name),
                                 field=f"variants.{mechanism}.{name}")
        parsed = parse_variants(body, file=file, mechanism=str(mechanism), path=f"variants.{mechanism}.",
                                inherit=shared)
        for variant in parsed.values():
            check_variant(str(mechanism), MECHANISMS[str(mechanism)], variant)
        out[str(mechanism)] = parsed
    return out


def _parse_counterfactual(doc: Mapping[str, Any], file: str) -> dict[str, Regime]:
    """A counterfactual: a baseline (a regime name) plus variants of its own, swaps from a date and dated
    parameter overrides."""
    _check_keys(doc, _COUNTERFACTUAL_KEYS, file, "")
    base_name = str(doc["derive_from"])
    try:
        bases = resolve([base_name]) if base_name != Path(file).stem else {}
    except InputError as exc:
        raise InputError(exc.message, file=file, line=key_lines(doc).get("derive_from"), field="derive_from") from None
    # without ``cities:``, the cities the baseline itself covers (``derive_from: shenzhen`` is Shenzhen only; the
    # other cities of ``bases`` are the historical timelines ``resolve`` fills in)
    cities = list(doc.get("cities") or _covered(base_name, bases))
    for city in cities:
        if city not in bases:
            raise InputError(f"{base_name!r} has no regime for {city!r}", file=file,
                             line=key_lines(doc).get("cities"), field="cities")
    start = _as_date(doc["from"], {"file": file, "line": key_lines(doc).get("from"), "field": "from"}) \
        if "from" in doc else FAR_PAST
    local = _parse_variants(doc.get("variants"), file, key_lines(doc).get("variants"))
    for city in cities:  # variants the baseline brought (it may be a counterfactual with variants of its own)
        for mechanism, names in bases[city].variants.items():
            for vname in names:
                local.setdefault(mechanism, {}).setdefault(vname, names[vname])
    swap_raw = doc.get("swap") or {}
    swap = {str(k): (None if v is None else str(v)) for k, v in swap_raw.items()}
    check_mechanisms(swap_raw, file=file, line=key_lines(doc).get("swap"), path="swap", local=local)
    overrides = parse_overrides(doc.get("overrides") or {}, file=file, path="overrides", local=local)
    name = str(doc.get("name") or Path(file).stem)
    return {city: bases[city].derive(name, title=str(doc.get("title", name)), start=start, swap=swap,
                                     overrides=overrides, description=str(doc.get("description", "")),
                                     variants=local, title_zh=str(doc.get("title_zh", "")))
            for city in cities}


def _covered(name: str, bases: Mapping[str, Regime]) -> list[str]:
    """The cities a regime name defines itself: every city for ``historical``, one for a city's timeline."""
    if name in _builtin_files():
        return list(_load_builtin(name))
    if name.endswith((".yaml", ".yml")):
        return list(load_regime_file(name))
    return list(bases)


def is_regime_file(path: str | Path) -> bool:
    """Whether a YAML file is a regime timeline or a counterfactual (not an experiment spec): it has ``versions`` or
    ``derive_from`` at the top. Unreadable files say no; loading them then names the problem."""
    try:
        doc = load_yaml(path)
    except InputError:
        return False
    return isinstance(doc, Mapping) and ("derive_from" in doc or "versions" in doc)


def load_regime_file(path: str | Path) -> dict[str, Regime]:
    """Read a regime or counterfactual YAML file into one regime per city it covers, each checked against the
    mechanism contract (``Regime.check``)."""
    file = str(path)
    doc = load_yaml(path)
    if not isinstance(doc, Mapping):
        raise InputError("a regime file is a mapping", file=file, line=1)
    regimes = _parse_counterfactual(doc, file) if "derive_from" in doc else _parse_timeline(doc, file)
    for regime in regimes.values():
        for i, version in enumerate(regime.versions):
            if i and version.start <= regime.versions[i - 1].end:
                raise InputError(f"version {version.label!r} starts before the previous one ends", file=file,
                                 field=f"versions[{i}].start")
        regime.check(file)  # every active mechanism against its role's contract (policies/contract.py)
    return regimes


@cache
def _builtin_files() -> dict[str, Path]:
    files = sorted(REGIME_DIR.glob("*.yaml")) + sorted((REGIME_DIR / "counterfactuals").glob("*.yaml"))
    return {p.stem: p for p in files}


def available() -> dict[str, dict[str, Regime]]:
    """Every regime name a user can pass, with the regimes (by city) it stands for."""
    out: dict[str, dict[str, Regime]] = {}
    for name in _builtin_files():
        out[name] = resolve([name])
    out["historical"] = resolve(["historical"])
    return dict(sorted(out.items()))


@cache
def _load_builtin(name: str) -> dict[str, Regime]:
    return load_regime_file(_builtin_files()[name])


def resolve(names: Iterable[str]) -> dict[str, Regime]:
    """The regime of each city for a list of names (historical names, counterfactuals or YAML files).

    ``historical`` expands to the three city timelines; a city no name covers keeps its historical timeline when
    the historical timelines exist. Two names covering the same city is an error.
    """
    chosen: dict[str, Regime] = {}
    for name in names:
        if name == "historical":
            found = {c: _load_builtin(c)[c] for c in CITIES if c in _builtin_files()}
        elif name in _builtin_files():
            found = _load_builtin(name)
        elif name.endswith((".yaml", ".yml")):
            found = load_regime_file(name)
        else:
            known = ", ".join(["historical", *sorted(_builtin_files())])
            raise InputError(f"unknown regime {name!r}; available: {known}", field="regimes")
        for city, regime in found.items():
            if city in chosen and chosen[city].name != regime.name:
                raise InputError(f"two regimes for {city}: {chosen[city].name!r} and {regime.name!r}",
                                 field="regimes")
            chosen[city] = regime
    for city in CITIES:
        if city not in chosen and city in _builtin_files():
            chosen[city] = _load_builtin(city)[city]
    missing = [c for c in CITIES if c not in chosen]
    if missing:
        raise InputError(f"no regime for {', '.join(missing)}", field="regimes")
    return chosen

