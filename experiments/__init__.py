"""Experiments: specs, designs, identity-derived seeds, local and Dask execution, the ledger and the results store.

An analyst writes a spec (levers, uncertainties, constants, outcomes, sampler, replications), runs it with
``hukou sweep`` or ``run_sweep``, and queries every run with DuckDB through ``connect`` or ``hukou query``.
See docs/experiments.md. The liveness check of the policy mechanisms (``experiments.liveness``, ``hukou liveness``,
docs/policies.md) is imported on its own: it runs the model in-process, not through a sweep.
"""

from __future__ import annotations

from experiments.plan import RunTask, plan_runs
from experiments.runner import RunResult, execute_run, simulate
from experiments.sampling import Design, Scenario, build_design
from experiments.seeds import run_id, run_seed, scenario_key
from experiments.spec import ExperimentSpec, load_spec, spec_from_dict
from experiments.store import canonical_hash, connect, extract_run, query, write_summaries
from experiments.sweep import SweepSummary, compact_sweep, resume_sweep, run_sweep, sweep_status

__all__ = [
    "ExperimentSpec", "load_spec", "spec_from_dict", "Design", "Scenario", "build_design", "RunTask",
    "plan_runs", "RunResult", "execute_run", "simulate", "run_id", "run_seed", "scenario_key", "SweepSummary",
    "run_sweep", "resume_sweep", "sweep_status", "connect", "query", "write_summaries", "canonical_hash",
    "compact_sweep", "extract_run",
]
