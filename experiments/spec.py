"""Experiment specs: the YAML an analyst writes to declare a sweep, validated strictly before any run starts.

The vocabulary is EMA Workbench's: *levers* are what a policymaker chooses (regimes, dated policy-parameter
overrides), *uncertainties* are what nobody controls (the behavioural parameters of ``sim/data/behaviour.yaml``),
*constants* fix values for every run, *outcomes* are the metrics to summarise, and *replications* repeat each
scenario with independent seeds. A spec is refused as a whole if any part is wrong, with the file, line and dotted
path of the first mistake, because a typo found after a thousand runs costs a thousand runs.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from policies.errors import InputError
from policies.yamlio import line_of, load_yaml, validation_error
from sim.config import FIRST_YEAR, LAST_YEAR, MAX_SCALE
from sim.metrics import CITY_METRICS

__all__ = ["ExperimentSpec", "ParameterDraws", "INSTALLED", "installed_posterior", "Range", "Categorical", "Levers",
           "Constants", "Sampler", "load_spec", "spec_from_dict", "behaviour_path_value"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Range(_Strict):
    """A continuous (or integer) range, sampled by the sampler; ``levels`` points of it in a full factorial."""

    low: float
    high: float
    integer: StrictBool = False
    levels: int | None = Field(None, ge=2, description="grid points in a full factorial (default: sampler.levels)")

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError("low and high must be finite numbers")
        if self.high <= self.low:
            raise ValueError(f"high ({self.high:g}) must be above low ({self.low:g})")
        return self

    def grid(self, default_levels: int) -> list[float | int]:
        """Evenly spaced points from low to high (rounded and deduplicated for an integer range)."""
        n = self.levels or default_levels
        points = [self.low + (self.high - self.low) * i / (n - 1) for i in range(n)]
        return self.cast_all(points)

    def cast(self, x: float) -> float | int:
        """A sampled number as this range's type (integers rounded half to even)."""
        return int(round(x)) if self.integer else float(x)

    def cast_all(self, xs: list[float]) -> list[float | int]:
        """``cast`` applied to many numbers, without duplicates, in order."""
        out: list[float | int] = []
        for x in xs:
            v = self.cast(x)
            if v not in out:
                out.append(v)
        return out

    def bounds(self) -> list[float | int]:
        """The two ends, typed (what the validator checks against each parameter's own constraints)."""
        return [self.cast(self.low), self.cast(self.high)]


class Categorical(_Strict):
    """A list of values, or a mapping of labels to values (for structured values such as a district table)."""

    values: list[Any] | dict[str, Any]

    @field_validator("values")
    @classmethod
    def _not_empty(cls, v: list[Any] | dict[str, Any]) -> list[Any] | dict[str, Any]:
        if not v:
            raise ValueError("needs at least one value")
        return v

    def items(self) -> list[tuple[str, Any]]:
        """(label, value) pairs; a list's labels are the values themselves as text."""
        if isinstance(self.values, dict):
            return [(str(k), v) for k, v in self.values.items()]
        return [(_label(v), v) for v in self.values]


