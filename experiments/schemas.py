"""JSON Schemas of the files users write, so editors can check them as they are typed (``hukou schema KIND``).

- ``spec``: an experiment spec (``experiments.spec.ExperimentSpec``).
- ``config``: a run config for ``hukou run --config`` (``sim.config.RunConfig``; its ``behaviour`` is merged into
  the defaults, so every behavioural key is optional there).
- ``policy``: a regime file, a city timeline or a counterfactual (``policies.catalogue``: read by hand, described
  here by ``TimelineFile`` and ``CounterfactualFile``, whose keys a test keeps equal to the loader's).
- ``profile``: a person's points profile (``policies.schema.Profile``, ``hukou points --profile``).

Mechanism, variant and override names are enumerated from the registry (``policies.mechanisms``), so the schema
knows every ``mechanism.variant.parameter`` an override may name. A schema checks form only: the loaders still
check what a schema cannot (a regime name resolves, bounds fit the parameter, dates are ordered) and stay the
authority. The files shipped in ``docs/schemas/`` are what ``hukou schema KIND`` prints (a test compares them).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["KINDS", "json_schema", "schema_text", "TimelineFile", "CounterfactualFile", "SCHEMA_DIR"]

KINDS = ("spec", "config", "policy", "profile")
SCHEMA_DIR = "docs/schemas"  # relative to the repository root: <kind>.schema.json
_BASE_ID = "https://hukou-sim.invalid/schemas/"  # an identifier, not a download location


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class TimelineVersion(_File):
    """One version of a city's regime: the mechanisms (and their variants) in force between two dates."""

    label: str | None = None
    start: dt.date | None = Field(None, description="first day in force (default: always)")
    end: dt.date | None = Field(None, description="last day in force (default: for ever)")
    ref: str | None = Field(None, description="the documents and articles it follows")
    mechanisms: dict[str, str | None] = Field(default_factory=dict, description="mechanism: variant")


class TimelineFile(_File):
    """A regime file of versions: the historical timeline of one city (``city``) or of several (``cities``)."""

    name: str | None = None
    city: str | None = None
    cities: list[str] | None = None
    title: str | None = None
    title_zh: str | None = Field(None, description="the title in Chinese (the one-line description the dashboard "
                                                    "and `hukou report --lang zh` show)")
    description: str | None = None
    documents: list[str] | None = None
    versions: list[TimelineVersion] = Field(min_length=1)


class CounterfactualFile(_File):
    """A counterfactual: a baseline regime, variants of its own, mechanisms swapped from a date, and dated parameter
    overrides."""

    name: str | None = None
    title: str | None = None
    title_zh: str | None = Field(None, description="the title in Chinese (the one-line description the dashboard "
                                                    "and `hukou report --lang zh` show)")
    description: str | None = None
    derive_from: str = Field(description="the baseline: a regime name (`hukou regimes`) such as historical")
    cities: list[str] | None = Field(None, description="the cities it covers (default: the cities the baseline "
                                                       "defines, every city for historical)")
    from_: dt.date | None = Field(None, alias="from", description="the day the swaps take effect")
    variants: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="mechanism: {new variant: {description, extends, params}} in the format of "
        "the mechanism's params.yaml, usable in swap: and overrides:")
    swap: dict[str, str | None] = Field(default_factory=dict,
                                        description="mechanism: variant from `from` on (null removes the mechanism)")
    overrides: dict[str, Any] = Field(default_factory=dict, description="mechanism.variant.parameter: dated entries "
                                                                        "(value with ref: or assumption:)")


def _registry() -> tuple[dict[str, list[str]], list[str]]:
    """Variants by mechanism, and every ``mechanism.variant.parameter`` an override may name."""
    from policies.mechanisms import MECHANISMS, variants_of

    variants = {m: sorted(variants_of(m)) for m in sorted(MECHANISMS)}
    overrides = sorted(f"{m}.{v}.{p}" for m in MECHANISMS for v, var in variants_of(m).items() for p in var.params)
    return variants, overrides


def _mechanism_map(variants: dict[str, list[str]]) -> dict[str, Any]:
    """``mechanism: variant`` with the known names (a null variant removes the mechanism)."""
    return {"type": "object", "additionalProperties": False,
            "properties": {m: {"anyOf": [{"$ref": f"#/$defs/variants_{m}"}, {"type": "null"}]} for m in variants}}


_DATED_ENTRY = {
    "type": "object", "additionalProperties": False, "required": ["value"],
    "properties": {"value": {}, "start": {"type": "string", "format": "date"},
                   "end": {"type": "string", "format": "date"}, "ref": {"type": "string"},
                   "assumption": {"type": "string"}, "note": {"type": "string"}},
    "anyOf": [{"required": ["ref"]}, {"required": ["assumption"]}],
}


