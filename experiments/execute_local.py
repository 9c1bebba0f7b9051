"""Local execution: worker processes started with an explicit ``spawn`` context, one run at a time each.

Why not ``concurrent.futures.ProcessPoolExecutor``: when one of its workers dies, every pending future fails with
``BrokenProcessPool`` and nobody knows which run killed it. Here each worker has its own pipe and the coordinator
knows which run it holds, so a death costs that run one attempt and a fresh worker takes its place.
Workers watch their parent: if the coordinator is killed, they exit within a second (no orphans).
Each worker's address space is capped (``RLIMIT_AS``, ``--worker-memory``; by default the machine's memory divided
among the workers, at least 4 GiB), so a run that asks for too much memory gets a ``MemoryError`` and fails alone
instead of dragging the machine, and the other runs, into swap or the kernel's OOM killer.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import re
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from experiments.plan import RunTask
from experiments.runner import Dispatcher, RunModel, execute_run, simulate

__all__ = ["run_local", "MemoryLimit", "default_memory_limit", "parse_memory", "resolve_memory_limit",
           "format_bytes"]

log = logging.getLogger(__name__)
_WATCH_PARENT_S = 0.5
_GIB = 2**30
# At least this much address space per worker: a tiny run of this model already reserves 1.7 GB of address space
# (thread arenas, DuckDB and Arrow pools) for 0.2 GB resident; a full-scale run peaks at 2.6 GB resident.
MEMORY_FLOOR = 4 * _GIB
# ``"auto"`` (the default share of the machine), a number of bytes, or None (no limit).
MemoryLimit = int | str | None
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9, "t": 10**12,
          "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def format_bytes(n: int) -> str:
    """Bytes as GiB with one decimal (how limits are shown in messages)."""
    return f"{n / _GIB:.1f} GiB"


def default_memory_limit(workers: int) -> int:
    """The machine's physical memory divided among ``workers``, and at least ``MEMORY_FLOOR``."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system that reports it
        return MEMORY_FLOOR
    return max(MEMORY_FLOOR, total // max(1, workers))


def parse_memory(text: str) -> MemoryLimit:
    """``auto``, ``none`` (or ``0``: no limit), or a size such as ``6GB``, ``6GiB``, ``512MB``, ``6e9``."""
    value = text.strip().lower()
    if value == "auto":
        return "auto"
    if value in ("none", "0", "off", "unlimited"):
        return None
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?(?:e[0-9]+)?)\s*([a-z]*)", value)
    if not match or match.group(2) not in _UNITS:
        raise ValueError(f"not a memory size: {text!r} (say 6GB, 6GiB, 512MB, auto or none)")
    size = int(float(match.group(1)) * _UNITS[match.group(2)])
    if size < 256 * 2**20:
        raise ValueError(f"{text!r} is too little memory for a worker (at least 256 MB)")
    return size


def resolve_memory_limit(limit: MemoryLimit, workers: int) -> int | None:
    """The limit in bytes (``"auto"``: ``default_memory_limit``), or None for no limit."""
    if isinstance(limit, str) and limit != "auto":
        limit = parse_memory(limit)
    if isinstance(limit, str):  # "auto"
        return default_memory_limit(workers)
    return limit or None


def _limit_memory(limit: int | None) -> None:
    """Cap this process's address space at ``limit`` bytes (soft ``RLIMIT_AS``; never above the hard limit)."""
    if not limit:
        return
    try:
        import resource

        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    except (ImportError, ValueError, OSError) as exc:  # not Linux/BSD, or refused
        log.warning("could not limit the worker's memory to %s: %s", format_bytes(limit), exc)


def _watch_parent(parent_pid: int) -> None:
    """Exit this worker as soon as its coordinator is gone (re-parented processes see another parent pid)."""
    while True:
        time.sleep(_WATCH_PARENT_S)
        if os.getppid() != parent_pid:
            os._exit(1)


