"""Executing one run inside a worker: the model call, atomic publication of its folder, and its outcome record.

Whatever the executor (local process, Dask worker), a run goes through ``execute_run``: the model writes into a
hidden staging folder, which is renamed into ``runs/<run_id>`` only when complete, so a run folder that exists is
a finished run and a crash leaves nothing visible. An exception inside the model is caught here and returned with
its traceback: a run that raises is a failed run, not a dead worker, and is not retried.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from experiments.integrity import Digest, digest_folder, identity_files
from experiments.plan import RunTask
from sim.config import RunConfig

__all__ = ["RunModel", "RunResult", "simulate", "execute_run", "STAGING", "is_published", "is_write_fault"]

# A run model takes a frozen config and a folder to create, and writes the run's files there (picklable:
# a module-level function). The production model is ``simulate``; tests register faulty ones.
RunModel = Callable[[RunConfig, Path], None]
STAGING = ".staging"


@dataclass(frozen=True)
class RunResult:
    """What a worker reports for one run."""

    run_id: str
    ok: bool
    seconds: float
    error: str | None = None
    worker: str = ""
    write_fault: bool = False  # the folder could not be written (full disk, read-only): not the run's fault
    files: dict[str, Digest] | None = None  # content hashes of the published files (experiments/integrity.py)


# Errors of the filesystem, not of the run: the same run succeeds once space is freed or the folder is writable.
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EACCES, errno.EPERM}
_WRITE_MESSAGES = ("no space left on device", "disk quota exceeded", "read-only file system",
                   "database or disk is full", "attempt to write a readonly database", "disk i/o error",
                   "permission denied")


def is_write_fault(exc: BaseException) -> bool:
    """Whether an error (or one it was raised from) is the filesystem refusing a write."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in _WRITE_ERRNOS:
            return True
        if any(m in str(seen).lower() for m in _WRITE_MESSAGES):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def memory_message() -> str:
    """The last line of a run that ran out of memory: the worker's limit and how to raise it."""
    limit = None
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        limit = None if soft == resource.RLIM_INFINITY else soft
    except (ImportError, ValueError, OSError):
        pass
    where = f"the worker's memory limit of {limit / 2**30:.1f} GiB" if limit else "the memory available"
    return (f"MemoryError: the run needed more than {where}; it failed alone and is not retried. Give workers "
            "more (hukou sweep/resume --worker-memory 16GB, or fewer --workers) and `hukou resume DIR "
            "--retry-failed`\n")


def simulate(config: RunConfig, out: Path) -> None:
    """The production model: ``sim.run.run_simulation`` writing the standard run folder (docs/contracts.md §5)."""
    from sim.run import run_simulation

    run_simulation(config, out)


def is_published(runs_dir: Path, run_id: str) -> bool:
    """Whether a run's folder exists (it is renamed into place only when complete)."""
    return (Path(runs_dir) / run_id / "identity.json").is_file()


def execute_run(task: RunTask, runs_dir: str, model: RunModel = simulate) -> RunResult:
    """Run one task and publish ``runs_dir/<run_id>`` atomically; never raises for a model error."""
    worker = f"{socket.gethostname()}:{os.getpid()}"
    runs = Path(runs_dir)
    if is_published(runs, task.run_id):  # published before a coordinator crash: not run twice
        return RunResult(task.run_id, True, 0.0, worker=worker, files=identity_files(runs / task.run_id))
    staging = runs / STAGING / f"{task.run_id}.{os.getpid()}"
    started = time.perf_counter()
    try:
        if staging.exists():
            shutil.rmtree(staging)
        staging.parent.mkdir(parents=True, exist_ok=True)
        model(task.config, staging)
        files = digest_folder(staging)
        identity = {"run_id": task.run_id, "scenario": task.scenario, "replicate": task.replicate,
                    "seed": task.config.seed, "config_hash": task.config.config_hash(), "worker": worker,
                    "files": {name: list(digest) for name, digest in files.items()}}
        (staging / "identity.json").write_text(json.dumps(identity, indent=2), "utf-8")
        _publish(staging, runs / task.run_id)
    except Exception as exc:  # a model error is the run's failure, recorded with its traceback
        shutil.rmtree(staging, ignore_errors=True)
        error = traceback.format_exc()
        if isinstance(exc, MemoryError):
            error += memory_message()
        return RunResult(task.run_id, False, time.perf_counter() - started, error, worker,
                         write_fault=is_write_fault(exc))
    return RunResult(task.run_id, True, time.perf_counter() - started, worker=worker, files=files)


# Files of a run folder that record when and where it ran, not what it computed.
_CIRCUMSTANCES = ("identity.json", "manifest.json")


def _publish(staging: Path, target: Path) -> None:
    """Rename the finished folder into place. If another coordinator's worker published the same run meanwhile
    (two coordinators after a pause), the same results are success, not "Directory not empty"; different results
    for the same config and seed would be a reproducibility bug and are an error."""
    try:
        os.replace(staging, target)
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not (target / "identity.json").is_file():
            raise
        if not _same_results(staging, target):
            raise RuntimeError(f"{target.name} was published meanwhile with different results") from None
        shutil.rmtree(staging, ignore_errors=True)


def _same_results(a: Path, b: Path) -> bool:
    names = sorted(p.name for p in a.iterdir() if p.name not in _CIRCUMSTANCES)
    if names != sorted(p.name for p in b.iterdir() if p.name not in _CIRCUMSTANCES):
        return False
    return all((a / n).read_bytes() == (b / n).read_bytes() for n in names)


class Dispatcher(Protocol):
    """What an executor asks of the coordinator: the next run, and where to report starts, results and deaths.

    Executors (``execute_local``, ``execute_dask``) only move tasks and results; the coordinator (``sweep``)
    owns the ledger and decides retries, so every executor has the same failure semantics.
    """

    def next_task(self) -> RunTask | None:
        """The next run to execute, or None when none is waiting."""
        ...

    def started(self, task: RunTask, worker: str) -> None:
        """A run was handed to a worker."""
        ...

    def finished(self, result: RunResult) -> None:
        """A worker reported a run's result (done, or failed with its traceback)."""
        ...

    def died(self, task: RunTask, error: str) -> None:
        """The worker of a run died; the coordinator re-plans (then ``next_task`` returns it) or fails it."""
        ...
