"""Local workers have a memory cap (issue 12, item 9): a run that asks for more than its worker may use fails alone
with a MemoryError that names the limit, and the other runs finish; Dask LocalCluster workers get the same limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.execute_local import MEMORY_FLOOR, default_memory_limit, parse_memory, resolve_memory_limit
from experiments.sweep import run_sweep, sweep_status

LIMIT = 3 * 2**30  # a tiny run of the model reserves about 1.7 GB of address space


def test_a_run_over_the_worker_memory_limit_fails_alone(tiny_spec: Path, tmp_path: Path) -> None:
    from experiments_memory_models import hog_if_talent_only

    summary = run_sweep(tiny_spec, tmp_path / "sweep", workers=2, model=hog_if_talent_only, worker_memory=LIMIT)
    assert summary.counts["done"] == 2 and summary.counts["failed"] == 2  # historical done, talent_only failed
    status = sweep_status(tmp_path / "sweep")
    for _run_id, attempts, deaths, error in status["failed"]:
        assert (attempts, deaths) == (1, 0)  # a MemoryError, not a dead worker: not retried
        assert "MemoryError" in error and "memory limit of 3.0 GiB" in error and "--worker-memory" in error


def test_memory_sizes_parse_and_default_to_a_share_of_the_machine() -> None:
    assert parse_memory("6GiB") == 6 * 2**30 and parse_memory("512MB") == 512 * 10**6
    assert parse_memory("6e9") == 6 * 10**9 and parse_memory("auto") == "auto" and parse_memory("none") is None
    for bad in ("lots", "12XB", "1KB", "-3GB"):
        with pytest.raises(ValueError):
            parse_memory(bad)
    assert default_memory_limit(10**6) == MEMORY_FLOOR
    assert resolve_memory_limit("auto", 2) == default_memory_limit(2) >= MEMORY_FLOOR
    assert resolve_memory_limit(None, 2) is None and resolve_memory_limit("8GB", 2) == 8 * 10**9


def test_the_cli_refuses_a_bad_size_in_one_line(tiny_spec: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from hukou_cli.main import main

    assert main(["sweep", str(tiny_spec), "--out", str(tmp_path / "s"), "--worker-memory", "lots", "--quiet"]) == 2
    assert "--worker-memory" in capsys.readouterr().err and not (tmp_path / "s").exists()


def test_dask_local_cluster_workers_get_the_memory_limit() -> None:
    from experiments.execute_dask import dask_client

    with dask_client("local", workers=1, memory_limit=LIMIT) as client:
        workers = client.scheduler_info()["workers"].values()
        assert [w["memory_limit"] for w in workers] == [LIMIT]
