"""The calibration spec: which behavioural parameters to estimate, over which prior box, against which targets.

A calibration is a sequence of ordinary sweeps (``experiments.run_sweep``), so its spec is checked the same strict
way as an experiment spec: unknown keys, bad types, empty ranges and parameter bounds that violate the parameter's
own constraints are refused before any run, as ``FILE:LINE: dotted.path: message`` (exit code 2).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
)

from experiments.spec import ExperimentSpec, Range, spec_from_dict
from policies.errors import InputError
from policies.yamlio import line_of, load_yaml, validation_error
from sim.config import FIRST_YEAR, LAST_YEAR

__all__ = ["CalibrationSpec", "Stage", "Abc", "History", "load_calibration_spec", "calibration_spec_from_dict",
           "default_spec_path"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Stage(_Strict):
    """A Latin-hypercube design of ``n`` points; in the refinement stage, inside a box shrunk around the best."""

    n: int = Field(ge=2, le=5000)
    shrink: float = Field(0.3, gt=0, le=1, description="refinement box width as a share of the prior range")


class Abc(_Strict):
    """ABC-SMC settings (``hukou calibrate --method abc``, experiments/calibration/abc.py).

    Each generation accepts ``population`` particles; the temperature of the stochastic acceptor falls over
    ``generations`` and the last generation is sampled at temperature 1, where the accepted particles are a
    sample of the posterior under the Gaussian error model (measurement and model discrepancy) itself.
    """

    population: int = Field(100, ge=4, le=10000, description="accepted particles per generation")
    generations: int = Field(6, ge=1, le=50, description="generations; the last at temperature 1 (exact)")
    replications: int = Field(1, ge=1, le=20, description="seeds per particle (their log moments averaged)")
    max_batch: int = Field(400, ge=4, le=20000, description="most particles proposed in one sweep batch")
    max_runs: int = Field(20000, ge=10, description="stop once the particles evaluated times replications reach "
                          "this (pyabc's budget; a batch's runs past its last acceptance come on top)")


class History(_Strict):
    """History-matching settings (``hukou calibrate --method history``, experiments/calibration/history_matching.py).

    Each wave runs ``runs_per_wave`` parameter sets (``replications`` seeds each) spread over the region not ruled
    out yet, fits one Gaussian-process emulator per fit target and rules out the points whose implausibility
    exceeds ``cutoff`` (docs/validation.md, "History matching").
    """

    waves: int = Field(3, ge=1, le=20, description="waves of design, runs, emulators and cut")
    runs_per_wave: int = Field(40, ge=4, le=5000, description="parameter sets run in each wave")
    replications: int = Field(1, ge=1, le=20, description="seeds per parameter set (their log moments averaged)")
    cutoff: float = Field(3.0, gt=0, le=10, description="implausibility above which a point is ruled out "
                          "(3: Pukelsheim's three-sigma rule)")
    rule: Literal["second", "max"] = Field("second", description="which implausibility is cut: the second-highest "
                                           "over the targets (the maximum with one target), or the maximum")
    candidates: int = Field(20000, ge=100, le=1_000_000, description="candidate points sampled over the prior box "
                            "to estimate the region not ruled out yet and to draw the next wave's design from")
    holdout: float = Field(0.2, ge=0, lt=0.5, description="share of each wave's runs held back to validate its "
                           "emulators (they are refitted on all runs afterwards)")


class CalibrationSpec(_Strict):
    """What ``hukou calibrate`` estimates and how (docs/validation.md)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    parameters: dict[str, Range] = Field(description="behavioural parameters (dotted paths) and prior ranges")
    constants: dict[str, Any] = Field(default_factory=dict, description="behavioural values fixed in every run")
    regimes: list[str] = Field(default_factory=lambda: ["historical"])
    targets_file: str | None = Field(None, description="a targets CSV (default: the package's observed targets)")
    fit_kind: str = Field("calibration", description="target_kind whose targets enter the objective")
    model_discrepancy: float = Field(0.03, ge=0, le=1, description="relative error the model is allowed on every "
                                     "target beyond measurement error (added in quadrature)")
    explore: Stage = Field(default_factory=lambda: Stage(n=48))
    refine: Stage = Field(default_factory=lambda: Stage(n=24, shrink=0.3))
    abc: Abc = Field(default_factory=Abc)
    history: History = Field(default_factory=History)
    replications: int = Field(2, ge=1, le=100)
    confirm_replications: int = Field(4, ge=1, le=100)
    scale: float = Field(1000.0, gt=0)
    end: int = Field(2016, ge=FIRST_YEAR, le=LAST_YEAR)
    root_seed: int = Field(0, ge=0)
    step_months: int = Field(3)

    @field_validator("parameters")
    @classmethod
    def _some(cls, v: dict[str, Range]) -> dict[str, Range]:
        if not v:
            raise ValueError("name at least one parameter to calibrate")
        return v

    @field_validator("step_months")
    @classmethod
    def _step(cls, v: int) -> int:
        if v not in (1, 3):
            raise ValueError("step_months is 1 or 3")
        return v

    @model_serializer(mode="wrap")
    def _without_default_history(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The dump leaves out a default ``history`` block: SMM and ABC folders compare their spec's dump with the
        one they were started with (and name their default folder by its hash), so a spec written before history
        matching existed must dump as it did then, or every such folder would refuse to resume."""
        data: dict[str, Any] = handler(self)
        if self.history == History():
            data.pop("history", None)
        return data

    def sweep_spec(self, name: str, parameters: dict[str, Range] | None, n: int | None,
                   fixed: dict[str, Any] | None = None, replications: int | None = None,
                   root_seed: int | None = None) -> dict[str, Any]:
        """The experiment spec (as a document) of one stage: an LHS over ``parameters`` or one fixed point."""
        doc: dict[str, Any] = {
            "name": f"{self.name}-{name}", "description": f"calibration stage {name} of {self.name}",
            "levers": {"regimes": list(self.regimes)},
            "constants": {"behaviour": {**self.constants, **(fixed or {})}, "step_months": self.step_months},
            "outcomes": ["residents", "hukou_residents", "settlements_total"],
            "replications": replications or self.replications, "scale": self.scale, "start": FIRST_YEAR,
            "end": self.end, "root_seed": self.root_seed if root_seed is None else root_seed,
        }
        if parameters:
            doc["uncertainties"] = {k: r.model_dump(exclude_none=True) for k, r in parameters.items()}
            doc["sampler"] = {"method": "latin_hypercube", "n": n}
        return doc


def default_spec_path() -> Path:
    """The shipped calibration spec (``experiments/calibration/specs/calibrate.yaml``)."""
    return Path(str(resources.files("experiments.calibration").joinpath("specs/calibrate.yaml")))


def calibration_spec_from_dict(doc: Any, file: str | None = None) -> CalibrationSpec:
    """Validate a calibration spec document; the first error names file, line and dotted path."""
    if not isinstance(doc, dict):
        raise InputError("a calibration spec is a mapping (name, parameters, ...)", file=file, line=1)
    try:
        spec = CalibrationSpec(**doc)
    except ValidationError as exc:
        raise validation_error(exc, file=file, doc=doc) from None
    # the parameters, constants and regimes are checked by the experiment-spec validator they will go through
    try:
        probe: ExperimentSpec = spec_from_dict(spec.sweep_spec("check", spec.parameters, 4), None)
    except InputError as exc:
        field = (exc.field or "").replace("uncertainties.", "parameters.", 1)
        field = field.replace("constants.behaviour.", "constants.", 1).replace("levers.regimes", "regimes", 1)
        raise InputError(exc.message, file=file, line=line_of(doc, field) if field else None,
                         field=field or None) from None
    del probe
    return spec


def load_calibration_spec(path: str | Path | None = None) -> CalibrationSpec:
    """Read and validate a calibration spec file (the shipped one by default)."""
    path = Path(path) if path is not None else default_spec_path()
    if not path.is_file():
        raise InputError("no such calibration spec file", file=path)
    return calibration_spec_from_dict(load_yaml(path), str(path))
