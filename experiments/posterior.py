"""The posterior as an artifact: a weighted sample of behavioural parameter sets with the provenance of its fit.

A posterior file is one JSON document (``posterior.json``)::

    {"format": "hukou-posterior", "version": 1,
     "parameters": ["beta_wage", "inflow_persons_per_year.central", ...],   # dotted paths, as in calibrated.yaml
     "samples": [{"weight": 0.4, "values": {"beta_wage": 1.18, ...}}, ...],
     "provenance": {"method": ..., "targets": [...], "waves": [...], "runs": 252, "seeds": {...},
                    "code_version": ..., "date": "2026-12-01"}}

One file, not a Parquet table beside a JSON header, because the provenance and the sample must never be separated
and a sample of a few thousand sets of a few dozen parameters is a few hundred kilobytes. Weights need not sum to
one (ABC-SMC importance weights do not); they are normalised on load.

``draw(n, seed)`` picks parameter sets by weighted resampling with replacement (``numpy.random.Generator.choice``
on ``default_rng(seed)``), so the same file and seed give the same draws on every machine. A point estimate (what
``hukou calibrate`` produces today) is a one-point posterior with weight 1 and method "point estimate": drawing
from it repeats the same set, and a band built on it is seed noise only — the provenance says so.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from policies.errors import InputError

__all__ = ["FORMAT", "VERSION", "PROVENANCE_KEYS", "Posterior", "load_posterior", "posterior_from_dict",
           "write_posterior", "posterior_from_calibrated"]

FORMAT = "hukou-posterior"
VERSION = 1
PROVENANCE_KEYS = ("method", "targets", "waves", "runs", "seeds", "code_version", "date")


@dataclass(frozen=True)
class Posterior:
    """A validated posterior: parameter names, one dict of values per sample, normalised weights, provenance."""

    parameters: tuple[str, ...]
    samples: tuple[dict[str, float | int], ...]
    weights: np.ndarray
    provenance: dict[str, Any]

    @property
    def is_point(self) -> bool:
        """One parameter set carries all the weight: draws from it hold no parameter uncertainty."""
        return int(np.count_nonzero(self.weights)) == 1

    def draw(self, n: int, seed: int) -> np.ndarray:
        """The sample indices of ``n`` draws by weighted resampling with replacement; deterministic in ``seed``."""
        if n < 1:
            raise ValueError("draw at least one parameter set")
        rng = np.random.default_rng(seed)
        return rng.choice(len(self.samples), size=n, replace=True, p=self.weights)

    def draw_values(self, n: int, seed: int) -> list[dict[str, float | int]]:
        """The parameter sets of ``n`` draws (copies of the samples ``draw`` picks)."""
        return [dict(self.samples[i]) for i in self.draw(n, seed)]

    def to_dict(self) -> dict[str, Any]:
        """The file's document (weights as normalised)."""
        return {"format": FORMAT, "version": VERSION, "parameters": list(self.parameters),
                "samples": [{"weight": float(w), "values": dict(s)}
                            for w, s in zip(self.weights, self.samples, strict=True)],
                "provenance": self.provenance}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def posterior_from_dict(doc: Any, file: str | Path, *, check_behaviour: bool = True) -> Posterior:
    """Validate a posterior document; the first problem raises ``InputError`` naming the file and dotted field."""
    def bad(message: str, field: str | None = None) -> InputError:
        return InputError(message, file=file, field=field)

    if not isinstance(doc, dict):
        raise bad("a posterior is a JSON object (format, version, parameters, samples, provenance)")
    unknown = sorted(set(doc) - {"format", "version", "parameters", "samples", "provenance"})
    if unknown:
        raise bad("unknown key", unknown[0])
    if doc.get("format") != FORMAT:
        raise bad(f"not a posterior file (format must be {FORMAT!r})", "format")
    if doc.get("version") != VERSION:
        raise bad(f"unsupported version {doc.get('version')!r} (this code reads version {VERSION})", "version")
    names = doc.get("parameters")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise bad("a non-empty list of parameter names (dotted paths, as in sim/data/calibrated.yaml)",
                  "parameters")
    if len(set(names)) != len(names):
        raise bad(f"parameter {next(n for n in names if names.count(n) > 1)!r} is listed twice", "parameters")
    samples = doc.get("samples")
    if not isinstance(samples, list) or not samples:
        raise bad("a non-empty list of samples ({weight, values})", "samples")
    weights, values = [], []
    for i, sample in enumerate(samples):
        where = f"samples.{i}"
        if not isinstance(sample, dict) or set(sample) != {"weight", "values"}:
            raise bad("a sample is an object with exactly weight and values", where)
        weight = sample["weight"]
        if not _number(weight) or weight < 0:
            raise bad(f"weight must be a finite number >= 0 (got {weight!r})", f"{where}.weight")
        row = sample["values"]
        if not isinstance(row, dict):
            raise bad("values is an object of parameter: number", f"{where}.values")
        missing = [n for n in names if n not in row]
        if missing:
            raise bad(f"no value for parameter {missing[0]!r}", f"{where}.values")
        extra = sorted(set(row) - set(names))
        if extra:
            raise bad("not a parameter listed in parameters", f"{where}.values.{extra[0]}")
        for name in names:
            if not _number(row[name]):
                raise bad(f"must be a finite number (got {row[name]!r})", f"{where}.values.{name}")
        weights.append(float(weight))
        values.append({n: row[n] for n in names})
    total = math.fsum(weights)
    if total <= 0:
        raise bad("the weights sum to zero", "samples")
    provenance = doc.get("provenance")
    if not isinstance(provenance, dict):
        raise bad(f"an object with at least {', '.join(PROVENANCE_KEYS)}", "provenance")
    for key in PROVENANCE_KEYS:
        if key not in provenance:
            raise bad("missing (every posterior says how it was made)", f"provenance.{key}")
    if not isinstance(provenance["method"], str) or not provenance["method"].strip():
        raise bad("a description of the method", "provenance.method")
    if not isinstance(provenance["targets"], list):
        raise bad("the list of target names fitted", "provenance.targets")
    if not isinstance(provenance["runs"], int) or isinstance(provenance["runs"], bool) or provenance["runs"] < 0:
        raise bad("the number of model runs behind the posterior (an integer >= 0)", "provenance.runs")
    posterior = Posterior(tuple(names), tuple(values), np.asarray(weights) / total, provenance)
    if check_behaviour:
        _check_behaviour(posterior, file)
    return posterior


