"""Dask execution: the same ``execute_run`` on a Dask cluster — a ``LocalCluster``, a running scheduler's address,
or SLURM through dask-jobqueue (the ``distributed`` extra).

The coordinator still owns the ledger; Dask only moves tasks. Dask itself reschedules a task whose worker died, up
to ``distributed.scheduler.allowed-failures`` times, then raises ``KilledWorker``: that run is recorded failed.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Any

from experiments.runner import Dispatcher, RunModel, execute_run, simulate

__all__ = ["run_dask", "dask_client"]

log = logging.getLogger(__name__)


@contextmanager
def dask_client(scheduler: str, *, workers: int | None = None, max_deaths: int = 3) -> Any:
    """A Dask client for ``local`` (a LocalCluster of ``workers`` processes), ``slurm`` (a dask-jobqueue
    SLURMCluster configured by ``~/.config/dask/jobqueue.yaml``, scaled to ``workers`` jobs) or an address."""
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": max(0, max_deaths - 1)}):
        if scheduler == "local":
            cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                                   dashboard_address=None, scheduler_port=0)
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


def run_dask(dispatcher: Dispatcher, runs_dir: str, *, client: Any, model: RunModel = simulate) -> None:
    """Submit every task the dispatcher hands out to ``client`` and report results as they complete."""
    from distributed import as_completed

    futures: dict[Any, Any] = {}

    def submit_waiting() -> list[Any]:
        new = []
        while (task := dispatcher.next_task()) is not None:
            future = client.submit(execute_run, task, runs_dir, model, pure=False,
                                   key=f"run-{task.run_id}-{len(futures)}")
            futures[future] = task
            dispatcher.started(task, "dask")
            new.append(future)
        return new

    pending = as_completed(submit_waiting())
    for future in pending:
        task = futures.pop(future)
        try:
            result = future.result()
        except Exception as exc:  # KilledWorker or a lost scheduler connection: the worker side failed
            dispatcher.died(task, f"{type(exc).__name__}: {exc}", retry=False)
        else:
            dispatcher.finished(result)
        for new in submit_waiting():
            pending.add(new)
