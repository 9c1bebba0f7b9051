"""The coordinator of a sweep: creates or resumes its folder, owns the ledger, dispatches runs, and summarises.

A sweep folder::

    SWEEP/
      spec.yaml            the spec as written          manifest.json   spec, hashes, seeds, code, machine
      ledger.sqlite        run states                   coordinator.lock  while a coordinator runs
      scenarios.parquet    one row per scenario          runs.parquet    the ledger at the end of the sweep
      data/<table>/<part>.parquet   the dataset: every done run's rows, one dataset per table (city_year,
                           district_year, run_files), a few files each (experiments/dataset.py)
      runs/<run_id>/       runs published since the last batch, each in its own folder until gathered
      summary_city_year.parquet, summary_district_year.parquet   mean and 95% CI across replications
      summary_difference_city_year.parquet, summary_difference_district_year.parquet   each scenario minus the
                           first (the baseline): paired run by run on common (draw, seed) with parameter draws
      draws.parquet, posterior.json   with parameter draws: the draw and seed of each replicate, the posterior

Re-running or resuming the same spec with the same code finishes what is missing and never repeats a run; a
changed spec or code version is refused with the differing keys, because mixing runs of two models in one table
would silently corrupt every comparison.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import logging
import os
import platform
import shutil
import socket
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.dataset import BATCH_RUNS, RUNS_PER_FILE, DatasetWriter, is_part, tidy
from experiments.execute_local import MemoryLimit
from experiments.integrity import DATA, SUMMARY, check_sweep, identity_files, recorded_files
from experiments.ledger import Ledger, SweepLock, SweepLocked
from experiments.plan import DrawPlan, RunTask, draw_plan, plan_runs
from experiments.runner import STAGING, Dispatcher, RunModel, RunResult, is_write_fault, simulate
from experiments.sampling import Design, build_design
from experiments.spec import ExperimentSpec, load_spec, spec_from_dict
from policies.errors import InputError
from policies.extras import require_extra
from policies.yamlio import dump_yaml, load_yaml_text

__all__ = ["SweepSummary", "SweepWriteError", "run_sweep", "resume_sweep", "load_sweep_spec", "sweep_status",
           "verify_sweep", "compact_sweep", "MANIFEST", "diff_keys", "folder_name"]

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
_PACKAGES = ("hukou-sim", "mesa", "numpy", "pandas", "pyarrow", "pydantic", "duckdb", "SALib", "dask",
             "distributed")
Progress = Callable[[dict[str, int], float], None]


@dataclass
class SweepSummary:
    """How a coordinator's session ended."""

    folder: Path
    counts: dict[str, int]
    seconds: float
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every run is done."""
        return self.counts.get("done", 0) == sum(self.counts.values())


def _packages() -> dict[str, str]:
    out = {}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def _configs_hash(tasks: list[RunTask]) -> str:
    import hashlib

    digest = hashlib.sha256()
    for task in sorted(tasks, key=lambda t: t.run_id):
        digest.update(f"{task.run_id}={task.config.config_hash()};".encode())
    return digest.hexdigest()[:16]


def _draws_manifest(spec: ExperimentSpec, draws: DrawPlan | None) -> dict[str, Any] | None:
    """What the manifest says of the parameter draws: the posterior file and its hash, its method, and what the
    bands of this sweep include."""
    if spec.parameter_draws is None or draws is None:
        return None
    from experiments.integrity import digest_file
    from experiments.posterior import load_posterior

    path = spec.parameter_draws.path
    posterior = load_posterior(path)
    return {"file": str(path), "sha256": digest_file(path)[0], "method": posterior.provenance.get("method"),
            "draws": len(draws.samples), "distinct": len(set(draws.samples)), "point": draws.point,
            "band": band_label(spec, draws)}


def folder_name(spec: ExperimentSpec) -> str:
    """``<name>-<spec hash>-<code hash>``, plus ``-<posterior hash>`` with parameter draws: what ``make run`` names
    the default comparison's folder, so a finished sweep is reused only while spec, code and posterior are the same
    (the shipped posterior, ``file: installed``, can change without the spec or the code hash changing)."""
    from experiments.integrity import digest_file
    from sim.run import code_version

    name = f"{spec.name}-{spec.spec_hash()[:8]}-{code_version().rsplit('.', 1)[-1]}"
    if spec.parameter_draws is not None:
        name += f"-{digest_file(spec.parameter_draws.path)[0][:8]}"
    return name


def band_label(spec: ExperimentSpec, draws: DrawPlan | None) -> str:
    """What a sweep's bands include: "parameters and seeds" when its runs carry more than one parameter set drawn
    from a posterior, else "seed noise only" (a one-point posterior included: it has no parameter uncertainty)."""
    if draws is not None and len(set(draws.samples)) > 1:
        return "parameters and seeds"
    return "seed noise only"


def _draws_frame(draws: DrawPlan) -> pd.DataFrame:
    """One row per replicate number: its draw, seed replicate, posterior sample, weight and parameter values."""
    rows = []
    for d, (sample, values, weight) in enumerate(zip(draws.samples, draws.values, draws.weights, strict=True)):
        for r in range(draws.replications):
            rows.append({"replicate": d * draws.replications + r, "draw": d, "seed_replicate": r,
                         "sample": sample, "weight": weight, **{k: float(v) for k, v in values.items()}})
    return pd.DataFrame(rows)


def _manifest(spec: ExperimentSpec, tasks: list[RunTask], design: Design,
              draws: DrawPlan | None = None) -> dict[str, Any]:
    from sim.run import code_version

    return {"parameter_draws": _draws_manifest(spec, draws), "band": band_label(spec, draws),
        "name": spec.name, "spec": spec.canonical(), "spec_hash": spec.spec_hash(),
        "configs_hash": _configs_hash(tasks), "root_seed": spec.root_seed, "code_version": code_version(),
        "scenarios": len(design.scenarios), "runs": len(tasks), "sampler": spec.sampler.method,
        "packages": _packages(), "python": platform.python_version(), "machine": platform.platform(),
        "host": socket.gethostname(), "cpus": os.cpu_count(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def diff_keys(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted paths where two JSON-like documents differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in old or key not in new:
                out.append(path)
            else:
                out.extend(diff_keys(old[key], new[key], path))
        return out
    return [] if old == new else [prefix or "(root)"]


def _scenarios_frame(design: Design) -> pd.DataFrame:
    rows = []
    for s in design.scenarios:
        row: dict[str, Any] = {"scenario": s.key, "label": ", ".join(f"{k.split('.')[-1]}={v}"
                                                                      for k, v in s.labels.items()) or "base"}
        for name, label in s.labels.items():
            row[name] = label
        rows.append(row)
    return pd.DataFrame(rows)


class SweepWriteError(InputError):
    """The sweep folder cannot be written (a full disk, a read-only folder): the sweep stops, nothing done is lost,
    and ``hukou resume`` finishes it once the folder is writable. One line and exit code 2 at the command line."""

    def __init__(self, folder: Path, cause: str) -> None:
        super().__init__(f"cannot write the sweep folder ({cause}); make it writable or free space, then "
                         f"`hukou resume {folder}` runs what is missing, none twice", file=folder)


def _last_line(text: str) -> str:
    return (text.strip().splitlines() or ["?"])[-1]


class _Coordinator(Dispatcher):
    """Hands out planned runs and records every state change in the ledger (and to the progress callback)."""

    def __init__(self, ledger: Ledger, tasks: dict[str, RunTask], max_deaths: int, progress: Progress | None,
                 fence: Callable[[], None] = lambda: None, dataset: DatasetWriter | None = None) -> None:
        self.ledger = ledger
        self.dataset = dataset  # gathers done runs into the dataset as batches fill
        self.fence = fence  # raises when this coordinator no longer holds the sweep lock
        self.tasks = tasks
        self.max_deaths = max_deaths
        self.progress = progress
        self.queue: collections.deque[str] = collections.deque(ledger.ids("planned"))
        self.write_fault: str | None = None  # set when a run could not be written: no more runs are handed out
        self.t0 = time.perf_counter()
        self._report()

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self.ledger.counts(), time.perf_counter() - self.t0)

    def next_task(self) -> RunTask | None:
        return self.tasks[self.queue.popleft()] if self.queue and self.write_fault is None else None

    def started(self, task: RunTask, worker: str) -> None:
        self.fence()
        self.ledger.running(task.run_id, worker)
        self._report()

    def finished(self, result: RunResult) -> None:
        self.fence()
        if result.ok:
            self.ledger.done(result.run_id, result.seconds, result.worker, result.files)
            if self.dataset is not None:
                task = self.tasks[result.run_id]
                self.dataset.added(task.run_id, task.scenario, task.replicate)
        elif result.write_fault:
            self.write_fault = self.write_fault or _last_line(result.error or "")
            self.ledger.replan(result.run_id, result.error or "write error")
        else:
            log.warning("run %s failed: %s", result.run_id, (result.error or "").strip().splitlines()[-1:])
            self.ledger.failed(result.run_id, result.error or "unknown error", result.worker)
        self._report()

    def died(self, task: RunTask, error: str) -> None:
        self.fence()
        if self.ledger.worker_died(task.run_id, error, self.max_deaths):
            self.queue.append(task.run_id)
        self._report()


def load_sweep_spec(folder: Path) -> ExperimentSpec:
    """The spec a sweep folder was created with."""
    path = Path(folder) / "spec.yaml"
    if not (Path(folder) / MANIFEST).is_file() or not path.is_file():
        raise InputError("not a sweep folder (no manifest.json and spec.yaml)", file=folder)
    return spec_from_dict(load_yaml_text(path.read_text("utf-8"), str(path)), str(path))


def _check_same(folder: Path, manifest: dict[str, Any]) -> None:
    old = json.loads((folder / MANIFEST).read_text("utf-8"))
    differing = diff_keys(old.get("spec"), manifest["spec"])
    differing = [f"spec.{k}" for k in differing]
    if old.get("code_version") != manifest["code_version"]:
        differing.append("code_version")
    if not differing and old.get("configs_hash") != manifest["configs_hash"]:
        differing.append("configs_hash")
    if differing:
        raise InputError(f"this sweep was made with a different spec or code (differs: {', '.join(differing)}); "
                         "start a new sweep in another folder (hukou resume DIR --new-sweep NEW_DIR)",
                         file=folder)


def _clean_leftovers(folder: Path) -> None:
    """Remove what a killed coordinator or worker left half-written (all hidden names)."""
    shutil.rmtree(folder / "runs" / STAGING, ignore_errors=True)
    for pattern in (".*.partial-*", ".coordinator.lock.*", ".damaged-*", ".gathered-*"):
        for path in list((folder / "runs").glob(pattern)) + list(folder.glob(pattern)):
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


def _refuse_if_being_created(out: Path) -> None:
    """A folder without a manifest but with a live coordinator's lock is a sweep another coordinator is creating
    right now: that is the lock's refusal (exit 4), not a wrong folder (exit 2)."""
    lock = SweepLock(out / "coordinator.lock")
    info = SweepLock.read(lock.path)
    if info is not None and lock.stale_reason(info) is None:
        raise SweepLocked(f"another coordinator (pid {info.get('pid')} on {info.get('host')}) is creating this "
                          "sweep")