def _check_behaviour(posterior: Posterior, file: str | Path) -> None:
    """Every parameter is a numeric behavioural parameter and every sample makes a valid ``Behaviour``."""
    from pydantic import ValidationError

    from experiments.spec import behaviour_path_value, set_behaviour_path
    from sim.params import Behaviour, default_behaviour

    base = default_behaviour().model_dump()
    for name in posterior.parameters:
        try:
            current = behaviour_path_value(base, name)
        except KeyError:
            raise InputError(f"unknown behavioural parameter {name!r} (see sim/data/behaviour.yaml)", file=file,
                             field="parameters") from None
        if isinstance(current, bool) or not isinstance(current, (int, float)):
            raise InputError(f"{name} is not a numeric behavioural parameter", file=file, field="parameters")
    for i, sample in enumerate(posterior.samples):
        behaviour = base
        for name, value in sample.items():
            behaviour = set_behaviour_path(behaviour, name, value)
        try:
            Behaviour(**behaviour)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            raise InputError(f"{err['msg'].removeprefix('Value error, ')} (behavioural parameter {field})",
                             file=file, field=f"samples.{i}.values") from None


def load_posterior(path: str | Path, *, check_behaviour: bool = True) -> Posterior:
    """Read and validate a posterior file; bad input raises ``InputError`` (one line: file and field)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("no such posterior file", file=path)
    try:
        doc = json.loads(path.read_text("utf-8"))
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", file=path) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg})", file=path, line=exc.lineno) from None
    return posterior_from_dict(doc, path, check_behaviour=check_behaviour)


def write_posterior(path: str | Path, samples: list[dict[str, float | int]], weights: list[float],
                    provenance: dict[str, Any]) -> Posterior:
    """Validate and write a posterior atomically (a temporary file renamed over the target); returns it."""
    path = Path(path)
    names = list(samples[0]) if samples else []
    doc = {"format": FORMAT, "version": VERSION, "parameters": names,
           "samples": [{"weight": float(w), "values": dict(s)} for w, s in zip(weights, samples, strict=True)],
           "provenance": provenance}
    posterior = posterior_from_dict(doc, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(posterior.to_dict(), indent=1, ensure_ascii=False) + "\n", "utf-8")
    os.replace(tmp, path)
    return posterior


def posterior_from_calibrated(calibrated: str | Path) -> tuple[list[dict[str, float | int]], list[float],
                                                                   dict[str, Any]]:
    """A one-point posterior (samples, weights, provenance) from a calibrated.yaml written by ``hukou calibrate``.

    The simulated-method-of-moments fit is a point estimate: the posterior it makes has one parameter set with
    weight 1, and its provenance says "point estimate" and that it carries no parameter uncertainty.
    """
    from policies.yamlio import load_yaml

    path = Path(calibrated)
    if not path.is_file():
        raise InputError("no such calibrated parameters file", file=path)
    doc = load_yaml(path) or {}
    params = doc.get("parameters") if isinstance(doc, dict) else None
    if not isinstance(params, dict) or not params:
        raise InputError("no parameters (a calibrated.yaml written by hukou calibrate)", file=path,
                         field="parameters")
    values: dict[str, float | int] = {}
    for name, entry in params.items():
        if not isinstance(entry, dict) or not _number(entry.get("value")):
            raise InputError("a calibrated parameter needs a numeric value", file=path, field=f"parameters.{name}")
        values[str(name)] = entry["value"]
    meta = dict(doc.get("provenance") or {})
    seeds = meta.get("seeds") or {}
    provenance = {
        "method": "point estimate",
        "note": ("one parameter set with weight 1: the calibration is a point estimate ("
                 f"{meta.get('method_short', 'calibration')}), so draws from this posterior carry no parameter "
                 "uncertainty and every band built on them is seed noise only"),
        "estimator": meta.get("method", "unknown"),
        "targets": list(meta.get("targets") or []),
        "waves": [w for w in ("explore", "refine", "confirm") if w in seeds] or [],
        "runs": int(meta.get("runs") or 0),
        "seeds": seeds,
        "scale": meta.get("scale"),
        "years": meta.get("years"),
        "code_version": meta.get("code_version", "unknown"),
        "date": str(meta.get("date") or dt.date.today().isoformat()),
        "source": str(path),
    }
    return [values], [1.0], provenance


def run_spec(config: Any, posterior_file: str | Path, draws: int, name: str = "run-posterior") -> Any:
    """The sweep spec behind ``hukou run --posterior FILE --draws N``: the run's config (regimes, years, scale,
    step, history, overrides, behavioural values that differ from the defaults) as constants, and ``draws``
    parameter sets drawn from the posterior with the run's seed as both resampling seed and root seed.

    Each draw gets its own model seed (``experiments.seeds.common_seed(seed, draw, 0)``): a band over draws then
    is the predictive band of parameters and seeds together, which is what a single run's reader needs; with
    one seed for every draw it would hide seed noise behind one arbitrary stream."""
    from experiments.spec import spec_from_dict
    from sim.params import default_behaviour

    path = Path(posterior_file).expanduser().resolve()
    defaults = default_behaviour().model_dump()
    chosen = config.behaviour.model_dump()
    behaviour = {k: v for k, v in chosen.items() if v != defaults.get(k)}
    doc = {
        "name": name,
        "description": f"hukou run with {draws} parameter draws from {path}",
        "levers": {"regimes": [list(config.regimes)]},
        "parameter_draws": {"file": str(path), "draws": draws, "seed": config.seed},
        "constants": {"behaviour": behaviour, "overrides": dict(config.overrides),
                      "step_months": config.step_months, "history": config.history},
        "replications": 1, "scale": config.scale, "start": config.start, "end": config.end,
        "root_seed": config.seed,
    }
    return spec_from_dict(doc, None)
