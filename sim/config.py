"""The configuration of one run: years, scale, seed, regimes and behavioural parameters, validated strictly.

A run is fully determined by its resolved config, its seed and the code version (docs/contracts.md §1); the resolved
config is written to ``config.yaml`` in the run folder and hashed into the manifest.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from policies.errors import InputError
from policies.yamlio import line_of, load_yaml, validation_error
from sim.params import Behaviour, default_behaviour

__all__ = ["RunConfig", "FIRST_YEAR", "LAST_YEAR", "MAX_SCALE", "load_config"]

FIRST_YEAR = 2010  # the model starts on the 2010 census day: the only day with district-level data
LAST_YEAR = 2050   # assumption: beyond 2050 the regimes and growth parameters are pure extrapolation
# Above a million persons per agent the three cities hold a few dozen agents and every rate is noise; below one, an
# agent would be a fraction of a person.
MAX_SCALE = 1_000_000.0


class RunConfig(BaseModel):
    """One run's settings. ``scale`` is persons per agent: every output is in persons."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    start: int = Field(2010, description="first year reported (the model always starts on 2010-11-01)")
    end: int = Field(2035, description="last year simulated, through December")
    scale: float = Field(100.0, ge=1, le=MAX_SCALE, description="persons per agent (1 = every migrant is an agent)")
    seed: int = Field(0, ge=0)
    regimes: tuple[str, ...] = ("historical",)
    step_months: Literal[1, 3] = 3
    history: bool = Field(True, description="keep each migrant's status changes for model.migrant(i)")
    behaviour: Behaviour = Field(default_factory=default_behaviour)
    overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="dated policy-parameter overrides, `mechanism.variant.parameter: value` (a plain value applies "
                    "on every date, with assumption 'run override') or a list of dated entries with ref/assumption; "
                    "applied to every regime that uses that variant")

    @model_validator(mode="after")
    def _years_covered(self) -> RunConfig:
        if not FIRST_YEAR <= self.start <= LAST_YEAR:
            raise ValueError(f"start {self.start} is outside the years the data cover ({FIRST_YEAR}–{LAST_YEAR})")
        if not self.start <= self.end <= LAST_YEAR:
            raise ValueError(f"end {self.end} must be between start {self.start} and {LAST_YEAR}")
        if not self.regimes:
            raise ValueError("at least one regime name is needed")
        return self

    def resolved_overrides(self, file: str | None = None) -> dict:
        """The overrides as dated entries (``policies.parameters.DatedValue``), checked against the registry."""
        from policies.regime import parse_overrides

        raw = {key: value if isinstance(value, (list, dict)) and _looks_dated(value)
               else {"value": value, "assumption": "run override (config `overrides:`)"}
               for key, value in self.overrides.items()}
        return parse_overrides(raw, file=file or "config", path="overrides")

    def config_hash(self) -> str:
        """A short hash of the resolved configuration (the seed included)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _looks_dated(value: Any) -> bool:
    """Whether an override value is already written as dated entries (with value and ref/assumption)."""
    items = value if isinstance(value, list) else [value]
    return all(isinstance(i, dict) and "value" in i for i in items) and bool(items)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(path: str | Path | None = None, **cli: Any) -> RunConfig:
    """Build a config from an optional YAML file plus command-line values (which win over the file)."""
    raw: dict[str, Any] = {}
    doc: Any = None
    file = str(path) if path else None
    if path is not None:
        doc = load_yaml(path)
        if doc is None:
            doc = {}
        if not isinstance(doc, dict):
            raise InputError("a config file is a mapping of settings", file=file, line=1)
        raw = dict(doc)
    if "behaviour" in raw:
        if not isinstance(raw["behaviour"], dict):
            raise InputError("behaviour must be a mapping", file=file, line=line_of(doc, "behaviour"),
                             field="behaviour")
        raw["behaviour"] = _merge(default_behaviour().model_dump(), raw["behaviour"])
    raw.update({k: v for k, v in cli.items() if v is not None})
    try:
        config = RunConfig(**raw)
    except ValidationError as exc:
        raise validation_error(exc, file=file, doc=doc) from None
    try:
        overrides = config.resolved_overrides(file)
    except InputError as exc:
        raise InputError(exc.message, file=file, line=line_of(doc, exc.field or "") if doc is not None else None,
                         field=exc.field) from None
    if overrides:
        _check_overrides(config, overrides, file, doc)
    return config


def _check_overrides(config: RunConfig, overrides: dict, file: str | None, doc: Any) -> None:
    """The regimes with the run's overrides meet the mechanism contract (a null take-up, a route the rules cannot
    read): an ``InputError`` naming the config file and the override, before any run folder is made."""
    from policies.catalogue import resolve
    from policies.regime import with_overrides

    try:
        regimes = resolve(config.regimes)
    except InputError:
        return  # an unknown regime name is reported where the command resolves the regimes
    try:
        with_overrides(regimes, overrides, file=file)
    except InputError as exc:
        field = f"overrides.{exc.field}" if exc.field else "overrides"
        raise InputError(exc.message, file=file, line=line_of(doc, field) if doc is not None else None,
                         field=field) from None