def run_sweep(spec: ExperimentSpec | str | Path, out: Path, *, workers: int | None = None,
              scheduler: str | None = None, client: Any = None, model: RunModel = simulate, max_deaths: int = 3,
              progress: Progress | None = None, summarise: bool = True, retry_failed: bool = False,
              worker_memory: MemoryLimit = "auto", batch_runs: int = BATCH_RUNS,
              runs_per_file: int | None = None) -> SweepSummary:
    """Run (or finish) the sweep of ``spec`` in folder ``out``; returns the counts of the ledger at the end.

    Args:
        spec: a validated spec, or the path of its YAML file (copied into the sweep folder as written).
        out: the sweep folder; created if absent, resumed if it holds the same spec and code.
        workers: local worker processes (default: the CPUs), or Dask workers/jobs with ``scheduler``.
        scheduler: ``local`` (Dask LocalCluster), ``slurm`` (dask-jobqueue) or a scheduler address.
        client: an existing Dask client to use instead (takes precedence over ``scheduler``).
        model: the run model (a picklable module-level function); the default writes the standard run folder.
        max_deaths: attempts of a run whose worker dies before it is recorded failed.
        progress: called with the state counts and elapsed seconds after every change.
        summarise: build the summary tables across replications at the end.
        retry_failed: plan the runs recorded failed again (``hukou resume --retry-failed``).
        worker_memory: the memory cap of each local or LocalCluster worker (``execute_local.MemoryLimit``).
        batch_runs: published runs gathered into one part of the dataset while the sweep runs.
        runs_per_file: runs per file of the dataset's canonical layout, written at the end of the session
            (default: the sweep's own, recorded in its manifest, else ``dataset.RUNS_PER_FILE``).
    """
    text = None
    if not isinstance(spec, ExperimentSpec):
        text = Path(spec).read_text("utf-8") if Path(spec).is_file() else None
        spec = load_spec(spec)
    out = Path(out)
    if scheduler and client is None:
        require_extra("distributed", what=f"--scheduler {scheduler}")
        if scheduler == "slurm":
            require_extra("slurm", what="--scheduler slurm")
    design = build_design(spec)
    draws = draw_plan(spec)
    tasks = plan_runs(spec, design, draws)
    manifest = _manifest(spec, tasks, design, draws)
    if spec.parameter_draws is not None:
        text = None  # the folder keeps the canonical spec: it names the posterior by its absolute path
    if (out / MANIFEST).is_file():
        _check_same(out, manifest)
    elif out.exists() and any(out.iterdir()):
        _refuse_if_being_created(out)
        raise InputError("exists and is not a sweep folder; choose another --out", file=out)
    try:
        return _coordinate(out, spec, text, design, tasks, manifest, draws=draws, workers=workers, scheduler=scheduler,
                           client=client, model=model, max_deaths=max_deaths, progress=progress,
                           summarise=summarise, retry_failed=retry_failed, worker_memory=worker_memory,
                           batch_runs=batch_runs, runs_per_file=runs_per_file)
    except (OSError, sqlite3.Error) as exc:
        if is_write_fault(exc):
            raise SweepWriteError(out, _last_line(str(exc))) from None
        raise


