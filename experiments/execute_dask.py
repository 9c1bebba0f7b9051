"""Dask execution: the same ``execute_run`` on a Dask cluster — a ``LocalCluster``, a running scheduler's address,
or SLURM through dask-jobqueue (the ``distributed`` extra).

The coordinator still owns the ledger and the retries; Dask only moves tasks. Two choices keep a run that crashes
its worker from taking healthy runs down with it (the review saw 2 of 8 healthy runs recorded failed):

- No more tasks in flight than the cluster has threads, so no run waits in a worker's queue: when a worker dies,
  the run it was running is the only one Dask blames (a bystander queued behind it used to get ``KilledWorker``).
- Dask retries nothing (``allowed-failures`` 0): each death comes back at once as ``KilledWorker`` for that one
  run, and the coordinator counts it against the run (``max_deaths`` attempts, as with local workers) and plans it
  again, so a run that kills every worker it touches fails and the others finish.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Any

from experiments.execute_local import MemoryLimit, resolve_memory_limit
from experiments.runner import Dispatcher, RunModel, execute_run, simulate

__all__ = ["run_dask", "dask_client"]

log = logging.getLogger(__name__)


@contextmanager
def dask_client(scheduler: str, *, workers: int | None = None, memory_limit: MemoryLimit = "auto") -> Any:
    """A Dask client for ``local`` (a LocalCluster of ``workers`` processes, each restarted by its nanny past
    ``memory_limit``, resolved as for local workers), ``slurm`` (a dask-jobqueue SLURMCluster configured by
    ``~/.config/dask/jobqueue.yaml``, whose ``memory:`` is the limit, scaled to ``workers`` jobs) or an address."""
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        if scheduler == "local":
            cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                                   dashboard_address=None, scheduler_port=0,
                                   memory_limit=resolve_memory_limit(memory_limit, workers or 2) or 0)
        elif scheduler == "slurm":
            from dask_jobqueue import SLURMCluster

            cluster = SLURMCluster()
            cluster.scale(jobs=workers or 1)
        else:
            cluster = None
        try:
            client = Client(cluster) if cluster is not None else Client(scheduler)
            try:
                yield client
            finally:
                client.close()
        finally:
            if cluster is not None:
                cluster.close()


def _threads(client: Any, floor: int) -> int:
    """The cluster's worker threads now; ``floor`` only while it has none (a SLURM cluster before its jobs start),
    when tasks wait at the scheduler, not behind another run. Never the floor while a worker restarts after a
    crash: two runs sent to the one live worker would put a bystander behind a run that may kill it."""
    workers = client.scheduler_info().get("workers", {})
    live = sum(int(w.get("nthreads", 1)) for w in workers.values())
    return live if live > 0 else floor


def run_dask(dispatcher: Dispatcher, runs_dir: str, *, client: Any, model: RunModel = simulate,
             workers: int | None = None) -> None:
    """Submit the dispatcher's tasks to ``client``, no more at once than it has threads, and report each result."""
    from distributed import as_completed

    futures: dict[Any, Any] = {}
    submitted = 0

    def submit_waiting() -> list[Any]:
        nonlocal submitted
        new = []
        limit = _threads(client, workers or 1)
        while len(futures) < limit and (task := dispatcher.next_task()) is not None:
            submitted += 1
            future = client.submit(execute_run, task, runs_dir, model, pure=False,
                                   key=f"run-{task.run_id}-{submitted}")
            futures[future] = task
            dispatcher.started(task, "dask")
            new.append(future)
        return new

    pending = as_completed(submit_waiting())
    for future in pending:
        task = futures.pop(future)
        try:
            result = future.result()
        except Exception as exc:  # KilledWorker (this run's worker died) or a lost scheduler connection
            dispatcher.died(task, f"{type(exc).__name__}: {exc}")
        else:
            dispatcher.finished(result)
        for new in submit_waiting():
            pending.add(new)
