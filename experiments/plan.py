"""From a design to runs: each scenario × replicate becomes a frozen ``RunConfig`` with its identity-derived seed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from experiments.sampling import Design, Scenario
from experiments.seeds import common_seed, run_id, run_seed
from experiments.spec import ExperimentSpec, set_behaviour_path
from sim.config import RunConfig
from sim.params import Behaviour, default_behaviour

__all__ = ["RunTask", "DrawPlan", "draw_plan", "plan_runs", "scenario_config"]


@dataclass(frozen=True)
class RunTask:
    """One run to execute: its id (folder name), identity and fully resolved config. Picklable."""

    run_id: str
    scenario: int
    replicate: int
    config: RunConfig


def scenario_config(spec: ExperimentSpec, scenario: Scenario, seed: int,
                    draw: dict[str, Any] | None = None) -> RunConfig:
    """The resolved config of a scenario: constants, a posterior draw's parameters, then lever and uncertainty
    values, then the seed (the spec refuses a drawn parameter that is also a constant or an uncertainty)."""
    values: dict[str, Any] = scenario.values
    regimes = values.get("regimes", spec.levers.regimes[0])
    behaviour = default_behaviour().model_dump()
    for path, value in {**spec.constants.behaviour, **(draw or {})}.items():
        behaviour = set_behaviour_path(behaviour, path, value)
    overrides = dict(spec.constants.overrides)
    for name, value in values.items():
        if name.startswith("behaviour."):
            behaviour = set_behaviour_path(behaviour, name.removeprefix("behaviour."), value)
        elif name.startswith("overrides."):
            overrides[name.removeprefix("overrides.")] = value
    return RunConfig(start=spec.start, end=spec.end, scale=spec.scale, seed=seed,
                     regimes=(regimes,) if isinstance(regimes, str) else tuple(regimes),
                     step_months=spec.constants.step_months, history=spec.constants.history,
                     behaviour=Behaviour(**behaviour), overrides=overrides)


@dataclass(frozen=True)
class DrawPlan:
    """The parameter draws of a sweep with ``parameter_draws``: replicate ``d * replications + r`` of every
    scenario runs draw ``d`` (posterior sample ``samples[d]``) with seed replicate ``r``."""

    samples: tuple[int, ...]
    values: tuple[dict[str, Any], ...]
    weights: tuple[float, ...]
    replications: int
    point: bool  # the posterior is one parameter set: draws carry no parameter uncertainty

    def of(self, replicate: int) -> tuple[int, int]:
        """(draw, seed replicate) of a run's replicate number."""
        return divmod(replicate, self.replications)


def draw_plan(spec: ExperimentSpec) -> DrawPlan | None:
    """The posterior draws of a spec (None without ``parameter_draws``); deterministic in the file and seed."""
    if spec.parameter_draws is None:
        return None
    from experiments.posterior import load_posterior

    posterior = load_posterior(spec.parameter_draws.path)
    seed = spec.root_seed if spec.parameter_draws.seed is None else spec.parameter_draws.seed
    if spec.parameter_draws.resample:
        picked = posterior.draw(spec.parameter_draws.draws, seed)
    else:  # every sample once, in file order (a batch of ABC-SMC particles, experiments/calibration/abc.py)
        picked = np.arange(len(posterior.samples))
    return DrawPlan(tuple(int(i) for i in picked), tuple(dict(posterior.samples[i]) for i in picked),
                    tuple(float(posterior.weights[i]) for i in picked), spec.replications, posterior.is_point)


def plan_runs(spec: ExperimentSpec, design: Design, draws: DrawPlan | None = None) -> list[RunTask]:
    """Every run of a sweep, ordered by scenario (design order) then replicate.

    With parameter draws, a scenario's replicates are draws × seed replicates and a run's seed is
    ``common_seed(root_seed, draw, r)``: the same in every scenario, so reform and baseline are paired."""
    tasks = []
    draws = draws if draws is not None else draw_plan(spec)
    if draws is not None:
        for scenario in design.scenarios:
            for d, values in enumerate(draws.values):
                for r in range(spec.replications):
                    replicate = d * spec.replications + r
                    seed = common_seed(spec.root_seed, d, r)
                    tasks.append(RunTask(run_id(scenario.key, replicate), scenario.key, replicate,
                                         scenario_config(spec, scenario, seed, values)))
        return tasks
    # paired_seeds: every scenario takes the baseline's (first scenario's) seeds, which are also that scenario's
    # seeds in any other sweep with the same root seed, so its runs can be compared with, or reused from, those
    seeding = design.scenarios[0].key if spec.paired_seeds and design.scenarios else None
    for scenario in design.scenarios:
        for replicate in range(spec.replications):
            seed = run_seed(spec.root_seed, scenario.key if seeding is None else seeding, replicate)
            tasks.append(RunTask(run_id(scenario.key, replicate), scenario.key, replicate,
                                 scenario_config(spec, scenario, seed)))
    return tasks