def _coordinate(out: Path, spec: ExperimentSpec, text: str | None, design: Design, tasks: list[RunTask],
                manifest: dict[str, Any], *, draws: DrawPlan | None = None, workers: int | None,
                scheduler: str | None, client: Any, model: RunModel, max_deaths: int, progress: Progress | None,
                summarise: bool, retry_failed: bool, worker_memory: MemoryLimit = "auto",
                batch_runs: int = BATCH_RUNS, runs_per_file: int | None = None) -> SweepSummary:
    """Create or reopen the sweep folder under its lock, run what is planned, summarise (``run_sweep``)."""
    out.mkdir(parents=True, exist_ok=True)
    lock = SweepLock(out / "coordinator.lock")
    lock.acquire()
    try:
        if not (out / MANIFEST).is_file():
            (out / "runs").mkdir(exist_ok=True)
            (out / "spec.yaml").write_text(text or dump_yaml(spec.canonical()), "utf-8")
            _scenarios_frame(design).to_parquet(out / "scenarios.parquet", index=False)
            if draws is not None and spec.parameter_draws is not None:
                _draws_frame(draws).to_parquet(out / "draws.parquet", index=False)
                shutil.copyfile(spec.parameter_draws.path, out / "posterior.json")  # the sweep's own record
            tmp = out / f".{MANIFEST}.tmp"
            tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), "utf-8")
            ledger = Ledger(out / "ledger.sqlite")
            ledger.add((t.run_id, t.scenario, t.replicate, t.config.seed) for t in tasks)
            os.replace(tmp, out / MANIFEST)  # the manifest last: a folder with one is a complete sweep folder
        else:
            ledger = Ledger(out / "ledger.sqlite")
            ledger.add((t.run_id, t.scenario, t.replicate, t.config.seed) for t in tasks)
        runs_per_file = _layout_choice(out, runs_per_file)
        _clean_leftovers(out)
        tidy(out, ledger)  # a crash mid-batch: unrecorded part files go, gathered runs' folders too
        published = {p.name for p in (out / "runs").iterdir() if (p / "identity.json").is_file()}
        done_after_crash, again = ledger.recover(published)
        if done_after_crash or again:
            log.info("recovered %d published and %d interrupted runs", done_after_crash, again)
        if retry_failed:
            log.info("planned %d failed runs again", ledger.retry_failed())
        try:
            _redo_damaged(out, ledger)
            dataset = DatasetWriter(out, ledger, fence=lock.ensure_held, batch_runs=batch_runs,
                                    runs_per_file=runs_per_file)
            coordinator = _Coordinator(ledger, {t.run_id: t for t in tasks}, max_deaths, progress,
                                       fence=lock.ensure_held, dataset=dataset)
            t0 = time.perf_counter()
            _execute(coordinator, out, workers=workers, scheduler=scheduler, client=client, model=model,
                     max_deaths=max_deaths, worker_memory=worker_memory)
            if coordinator.write_fault:
                raise SweepWriteError(out, coordinator.write_fault)
            dataset.finalise()  # the canonical layout: the same files whatever the workers or interruptions
            seconds = time.perf_counter() - t0
            summary = SweepSummary(out, ledger.counts(), seconds,
                                   [(r.run_id, r.error or "") for r in ledger.rows() if r.state == "failed"])
            if summarise:
                from experiments.store import write_summaries

                # the runs were checked before running (_redo_damaged) and the new ones hashed as written
                ledger.record_files(SUMMARY, write_summaries(out, checked=True))
        finally:
            ledger.close()
            if lock.held():  # a coordinator that lost the lock must not remove the new owner's staging
                shutil.rmtree(out / "runs" / STAGING, ignore_errors=True)
    finally:
        lock.release()
    return summary


