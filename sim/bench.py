"""``hukou bench``: time the full model (every phase) and measure its peak memory per agent.

Two passes of the same run (same seed, so the same agents): the first is timed; the second is traced. Peak memory
is what ``tracemalloc`` sees numpy allocate during the second (columns, their spare capacity, the event log and
every temporary array of the phases), divided by the largest number of agents alive at once. Why two passes:
tracing takes a lock on every allocation, Python's included, which slowed the timed run by a quarter and would
serialise the threads.
"""

from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass

from sim.config import RunConfig
from sim.geography import load_geography
from sim.model import HukouModel

__all__ = ["BenchResult", "run_bench"]


@dataclass(frozen=True)
class BenchResult:
    """What one benchmark run measured."""

    agents: int
    peak_agents: int
    years: int
    steps: int
    step_months: int
    seconds: float
    migrant_years: float
    peak_bytes: int

    @property
    def migrant_years_per_s(self) -> float:
        """Agent-years simulated per second of wall time."""
        return self.migrant_years / self.seconds

    @property
    def peak_bytes_per_agent(self) -> float:
        """Peak traced memory divided by the peak number of agents."""
        return self.peak_bytes / max(self.peak_agents, 1)


def run_bench(agents: int = 1_000_000, years: int = 5, seed: int = 0, regimes: tuple[str, ...] = ("historical",),
              history: bool = False, threads: int = 1) -> BenchResult:
    """Run the model with about ``agents`` migrants on the census day for ``years`` years, once timed and once
    traced.

    ``history`` (the per-migrant event log for ``model.migrant(i)``) is off by default: it is an inspection
    record, not migrant state, kept in memory for the current year only (``sim.population.EventLog``).
    ``threads``: see ``sim.parallel``; the two passes run the same way.
    """
    scale = float(load_geography().migrants_2010.sum()) / agents
    config = RunConfig(scale=scale, end=2010 + years, seed=seed, regimes=regimes, history=history)

    model = HukouModel(config, threads=threads)
    begin = time.perf_counter()
    migrant_years, peak_agents = _run(model)
    seconds = time.perf_counter() - begin

    tracemalloc.start()
    traced = HukouModel(config, threads=threads)
    tracemalloc.reset_peak()
    _run(traced)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return BenchResult(agents=agents, peak_agents=peak_agents, years=years, steps=model.clock.n_steps,
                       step_months=config.step_months, seconds=seconds, migrant_years=migrant_years,
                       peak_bytes=peak)


def _run(model: HukouModel) -> tuple[float, int]:
    """Step ``model`` to the end; returns the agent-years simulated and the most agents alive at once."""
    migrant_years, peak_agents = 0.0, len(model.population)
    while not model.steps_done:
        model.step()
        migrant_years += int((model.population["district"] >= 0).sum()) * model.step_months / 12
        peak_agents = max(peak_agents, len(model.population))
    return migrant_years, peak_agents