_VARIANT = {
    "type": "object", "additionalProperties": False,
    "properties": {"description": {"type": "string"},
                   "extends": {"type": "string", "description": "a variant of the mechanism, or of variants:"},
                   "params": {"type": "object", "additionalProperties": {
                       "anyOf": [_DATED_ENTRY, {"type": "array", "items": _DATED_ENTRY, "minItems": 1}]}}},
}
_OVERRIDE_KEY = r"^[a-z_]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+$"  # a variant of the file's own variants: (checked on load)


def _policy_schema() -> dict[str, Any]:
    from policies.regime import CITIES

    variants, overrides = _registry()
    timeline = TimelineFile.model_json_schema(by_alias=True)
    counterfactual = CounterfactualFile.model_json_schema(by_alias=True)
    city = {"enum": list(CITIES)}
    timeline["properties"]["city"] = city
    timeline["properties"]["cities"] = {"type": "array", "items": city}
    timeline["$defs"]["TimelineVersion"]["properties"]["mechanisms"] = _mechanism_map(variants)
    counterfactual["properties"]["cities"] = {"type": "array", "items": city}
    counterfactual["properties"]["variants"] = {
        "type": "object", "additionalProperties": False,
        "description": "mechanism: {new variant: {description, extends, params}} (names the mechanism does not have)",
        "properties": {m: {"type": "object", "propertyNames": {"not": {"$ref": f"#/$defs/variants_{m}"}},
                           "additionalProperties": {"$ref": "#/$defs/Variant"}} for m in variants}}
    entries = {"anyOf": [_DATED_ENTRY, {"type": "array", "items": _DATED_ENTRY, "minItems": 1}]}
    about = "mechanism.variant.parameter: dated entries (value with ref: or assumption:)"
    own = {"type": "string", "description": "or a variant defined under variants:"}
    counterfactual["properties"]["swap"] = {
        "type": "object", "additionalProperties": False,
        "properties": {m: {"anyOf": [{"$ref": f"#/$defs/variants_{m}"}, own, {"type": "null"}]} for m in variants}}
    counterfactual["properties"]["overrides"] = {
        "type": "object", "propertyNames": {"anyOf": [{"$ref": "#/$defs/override_names"}, {"pattern": _OVERRIDE_KEY}]},
        "additionalProperties": entries, "description": about + "; the variant may be one of variants:"}
    # without variants: of its own, a file can name only the mechanisms' variants (a misspelt one fails here)
    counterfactual["if"] = {"not": {"required": ["variants"]}}
    counterfactual["then"] = {"properties": {
        "swap": _mechanism_map(variants),
        "overrides": {"type": "object", "propertyNames": {"$ref": "#/$defs/override_names"},
                      "additionalProperties": entries,
                      "description": about}}}
    defs = {**timeline.pop("$defs"), **counterfactual.pop("$defs", {}), "Variant": _VARIANT,
            "override_names": {"enum": overrides}, **{f"variants_{m}": {"enum": n} for m, n in variants.items()}}
    return {"title": "Regime file (hukou-sim)", "oneOf": [timeline, counterfactual], "$defs": defs,
            "description": "A city timeline (versions) or a counterfactual (derive_from); see docs/policies.md."}


def _with_override_names(node: dict[str, Any], overrides: list[str]) -> None:
    node["propertyNames"] = {"enum": overrides}


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one kind of file (``KINDS``)."""
    if kind == "spec":
        from experiments.spec import ExperimentSpec

        schema = ExperimentSpec.model_json_schema()
        _, overrides = _registry()
        _with_override_names(schema["$defs"]["Levers"]["properties"]["overrides"], overrides)
        _with_override_names(schema["$defs"]["Constants"]["properties"]["overrides"], overrides)
        schema["title"] = "Experiment spec (hukou-sim)"
    elif kind == "config":
        from sim.config import RunConfig

        schema = copy.deepcopy(RunConfig.model_json_schema())
        for name in ("Behaviour", "ByTier"):  # merged into the defaults: any subset of keys
            schema["$defs"][name].pop("required", None)
        _, overrides = _registry()
        _with_override_names(schema["properties"]["overrides"], overrides)
        schema["title"] = "Run config (hukou-sim, hukou run --config)"
    elif kind == "policy":
        schema = _policy_schema()
    elif kind == "profile":
        from policies.schema import Profile

        schema = Profile.model_json_schema()
        schema["title"] = "Points profile (hukou-sim)"
    else:
        raise ValueError(f"unknown schema {kind!r} (known: {', '.join(KINDS)})")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"{_BASE_ID}{kind}.schema.json",
            **schema}


def schema_text(kind: str) -> str:
    """``json_schema(kind)`` as the shipped file holds it: indented JSON, UTF-8 text, a final newline."""
    return json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n"