def _redo_damaged(out: Path, ledger: Ledger) -> None:
    """Before running: done runs whose files are missing or changed since they were written (a flipped bit, a
    truncated copy, a deleted file) are moved out of sight and planned again, so the sweep ends with the runs of
    an undamaged one. Runs published before a coordinator crash get their recorded hashes from identity.json.
    A damaged summary needs nothing here: the summaries are rebuilt from the runs at the end."""
    recorded = recorded_files(out / "ledger.sqlite")
    for run_id, part in ledger.run_parts().items():
        files = None if run_id in recorded or part is not None else identity_files(out / "runs" / run_id)
        if files:
            ledger.record_files(run_id, files)
    found = check_sweep(out, ledger.ids("done"))
    parts = {d.owner: d.problem for d in found if is_part(d.owner)}
    for run_id in ledger.redo_parts(parts):
        log.warning("run %s is in a damaged part of the dataset: running it again", run_id)
    for name in parts:  # forgotten by the ledger first, so a crash here leaves only unrecorded files
        for path in (out / DATA).glob(f"*/{name}.parquet"):
            path.unlink(missing_ok=True)
    damaged = {d.owner: d.problem for d in found if d.owner != SUMMARY and not is_part(d.owner)}
    for run_id, problem in sorted(damaged.items()):
        log.warning("run %s is damaged (%s): running it again", run_id, problem)
        folder = out / "runs" / run_id
        if folder.exists():
            aside = out / "runs" / f".damaged-{run_id}"
            shutil.rmtree(aside, ignore_errors=True)
            os.replace(folder, aside)  # out of sight at once, then removed
            shutil.rmtree(aside, ignore_errors=True)
    ledger.redo(damaged, damaged)


