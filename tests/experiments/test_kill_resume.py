"""Kill the coordinator with SIGKILL at a random point of a 200-run sweep, then resume: nothing lost or repeated."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from conftest import write_spec

from experiments import canonical_hash, query, run_sweep

CLI = [sys.executable, "-c", "from hukou_cli.main import entry; entry()"]


def _done(folder: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{folder / 'ledger.sqlite'}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute("SELECT COUNT(*) FROM runs WHERE state='done'").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def _session_members(sid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getsid(int(entry)) == sid:
                    members.append(int(entry))
            except (ProcessLookupError, PermissionError):
                continue
    return members


def test_sigkill_then_resume_finishes_exactly_once(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "two_hundred.yaml", levers={"regimes": ["historical", "talent_only"]},
                      replications=100, end=2010, root_seed=200)
    out = tmp_path / "killed"
    kill_after = random.Random().randint(5, 150)
    coordinator = subprocess.Popen([*CLI, "sweep", str(spec), "--out", str(out), "--workers", "2", "--quiet"],
                                   start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while _done(out) < kill_after and coordinator.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert coordinator.poll() is None, "the sweep finished before it could be killed"
        os.kill(coordinator.pid, signal.SIGKILL)
        coordinator.wait()
        deadline = time.monotonic() + 10  # workers notice their parent is gone within a second
        while _session_members(coordinator.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _session_members(coordinator.pid) == [], "orphaned workers"
    finally:
        for pid in _session_members(coordinator.pid):
            os.kill(pid, signal.SIGKILL)
    assert 0 < _done(out) < 200, f"killed after {kill_after} runs"

    resumed = subprocess.run([*CLI, "resume", str(out), "--workers", "2", "--quiet"], capture_output=True,
                             text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    runs = query(out, "SELECT state, count(*) AS n FROM runs GROUP BY state")
    assert runs.set_index("state")["n"].to_dict() == {"done": 200}
    per_run = query(out, "SELECT run_id, count(*) AS rows FROM city_year GROUP BY run_id")
    assert len(per_run) == 200 and per_run["rows"].nunique() == 1  # every run once, none duplicated
    visible = [p.name for p in out.iterdir() if not p.name.startswith(".")]
    assert sorted(visible) == sorted(["spec.yaml", "manifest.json", "ledger.sqlite", "runs", "data",
                                      "scenarios.parquet",
                                      "runs.parquet", "summary_city_year.parquet",
                                      "summary_district_year.parquet", "summary_difference_city_year.parquet",
                                      "summary_difference_district_year.parquet"])
    assert not list((out / "runs").iterdir())  # every run gathered into the dataset, nothing half-written
    assert not [p for p in (out / "data").glob("*/*") if p.name.startswith(".")]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]

    uninterrupted = run_sweep(spec, tmp_path / "whole", workers=2)
    assert uninterrupted.ok
    assert canonical_hash(out) == canonical_hash(tmp_path / "whole")
    for table in ("city_year", "district_year"):  # the same files, byte for byte
        assert [p.read_bytes() for p in sorted((out / "data" / table).iterdir())] == \
            [p.read_bytes() for p in sorted((tmp_path / "whole" / "data" / table).iterdir())]