def _label(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "+".join(_label(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _lever_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "categorical" if "values" in value else "range"
    return "categorical" if isinstance(value, Categorical) else "range"


# A lever is a range (low/high) or a list of values; the discriminator keeps errors about the branch meant.
Lever = Annotated[Annotated[Range, Tag("range")] | Annotated[Categorical, Tag("categorical")],
                  Discriminator(_lever_kind)]



def _historical() -> list[str | list[str]]:
    """The default regime list: the three cities' own timelines."""
    return ["historical"]


class Levers(_Strict):
    """Policy choices: a list of regime sets and dated parameter overrides (``mechanism.variant.parameter``)."""

    regimes: list[str | list[str]] = Field(default_factory=_historical)
    overrides: dict[str, Lever] = Field(default_factory=dict)

    @field_validator("regimes")
    @classmethod
    def _regimes_named(cls, v: list[str | list[str]]) -> list[str | list[str]]:
        if not v:
            raise ValueError("the regime list is empty: name at least one regime (see `hukou regimes`)")
        for item in v:
            if isinstance(item, list) and not item:
                raise ValueError("a regime set needs at least one name")
        return v


class Constants(_Strict):
    """Values fixed for every run: behavioural parameters, policy overrides and run settings."""

    behaviour: dict[str, Any] = Field(default_factory=dict)
    overrides: dict[str, Any] = Field(default_factory=dict)
    step_months: Literal[1, 3] = 3
    history: StrictBool = Field(False, description="keep each migrant's history (only model.migrant(i) needs it)")


class Sampler(_Strict):
    """How scenarios are drawn: a full factorial grid, a Latin hypercube, or SALib's Sobol and Morris designs."""

    method: Literal["full_factorial", "latin_hypercube", "sobol", "morris"] = "full_factorial"
    n: int | None = Field(None, ge=1, description="LHS: scenarios; Sobol: base sample N; Morris: trajectories")
    levels: int = Field(3, ge=2, description="grid points of a range in a full factorial; Morris grid levels")
    second_order: StrictBool = Field(False, description="Sobol: also second-order indices (N·(2D+2) scenarios)")

    @model_validator(mode="after")
    def _n_given(self) -> Sampler:
        if self.method != "full_factorial" and self.n is None:
            raise ValueError(f"sampler {self.method} needs n")
        if self.method == "sobol" and self.n is not None and self.n & (self.n - 1):
            raise ValueError(f"Sobol needs n a power of two (got {self.n}); try {1 << self.n.bit_length()}")
        return self


# The reserved ``parameter_draws.file`` value that names the posterior shipped with the package
# (sim/data/posterior.json, package data): a spec names it without a path that depends on where the spec file or the
# package lies, and its canonical form (and so its hash) stays ``installed`` on every machine.
INSTALLED = "installed"


def installed_posterior() -> Path:
    """The shipped posterior file, sim/data/posterior.json, wherever the package is installed."""
    from importlib import resources

    return Path(str(resources.files("sim.data").joinpath("posterior.json")))


class ParameterDraws(_Strict):
    """The uncertainty sampler ``posterior``: parameter sets drawn from a posterior file (experiments/posterior.py).

    Every scenario of the design runs the same ``draws`` parameter sets, each with ``replications`` seeds, and the
    seeds depend only on (draw, seed replicate), never on the scenario: reform and baseline share draws and seeds,
    so their difference is paired run by run. Relative file paths are read from the spec's folder. With
    ``resample: false`` every sample of the file runs once, in file order, whatever its weight: that is how a batch
    of ABC-SMC particles (an explicit list of parameter sets) becomes one sweep. ``file: installed`` names the
    posterior shipped with the package (``installed_posterior``); it stays ``installed`` in the canonical spec.
    """

    sampler: Literal["posterior"] = "posterior"
    file: str = Field(min_length=1, description="posterior file (posterior.json), relative to the spec's folder; "
                      "`installed`: the posterior shipped with the package (sim/data/posterior.json)")
    draws: int = Field(ge=1, le=10000, description="parameter sets drawn (weighted resampling, with replacement)")
    seed: int | None = Field(None, ge=0, description="seed of the resampling (default: root_seed)")
    resample: StrictBool = Field(True, description="false: run every sample of the file once, in file order "
                                 "(draws = the number of samples; ABC-SMC's batches of particles)")

    @property
    def path(self) -> Path:
        """The posterior file to read: the shipped one for ``installed``, else ``file`` (absolute once validated
        by ``spec_from_dict``)."""
        return installed_posterior() if self.file == INSTALLED else Path(self.file)


class ExperimentSpec(_Strict):
    """One experiment: what varies, what is fixed, what is measured, how it is sampled and repeated."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    levers: Levers = Field(default_factory=Levers)
    uncertainties: dict[str, Range] = Field(default_factory=dict)
    constants: Constants = Field(default_factory=Constants)
    outcomes: list[str] = Field(default_factory=lambda: ["hukou_share", "suburban_dispersion_migrants",
                                                         "talent_share_settlers", "settlements_total"])
    sensitivity_year: int | None = Field(None, description="year whose outcomes sensitivity indices explain "
                                                           "(default: end)")
    sampler: Sampler = Field(default_factory=Sampler)
    parameter_draws: ParameterDraws | None = Field(None, description="draw behavioural parameter sets from a "
                                                    "posterior; each draw runs `replications` seeds")
    replications: int = Field(1, ge=1, le=1000)
    scale: float = Field(100.0, ge=1, le=MAX_SCALE, description="persons per agent")
    start: int = FIRST_YEAR
    end: int = 2035
    root_seed: int = Field(0, ge=0)
    paired_seeds: StrictBool = Field(False, description="every scenario runs the seeds of the design's first "
                                     "scenario (the baseline), so differences are paired seed by seed")

    @field_validator("outcomes")
    @classmethod
    def _known_outcomes(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("name at least one outcome")
        for i, name in enumerate(v):
            if name not in CITY_METRICS:  # the metric columns of city_year.parquet (sim/metrics.py)
                raise ValueError(f"unknown outcome {name!r} at [{i}] (known: {', '.join(CITY_METRICS)})")
        return v

    @model_validator(mode="after")
    def _years(self) -> ExperimentSpec:
        if not FIRST_YEAR <= self.start <= LAST_YEAR:
            raise ValueError(f"start {self.start} is outside {FIRST_YEAR}–{LAST_YEAR}")
        if not self.start <= self.end <= LAST_YEAR:
            raise ValueError(f"end {self.end} must be between start {self.start} and {LAST_YEAR}")
        if self.sensitivity_year is not None and not self.start <= self.sensitivity_year <= self.end:
            raise ValueError(f"sensitivity_year {self.sensitivity_year} is outside {self.start}–{self.end}")
        return self

    def factors(self) -> dict[str, Range | Categorical]:
        """Every varied quantity by its dotted name: ``regimes``, ``overrides.<key>``, ``behaviour.<path>``."""
        out: dict[str, Range | Categorical] = {}
        if len(self.levers.regimes) > 1:
            out["regimes"] = Categorical(values=list(self.levers.regimes))
        for key, lever in self.levers.overrides.items():
            out[f"overrides.{key}"] = lever
        for key, rng in self.uncertainties.items():
            out[f"behaviour.{key}"] = rng
        return out

    def canonical(self) -> dict[str, Any]:
        """The spec as plain JSON-able data with every default filled in (what the sweep manifest stores).
        ``paired_seeds`` appears only when set, so the manifests and hashes of existing sweeps do not change."""
        doc = self.model_dump(mode="json")
        if not doc["paired_seeds"]:
            del doc["paired_seeds"]
        return doc

    def spec_hash(self) -> str:
        """A short hash of the canonical spec."""
        text = json.dumps(self.canonical(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def behaviour_path_value(behaviour: dict[str, Any], path: str) -> Any:
    """The value at a dotted path inside the behaviour dict (``outside_utility.central``, ``zone_rent_2010.0``)."""
    node: Any = behaviour
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(path)
    return node


def set_behaviour_path(behaviour: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``behaviour`` with the value at a dotted path replaced (nested dicts and lists copied)."""
    parts = path.split(".")

    def put(node: Any, i: int) -> Any:
        if i == len(parts):
            return value
        key: Any = int(parts[i]) if isinstance(node, list) else parts[i]
        copy = list(node) if isinstance(node, list) else dict(node)
        copy[key] = put(node[key], i + 1)
        return copy

    return put(behaviour, 0)


def _check_behaviour(spec: ExperimentSpec, doc: Any, file: str | None) -> None:
    """Every uncertainty and constant names a behavioural parameter, and its bounds satisfy that parameter."""
    from sim.params import Behaviour, default_behaviour

    base = default_behaviour().model_dump()
    checks: list[tuple[str, str, Any]] = []  # (path in spec, behaviour path, value)
    for key, value in spec.constants.behaviour.items():
        checks.append((f"constants.behaviour.{key}", key, value))
    for key, rng in spec.uncertainties.items():
        for end, value in zip(("low", "high"), rng.bounds(), strict=True):
            checks.append((f"uncertainties.{key}.{end}", key, value))
    for where, path, value in checks:
        try:
            current = behaviour_path_value(base, path)
        except KeyError:
            raise _error(f"unknown behavioural parameter {path!r} (see sim/data/behaviour.yaml)", file, doc,
                         where.rsplit(".", 1)[0] if where.startswith("uncertainties") else where) from None
        if where.startswith("uncertainties") and (isinstance(current, bool)
                                                  or not isinstance(current, (int, float))):
            raise _error(f"{path} is not a number and cannot be ranged; fix it under constants", file, doc,
                         where.rsplit(".", 1)[0])
        try:
            Behaviour(**set_behaviour_path(base, path, value))
        except ValidationError as exc:
            err = exc.errors()[0]
            raise _error(f"{err['msg'].removeprefix('Value error, ')} (behavioural parameter {path})", file,
                         doc, where) from None


def _check_override(key: str, value: Any, where: str, file: str | None, doc: Any) -> None:
    """An override value fits its parameter (policies.regime.parse_overrides: type, finite, sign)."""
    from sim.config import RunConfig

    try:
        RunConfig(overrides={key: value}).resolved_overrides(file or "spec")
    except InputError as exc:
        raise _error(exc.message, file, doc, where) from None


def _check_policies(spec: ExperimentSpec, doc: Any, file: str | None) -> None:
    """Regime names resolve; override keys name a real parameter and their values fit it."""
    from policies.catalogue import resolve

    for i, item in enumerate(spec.levers.regimes):
        names = [item] if isinstance(item, str) else item
        try:
            resolve(names)
        except InputError as exc:
            raise _error(exc.message, file, doc, f"levers.regimes.{i}") from None
    for key, lever in spec.levers.overrides.items():
        base = f"levers.overrides.{key}"
        if isinstance(lever, Range):
            for end, value in zip(("low", "high"), lever.bounds(), strict=True):
                _check_override(key, value, f"{base}.{end}", file, doc)
        else:
            for j, (label, value) in enumerate(lever.items()):
                where = f"{base}.values.{label if isinstance(lever.values, dict) else j}"
                _check_override(key, value, where, file, doc)
    for key, value in spec.constants.overrides.items():
        _check_override(key, value, f"constants.overrides.{key}", file, doc)


def _error(message: str, file: str | None, doc: Any, field: str) -> InputError:
    line = line_of(doc, field) if doc is not None else None
    return InputError(message, file=file, line=line, field=field)


# Model tags pydantic puts in error locations of the lever unions (``Range | Categorical``, names or lists).
_UNION_BRANCHES = ("range", "categorical", "str", "list[str]")


def spec_from_dict(doc: Any, file: str | None = None) -> ExperimentSpec:
    """Validate a spec document (as read by ``policies.yamlio.load_yaml``) into an ``ExperimentSpec``."""
    if not isinstance(doc, dict):
        raise InputError("an experiment spec is a mapping (name, levers, uncertainties, ...)", file=file, line=1)
    try:
        spec = ExperimentSpec(**doc)
    except ValidationError as exc:
        raise validation_error(exc, file=file, doc=doc, branches=_UNION_BRANCHES) from None
    _check_behaviour(spec, doc, file)
    _check_policies(spec, doc, file)
    if spec.parameter_draws is not None:
        spec = _check_draws(spec, doc, file)
    return spec


def _check_draws(spec: ExperimentSpec, doc: Any, file: str | None) -> ExperimentSpec:
    """The posterior file resolves (relative to the spec's folder) and validates, and none of its parameters is
    also an uncertainty or a behavioural constant (which would silently win over the draw). The spec returned
    names the file by its absolute path, so the copy a sweep folder keeps reads the same file; ``installed`` is kept
    as it is (the shipped posterior, ``installed_posterior``)."""
    from experiments.posterior import load_posterior

    draws = spec.parameter_draws
    assert draws is not None
    path = installed_posterior() if draws.file == INSTALLED else Path(draws.file).expanduser()
    if not path.is_absolute():
        path = (Path(file).parent if file else Path.cwd()) / path
    path = path.resolve()
    if not path.is_file():
        raise _error(f"no such posterior file {str(path)!r}", file, doc, "parameter_draws.file")
    posterior = load_posterior(path)
    if not draws.resample and draws.draws != len(posterior.samples):
        raise _error(f"with resample: false, draws must be the file's {len(posterior.samples)} samples "
                     f"(got {draws.draws})", file, doc, "parameter_draws.draws")
    for name in posterior.parameters:
        if name in spec.uncertainties:
            raise _error(f"{name} is drawn from the posterior; remove it from uncertainties", file, doc,
                         f"uncertainties.{name}")
        if name in spec.constants.behaviour:
            raise _error(f"{name} is drawn from the posterior; remove it from constants.behaviour", file, doc,
                         f"constants.behaviour.{name}")
    if draws.file == INSTALLED:
        return spec
    return spec.model_copy(update={"parameter_draws": draws.model_copy(update={"file": str(path)})})


def load_spec(path: str | Path) -> ExperimentSpec:
    """Read and validate a spec file; bad input raises ``InputError`` naming file, line and dotted path."""
    path = Path(path)
    if not path.is_file():
        raise InputError("no such spec file", file=path)
    return spec_from_dict(load_yaml(path), str(path))