def _execute(coordinator: _Coordinator, out: Path, *, workers: int | None, scheduler: str | None, client: Any,
             model: RunModel, max_deaths: int, worker_memory: MemoryLimit = "auto") -> None:
    runs_dir = str(out / "runs")
    if not coordinator.queue:
        return
    if client is not None:
        from experiments.execute_dask import run_dask

        run_dask(coordinator, runs_dir, client=client, model=model, workers=workers)
    elif scheduler:
        from experiments.execute_dask import dask_client, run_dask

        with dask_client(scheduler, workers=workers, memory_limit=worker_memory) as dask:
            run_dask(coordinator, runs_dir, client=dask, model=model, workers=workers)
    else:
        from experiments.execute_local import run_local

        run_local(coordinator, runs_dir, workers=max(1, workers or os.cpu_count() or 1), model=model,
                  memory_limit=worker_memory)


def resume_sweep(folder: Path, **kwargs: Any) -> SweepSummary:
    """Finish an interrupted sweep from its own spec (same code required); keyword arguments as ``run_sweep``."""
    return run_sweep(load_sweep_spec(folder), Path(folder), **kwargs)


def sweep_status(folder: Path) -> dict[str, Any]:
    """The state of a sweep without touching it: counts, failed runs, the lock's owner."""
    folder = Path(folder)
    if not (folder / MANIFEST).is_file():
        raise InputError("not a sweep folder (no manifest.json)", file=folder)
    manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
    ledger = Ledger(folder / "ledger.sqlite", readonly=True)
    try:
        rows = ledger.rows()
        counts = ledger.counts()
    finally:
        ledger.close()
    lock = SweepLock.read(folder / "coordinator.lock")
    stale = SweepLock(folder / "coordinator.lock").stale_reason(lock) if lock else None
    return {"name": manifest["name"], "folder": str(folder), "counts": counts, "total": sum(counts.values()),
            "failed": [(r.run_id, r.attempts, r.worker_deaths, r.error or "") for r in rows if r.state == "failed"],
            "seconds_done": sum(r.seconds or 0 for r in rows if r.state == "done"),
            "coordinator": None if lock is None else {**lock, "stale": stale},
            "code_version": manifest["code_version"], "created": manifest["created"]}


