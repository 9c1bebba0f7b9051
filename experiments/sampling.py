"""Designs: the scenarios an experiment runs, drawn by full factorial, Latin hypercube, Sobol or Morris (SALib).

A design keeps both views the analysis needs: the unique scenarios (what is run, each with a stable key) and the
sample rows in the sampler's order (what SALib's analysers expect, several rows may be one scenario, as Morris
trajectories revisit points). Categorical factors enter SALib as a uniform index over their values.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from experiments.seeds import scenario_key
from experiments.spec import Categorical, ExperimentSpec, Range

__all__ = ["Scenario", "Design", "build_design", "salib_problem"]


@dataclass(frozen=True)
class Scenario:
    """One point of the design: each factor's value and a short label for tables."""

    key: int
    values: dict[str, Any] = field(hash=False)
    labels: dict[str, str] = field(hash=False)


@dataclass(frozen=True)
class Design:
    """The unique scenarios, the scenario key of each sample row, and the raw sample matrix for SALib."""

    scenarios: tuple[Scenario, ...]
    rows: tuple[int, ...]
    sample: np.ndarray | None = None
    problem: dict[str, Any] | None = None


def salib_problem(factors: dict[str, Range | Categorical]) -> dict[str, Any]:
    """The SALib problem: a range's bounds, or ``[0, k]`` for a categorical factor of k values."""
    bounds = [[f.low, f.high] if isinstance(f, Range) else [0.0, float(len(f.items()))] for f in factors.values()]
    return {"num_vars": len(factors), "names": list(factors), "bounds": bounds}


def _decode(factor: Range | Categorical, x: float) -> tuple[str, Any]:
    if isinstance(factor, Range):
        value = factor.cast(min(max(x, factor.low), factor.high))
        return (f"{value:g}" if isinstance(value, float) else str(value)), value
    items = factor.items()
    return items[min(int(np.floor(x)), len(items) - 1)]


def _scenario(choice: dict[str, tuple[str, Any]]) -> Scenario:
    values = {name: value for name, (_, value) in choice.items()}
    return Scenario(scenario_key(values), values, {name: label for name, (label, _) in choice.items()})


def _full_factorial(spec: ExperimentSpec) -> list[dict[str, tuple[str, Any]]]:
    factors = spec.factors()
    axes = []
    for f in factors.values():
        if isinstance(f, Range):
            axes.append([(f"{v:g}" if isinstance(v, float) else str(v), v) for v in f.grid(spec.sampler.levels)])
        else:
            axes.append(f.items())
    return [dict(zip(factors, combo, strict=True)) for combo in itertools.product(*axes)]


def _salib_sample(spec: ExperimentSpec, problem: dict[str, Any]) -> np.ndarray:
    sampler, seed = spec.sampler, spec.root_seed
    if sampler.method == "latin_hypercube":
        from SALib.sample import latin

        return latin.sample(problem, sampler.n, seed=seed)
    if sampler.method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem, sampler.n, calc_second_order=sampler.second_order, seed=seed)
    from SALib.sample import morris

    return morris.sample(problem, sampler.n, num_levels=sampler.levels, seed=seed)


def build_design(spec: ExperimentSpec) -> Design:
    """The design of a spec. Deterministic: the same spec (root seed included) gives the same design."""
    factors = spec.factors()
    if spec.sampler.method == "full_factorial" or not factors:
        rows = [_scenario(c) for c in _full_factorial(spec)] if factors else [_scenario({})]
        sample, problem = None, None
    else:
        problem = salib_problem(factors)
        sample = _salib_sample(spec, problem)
        rows = [_scenario({name: _decode(f, x) for (name, f), x in zip(factors.items(), row, strict=True)})
                for row in sample]
    unique: dict[int, Scenario] = {}
    for s in rows:
        seen = unique.setdefault(s.key, s)
        if seen.values != s.values:  # pragma: no cover - a 60-bit hash collision
            raise RuntimeError(f"scenario key collision between {seen.values} and {s.values}")
    return Design(tuple(unique.values()), tuple(s.key for s in rows), sample, problem)
