"""From a design to runs: each scenario × replicate becomes a frozen ``RunConfig`` with its identity-derived seed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from experiments.sampling import Design, Scenario
from experiments.seeds import run_id, run_seed
from experiments.spec import ExperimentSpec, set_behaviour_path
from sim.config import RunConfig
from sim.params import Behaviour, default_behaviour

__all__ = ["RunTask", "plan_runs", "scenario_config"]


@dataclass(frozen=True)
class RunTask:
    """One run to execute: its id (folder name), identity and fully resolved config. Picklable."""

    run_id: str
    scenario: int
    replicate: int
    config: RunConfig


def scenario_config(spec: ExperimentSpec, scenario: Scenario, seed: int) -> RunConfig:
    """The resolved config of a scenario: constants, then lever and uncertainty values, then the seed."""
    values: dict[str, Any] = scenario.values
    regimes = values.get("regimes", spec.levers.regimes[0])
    behaviour = default_behaviour().model_dump()
    for path, value in spec.constants.behaviour.items():
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


def plan_runs(spec: ExperimentSpec, design: Design) -> list[RunTask]:
    """Every run of a sweep, ordered by scenario (design order) then replicate."""
    tasks = []
    for scenario in design.scenarios:
        for replicate in range(spec.replications):
            seed = run_seed(spec.root_seed, scenario.key, replicate)
            tasks.append(RunTask(run_id(scenario.key, replicate), scenario.key, replicate,
                                 scenario_config(spec, scenario, seed)))
    return tasks