def verify_sweep(folder: Path) -> dict[str, Any]:
    """Every finished run's files, and the summaries, against the content hashes recorded when they were written
    (experiments/integrity.py): how many runs were checked, how many had hashes to check against, and what is
    damaged. Reads only; ``hukou resume`` repairs."""
    folder = Path(folder)
    if not (folder / MANIFEST).is_file():
        raise InputError("not a sweep folder (no manifest.json)", file=folder)
    ledger = Ledger(folder / "ledger.sqlite", readonly=True)
    try:
        done = ledger.ids("done")
    finally:
        ledger.close()
    recorded = recorded_files(folder / "ledger.sqlite")
    ledger = Ledger(folder / "ledger.sqlite", readonly=True)
    try:
        where = ledger.run_parts()
    finally:
        ledger.close()
    hashed = sum(1 for r in done if r in recorded or where.get(r) in recorded
                 or identity_files(folder / "runs" / r))
    damaged = check_sweep(folder, done)
    return {"folder": str(folder), "runs_checked": len(done), "runs_with_hashes": hashed,
            "summaries_hashed": SUMMARY in recorded, "damaged": [{"owner": d.owner, "problem": d.problem}
                                                                 for d in damaged]}


def _layout_choice(folder: Path, requested: int | None) -> int:
    """The dataset's runs per file: the one requested (then recorded in the manifest, so that a resume keeps the
    layout), else the one the manifest records, else the default."""
    path = folder / MANIFEST
    manifest = json.loads(path.read_text("utf-8"))
    recorded = (manifest.get("dataset") or {}).get("runs_per_file")
    if requested is None:
        return int(recorded or RUNS_PER_FILE)
    if recorded != requested:
        manifest["dataset"] = {"runs_per_file": requested}
        tmp = folder / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), "utf-8")
        os.replace(tmp, path)
    return requested


def compact_sweep(folder: Path, *, runs_per_file: int | None = None) -> dict[str, int]:
    """Gather a sweep's loose run folders into its dataset in the canonical layout, under the sweep lock: how a
    sweep made before the dataset existed (one folder per run) is migrated, and how the layout is rewritten with
    another ``runs_per_file``. Nothing is run and no result changes; returns the runs and files per table."""
    folder = Path(folder)
    if not (folder / MANIFEST).is_file():
        raise InputError("not a sweep folder (no manifest.json)", file=folder)
    lock = SweepLock(folder / "coordinator.lock")
    lock.acquire()
    try:
        ledger = Ledger(folder / "ledger.sqlite")
        try:
            _clean_leftovers(folder)
            tidy(folder, ledger)
            DatasetWriter(folder, ledger, fence=lock.ensure_held,
                          runs_per_file=_layout_choice(folder, runs_per_file)).finalise()
            parts = ledger.parts()
        finally:
            ledger.close()
    finally:
        lock.release()
    files = sum(len(p.tables) for p in parts)
    return {"runs": sum(len(p.runs) for p in parts), "parts": len(parts), "files": files}