def _worker_main(conn: Connection, parent_pid: int, runs_dir: str, model: RunModel,
                 memory_limit: int | None = None) -> None:
    """A worker's loop: receive a task, run it, send its result; stop on None or when the pipe closes."""
    _limit_memory(memory_limit)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="watch-parent").start()
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        conn.send(execute_run(task, runs_dir, model))


@dataclass
class _Worker:
    name: str
    process: BaseProcess
    conn: Connection
    task: RunTask | None = None


def _start(ctx: mp.context.SpawnContext, index: int, runs_dir: str, model: RunModel,
           memory_limit: int | None) -> _Worker:
    parent, child = ctx.Pipe(duplex=True)
    process = ctx.Process(target=_worker_main, args=(child, os.getpid(), runs_dir, model, memory_limit),
                          name=f"hukou-worker-{index}", daemon=True)
    process.start()
    child.close()
    return _Worker(f"local-{index}:{process.pid}", process, parent)


def run_local(dispatcher: Dispatcher, runs_dir: str, *, workers: int, model: RunModel = simulate,
              memory_limit: MemoryLimit = "auto") -> None:
    """Execute every task the dispatcher hands out on ``workers`` local processes, until none is left; each
    process's address space is capped at ``memory_limit`` (``"auto"``: ``default_memory_limit``; None: no cap)."""
    ctx = mp.get_context("spawn")
    limit = resolve_memory_limit(memory_limit, workers)
    pool: list[_Worker] = []
    started = 0
    try:
        while True:
            idle = [w for w in pool if w.task is None]
            while True:  # hand tasks to idle workers, starting workers up to the limit
                if not idle and len(pool) < workers:
                    started += 1
                    pool.append(_start(ctx, started, runs_dir, model, limit))
                    idle = [pool[-1]]
                if not idle:
                    break
                task = dispatcher.next_task()
                if task is None:
                    break
                worker = idle.pop()
                try:
                    worker.conn.send(task)
                except (BrokenPipeError, OSError):
                    dispatcher.died(task, f"could not reach worker {worker.name}")
                    _retire(worker, pool)
                    continue
                worker.task = task
                dispatcher.started(task, worker.name)
            busy = [w for w in pool if w.task is not None]
            if not busy:
                return
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=1.0)
            for worker in busy:
                if worker.conn in ready or worker.process.sentinel in ready:
                    _collect(worker, dispatcher, pool, limit)
    finally:
        _shutdown(pool)


def _collect(worker: _Worker, dispatcher: Dispatcher, pool: list[_Worker], limit: int | None = None) -> None:
    """Read a worker's result, or record its death and retire it."""
    task = worker.task
    assert task is not None
    try:
        if worker.conn.poll():
            result = worker.conn.recv()
            worker.task = None
            dispatcher.finished(result)
            return
    except (EOFError, OSError):
        pass
    if worker.process.is_alive():
        return
    worker.process.join()
    worker.task = None
    code = worker.process.exitcode
    hint = (f" (killed by a signal: it may have run out of memory; each worker may use {format_bytes(limit)}, "
            "set with --worker-memory)") if limit and code is not None and code < 0 else ""
    dispatcher.died(task, f"worker {worker.name} exited with code {code}{hint}")
    _retire(worker, pool)


def _retire(worker: _Worker, pool: list[_Worker]) -> None:
    pool.remove(worker)
    worker.conn.close()
    if worker.process.is_alive():
        worker.process.kill()
    worker.process.join(timeout=5)


def _shutdown(pool: list[_Worker]) -> None:
    """Ask idle workers to stop, kill busy ones (an interrupted run is re-planned on resume), and join all."""
    for worker in pool:
        try:
            if worker.task is None:
                worker.conn.send(None)
            else:
                worker.process.kill()
        except (BrokenPipeError, OSError):
            worker.process.kill()
    deadline = time.monotonic() + 10
    for worker in pool:
        worker.process.join(timeout=max(0.1, deadline - time.monotonic()))
        if worker.process.is_alive():
            log.warning("worker %s did not stop; killing it", worker.name)
            worker.process.kill()
            worker.process.join(timeout=5)
        worker.conn.close()
