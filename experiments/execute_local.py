"""Local execution: worker processes started with an explicit ``spawn`` context, one run at a time each.

Why not ``concurrent.futures.ProcessPoolExecutor``: when one of its workers dies, every pending future fails with
``BrokenProcessPool`` and nobody knows which run killed it. Here each worker has its own pipe and the coordinator
knows which run it holds, so a death costs that run one attempt and a fresh worker takes its place.
Workers watch their parent: if the coordinator is killed, they exit within a second (no orphans).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from experiments.plan import RunTask
from experiments.runner import Dispatcher, RunModel, execute_run, simulate

__all__ = ["run_local"]

log = logging.getLogger(__name__)
_WATCH_PARENT_S = 0.5


def _watch_parent(parent_pid: int) -> None:
    """Exit this worker as soon as its coordinator is gone (re-parented processes see another parent pid)."""
    while True:
        time.sleep(_WATCH_PARENT_S)
        if os.getppid() != parent_pid:
            os._exit(1)


def _worker_main(conn: Connection, parent_pid: int, runs_dir: str, model: RunModel) -> None:
    """A worker's loop: receive a task, run it, send its result; stop on None or when the pipe closes."""
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


def _start(ctx: mp.context.SpawnContext, index: int, runs_dir: str, model: RunModel) -> _Worker:
    parent, child = ctx.Pipe(duplex=True)
    process = ctx.Process(target=_worker_main, args=(child, os.getpid(), runs_dir, model),
                          name=f"hukou-worker-{index}", daemon=True)
    process.start()
    child.close()
    return _Worker(f"local-{index}:{process.pid}", process, parent)


def run_local(dispatcher: Dispatcher, runs_dir: str, *, workers: int, model: RunModel = simulate) -> None:
    """Execute every task the dispatcher hands out on ``workers`` local processes, until none is left."""
    ctx = mp.get_context("spawn")
    pool: list[_Worker] = []
    started = 0
    try:
        while True:
            idle = [w for w in pool if w.task is None]
            while True:  # hand tasks to idle workers, starting workers up to the limit
                if not idle and len(pool) < workers:
                    started += 1
                    pool.append(_start(ctx, started, runs_dir, model))
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
                    _collect(worker, dispatcher, pool)
    finally:
        _shutdown(pool)


def _collect(worker: _Worker, dispatcher: Dispatcher, pool: list[_Worker]) -> None:
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
    dispatcher.died(task, f"worker {worker.name} exited with code {worker.process.exitcode}")
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
