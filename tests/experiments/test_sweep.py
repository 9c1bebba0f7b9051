"""Sweeps: identical results whatever the executor; identity seeds; failures recorded; lock; resume checks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import write_spec
from experiments_fault_models import disk_full_while_flagged, fail_while_flagged, raise_or_crash

from experiments import build_design, canonical_hash, load_spec, query, run_sweep, sweep_status
from experiments.ledger import Ledger, SweepLocked, SweepLockLost
from experiments.plan import plan_runs
from experiments.runner import execute_run, simulate
from experiments.seeds import run_id, run_seed, scenario_key
from experiments.store import run_table
from hukou_cli.main import main
from policies.errors import InputError


def test_same_results_with_one_worker_two_workers_and_dask(tiny_spec: Path, tmp_path: Path) -> None:
    one = run_sweep(tiny_spec, tmp_path / "one", workers=1)
    two = run_sweep(tiny_spec, tmp_path / "two", workers=2)
    dask = run_sweep(tiny_spec, tmp_path / "dask", workers=2, scheduler="local")
    assert one.ok and two.ok and dask.ok and one.counts["done"] == 4
    hashes = {canonical_hash(s.folder) for s in (one, two, dask)}
    assert len(hashes) == 1
    summary = query(tmp_path / "two", "SELECT * FROM summary_city_year WHERE metric = 'hukou_share' "
                                      "AND year = 2011 AND NOT census_day")
    assert len(summary) == 2 * 3 and (summary["n"] == 2).all()
    assert (summary["ci_low"] <= summary["mean"]).all() and (summary["mean"] <= summary["ci_high"]).all()


def test_subset_reproduces_the_same_runs_and_replicates_differ(tiny_spec: Path, tmp_path: Path) -> None:
    full = run_sweep(tiny_spec, tmp_path / "full", workers=2)
    subset_spec = write_spec(tmp_path / "subset.yaml", levers={"regimes": ["historical", "talent_only"]},
                             replications=1)
    sub = run_sweep(subset_spec, tmp_path / "sub", workers=2)
    assert full.ok and sub.ok
    rows = query(tmp_path / "sub", "SELECT DISTINCT run_id FROM city_year ORDER BY run_id")["run_id"].tolist()
    assert len(rows) == 2
    for rid in rows:
        assert run_table(tmp_path / "sub", "district_year", rid).equals(
            run_table(tmp_path / "full", "district_year", rid))
    reps = query(tmp_path / "full", "SELECT DISTINCT run_id, seed FROM runs ORDER BY run_id")
    assert reps["seed"].nunique() == 4
    # replicates differ: each run's whole district table is its fingerprint (a single total of a few hundred
    # agents can coincide between seeds by chance)
    fingerprints = {run_table(tmp_path / "full", "district_year", rid).drop(columns=["run_id"], errors="ignore")
                    .to_csv(index=False) for rid in reps["run_id"]}
    assert len(fingerprints) == 4


def test_seed_is_a_function_of_identity_not_order() -> None:
    spec_a = load_spec(write_spec_tmp("a", levers={"regimes": ["historical", "talent_only", "strict_control"]}))
    spec_b = load_spec(write_spec_tmp("b", levers={"regimes": ["strict_control", "historical"]}))
    keys_a = {s.values["regimes"]: s.key for s in build_design(spec_a).scenarios}
    keys_b = {s.values["regimes"]: s.key for s in build_design(spec_b).scenarios}
    assert keys_a["historical"] == keys_b["historical"] == scenario_key({"regimes": "historical"})
    assert run_seed(11, keys_a["historical"], 0) != run_seed(11, keys_a["historical"], 1)
    assert run_seed(11, keys_a["historical"], 0) != run_seed(12, keys_a["historical"], 0)
    assert run_id(keys_a["historical"], 3).endswith("-r0003")


def write_spec_tmp(name: str, **changes: object) -> Path:
    import tempfile

    return write_spec(Path(tempfile.mkdtemp()) / f"{name}.yaml", **changes)


@pytest.mark.parametrize("method", ["latin_hypercube", "sobol", "morris"])
def test_salib_designs_have_the_expected_size(tmp_path: Path, method: str) -> None:
    spec = load_spec(write_spec(tmp_path / "s.yaml", levers={"regimes": ["historical"]}, sampler={
        "method": method, "n": 8, "levels": 4}, uncertainties={"beta_rent": {"low": 1.0, "high": 1.4},
                                                                "reconsider_rate": {"low": 0.1, "high": 0.3}}))
    design = build_design(spec)
    rows = {"latin_hypercube": 8, "sobol": 8 * (2 + 2), "morris": 8 * 3}[method]
    assert len(design.rows) == rows
    assert all(1.0 <= s.values["behaviour.beta_rent"] <= 1.4 for s in design.scenarios)
    assert build_design(spec).rows == design.rows  # deterministic from the root seed


def test_raising_and_crashing_runs_are_failed_and_the_rest_complete(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture) -> None:
    spec = write_spec(tmp_path / "faults.yaml", levers={"regimes": ["historical"]},
                      uncertainties={"beta_rent": {"low": 1.0, "high": 1.4, "levels": 3}})
    summary = run_sweep(spec, tmp_path / "sweep", workers=2, model=raise_or_crash, max_deaths=2)
    assert summary.counts == {"planned": 0, "running": 0, "done": 2, "failed": 4}
    ledger = Ledger(tmp_path / "sweep" / "ledger.sqlite", readonly=True)
    rows = {r.run_id: r for r in ledger.rows()}
    ledger.close()
    raised = [r for r in rows.values() if r.error and "injected failure" in r.error]
    crashed = [r for r in rows.values() if r.error and "worker died" in r.error]
    assert len(raised) == 2 and all(r.attempts == 1 and "Traceback" in r.error for r in raised)
    assert len(crashed) == 2 and all(r.worker_deaths == 2 and "exited with code 13" in r.error for r in crashed)
    assert not list((tmp_path / "sweep" / "runs").iterdir())  # the two done runs are in the dataset, not folders
    assert query(tmp_path / "sweep", "SELECT count(DISTINCT run_id) AS n FROM city_year")["n"].iloc[0] == 2
    assert main(["status", str(tmp_path / "sweep")]) == 0
    assert "injected failure" in capsys.readouterr().out


def test_a_run_that_kills_its_dask_worker_fails_alone(tmp_path: Path) -> None:
    """Issue 12 (review R3): on Dask, the runs queued on a worker that a crashing run killed were recorded failed
    (KilledWorker) though healthy. With as many tasks in flight as threads and the deaths counted by the
    coordinator, only the crashing runs fail."""
    spec = write_spec(tmp_path / "faults.yaml", levers={"regimes": ["historical"]},
                      uncertainties={"beta_rent": {"low": 1.1, "high": 1.4, "levels": 4}})
    summary = run_sweep(spec, tmp_path / "sweep", workers=2, scheduler="local", model=raise_or_crash, max_deaths=2)
    assert summary.counts == {"planned": 0, "running": 0, "done": 6, "failed": 2}
    ledger = Ledger(tmp_path / "sweep" / "ledger.sqlite", readonly=True)
    failed = [r for r in ledger.rows() if r.state == "failed"]
    ledger.close()
    assert all(r.worker_deaths == 2 and "KilledWorker" in (r.error or "") for r in failed)


def test_resume_retry_failed_redoes_runs_that_failed_for_an_outside_reason(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    flag = tmp_path / "disk-full"
    flag.touch()
    monkeypatch.setenv("HUKOU_TEST_FLAG", str(flag))
    spec = write_spec(tmp_path / "tiny.yaml")
    out = tmp_path / "sweep"
    assert run_sweep(spec, out, workers=1, model=fail_while_flagged).counts["failed"] == 4
    flag.unlink()
    assert run_sweep(spec, out, workers=1, model=fail_while_flagged).counts["failed"] == 4  # plain resume keeps them
    again = run_sweep(spec, out, workers=1, model=fail_while_flagged, retry_failed=True)
    assert again.ok and again.counts["done"] == 4
    assert run_sweep(spec, tmp_path / "fresh", workers=1).ok
    assert canonical_hash(out) == canonical_hash(tmp_path / "fresh")


def test_a_full_disk_stops_the_sweep_in_one_line_and_resume_finishes_it(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch,
                                                                         capsys: pytest.CaptureFixture) -> None:
    """Issue 12 (review R4): a full disk killed the coordinator with a raw traceback and left runs failed for good.
    A write error is the folder's fault, not the run's: the sweep stops with one line and exit 2, the run stays
    planned, and resume finishes with exactly the runs of an undisturbed sweep."""
    flag = tmp_path / "disk-full"
    flag.touch()
    monkeypatch.setenv("HUKOU_TEST_FLAG", str(flag))
    spec = write_spec(tmp_path / "tiny.yaml")
    out = tmp_path / "sweep"
    with pytest.raises(InputError, match="cannot write the sweep folder .*No space left on device"):
        run_sweep(spec, out, workers=1, model=disk_full_while_flagged)
    assert sweep_status(out)["counts"]["failed"] == 0 and sweep_status(out)["coordinator"] is None
    flag.unlink()
    assert run_sweep(spec, out, workers=1, model=disk_full_while_flagged).ok
    assert run_sweep(spec, tmp_path / "fresh", workers=1).ok
    assert canonical_hash(out) == canonical_hash(tmp_path / "fresh")


def test_a_ledger_that_cannot_be_written_stops_the_sweep_and_resume_repairs_it(tiny_spec: Path, tmp_path: Path,
                                                                                monkeypatch: pytest.MonkeyPatch,
                                                                                capsys: pytest.CaptureFixture) -> None:
    import sqlite3

    def disk_full(*args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    out = tmp_path / "sweep"
    with monkeypatch.context() as patch:
        patch.setattr(Ledger, "done", disk_full)
        assert main(["sweep", str(tiny_spec), "--out", str(out), "--workers", "1", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "database or disk is full" in err and "hukou resume" in err and err.count("\n") == 0, err
    assert main(["resume", str(out), "--workers", "1", "--quiet"]) == 0
    assert sweep_status(out)["counts"]["done"] == 4
    assert run_sweep(tiny_spec, tmp_path / "fresh", workers=1).ok
    assert canonical_hash(out) == canonical_hash(tmp_path / "fresh")


def test_a_read_only_output_folder_is_one_line_and_exit_2(tiny_spec: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture) -> None:
    """Tests run as root here, so a chmod would not stop the write: the refusal is simulated at mkdir."""
    real_mkdir = Path.mkdir

    def refuse(self: Path, *args: Any, **kwargs: Any) -> None:
        if self.name == "ro":
            raise PermissionError(13, "Permission denied", str(self))
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refuse)
    assert main(["sweep", str(tiny_spec), "--out", str(tmp_path / "ro"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "Permission denied" in err and err.count("\n") == 0 and "Traceback" not in err
    # review X2: the validation report's folder gave a raw PermissionError traceback
    assert main(["validate", "--out", str(tmp_path / "ro"), "--seeds", "1", "--scale", "100000", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"hukou: error: {tmp_path / 'ro'}: cannot write here (Permission denied)")
    assert err.count("\n") == 0


def _foreign_lock(path: Path) -> None:
    """A lock of a live coordinator (this test process) with another token: what a reclaimer leaves."""
    path.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "heartbeat": time.time(),
                                "token": "the-other-coordinator"}))


def test_a_coordinator_that_lost_its_lock_stops_writing(tiny_spec: Path, tmp_path: Path) -> None:
    """Issue 12 (review R5): after a 63 s SIGSTOP a second coordinator took the lock and the first carried on
    writing beside it. The lock is now a fence: before each ledger write the coordinator checks it still holds it."""
    out = tmp_path / "sweep"
    taken = False

    def reclaimed_after_the_first_run(counts: dict[str, int], elapsed: float) -> None:
        nonlocal taken
        if counts["done"] == 1 and not taken:
            taken = True
            _foreign_lock(out / "coordinator.lock")

    with pytest.raises(SweepLockLost, match="lost the sweep lock"):
        run_sweep(tiny_spec, out, workers=1, progress=reclaimed_after_the_first_run)
    assert sweep_status(out)["counts"]["done"] == 1  # nothing written after the lock was lost
    assert json.loads((out / "coordinator.lock").read_text())["token"] == "the-other-coordinator"  # left alone
    (out / "coordinator.lock").unlink()  # the other coordinator ends
    assert run_sweep(tiny_spec, out, workers=1).ok
    assert run_sweep(tiny_spec, tmp_path / "fresh", workers=1).ok
    assert canonical_hash(out) == canonical_hash(tmp_path / "fresh")


def test_publishing_a_run_already_published_with_the_same_results_succeeds(tiny_spec: Path, tmp_path: Path) -> None:
    """Two coordinators' workers finishing the same run ended "Directory not empty" and a failed run."""
    task = plan_runs(load_spec(tiny_spec), build_design(load_spec(tiny_spec)))[0]
    runs = tmp_path / "runs"

    def the_other_coordinator_publishes_first(config: Any, out: Path) -> None:
        assert execute_run(task, str(runs), simulate).ok
        simulate(config, out)

    result = execute_run(task, str(runs), the_other_coordinator_publishes_first)
    assert result.ok, result.error
    assert not [p for p in (runs / ".staging").iterdir()]

    def different(config: Any, out: Path) -> None:
        simulate(config.model_copy(update={"seed": config.seed + 1}), out)

    def a_rival_published_other_numbers_first(config: Any, out: Path) -> None:
        assert execute_run(task, str(tmp_path / "other"), different).ok
        simulate(config, out)

    clash = execute_run(task, str(tmp_path / "other"), a_rival_published_other_numbers_first)
    assert not clash.ok and "published meanwhile with different results" in (clash.error or "")


def test_a_sweep_being_created_by_another_coordinator_is_refused_as_locked(tiny_spec: Path, tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture) -> None:
    """Two coordinators started together: the loser saw a folder without a manifest and exited 2 (not a sweep
    folder) instead of 4 (locked)."""
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "spec.yaml").write_text("being written", "utf-8")
    _foreign_lock(out / "coordinator.lock")
    assert main(["sweep", str(tiny_spec), "--out", str(out), "--quiet"]) == 4
    assert "creating this sweep" in capsys.readouterr().err


def test_cli_sweep_exit_code_query_and_status(tiny_spec: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "sweep"
    assert main(["sweep", str(tiny_spec), "--out", str(out), "--workers", "2", "--quiet"]) == 0
    assert "4 done, 0 failed" in capsys.readouterr().out
    assert main(["query", str(out), "SELECT count(*) AS n FROM city_year", "--csv"]) == 0
    assert capsys.readouterr().out.split() == ["n", str(4 * 3 * 3)]
    assert main(["query", str(out), "SELECT nope FROM city_year"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["status", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["done"] == 4
    # the same spec again: nothing to do, nothing repeated
    assert main(["sweep", str(tiny_spec), "--out", str(out), "--quiet"]) == 0
    assert sweep_status(out)["counts"]["done"] == 4


def test_changed_spec_or_code_is_refused_with_the_differing_keys(tiny_spec: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "sweep"
    run_sweep(tiny_spec, out, workers=1)
    changed = write_spec(tmp_path / "changed.yaml", replications=3, end=2012)
    with pytest.raises(InputError, match=r"spec\.end, spec\.replications"):
        run_sweep(changed, out, workers=1)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["code_version"] = "0.0.0+src.old"
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert main(["resume", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "code_version" in err and err.count("\n") == 1
    assert main(["resume", str(out), "--new-sweep", str(tmp_path / "new"), "--quiet", "--workers", "1"]) == 0
    assert canonical_hash(tmp_path / "new") == canonical_hash(out)


def test_a_live_coordinator_is_refused_and_a_stale_lock_reclaimed(tiny_spec: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "sweep"
    run_sweep(tiny_spec, out, workers=1)
    lock = out / "coordinator.lock"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock.write_text(json.dumps({"pid": holder.pid, "host": socket.gethostname(), "heartbeat": time.time(),
                                    "token": "x"}))
        with pytest.raises(SweepLocked):
            run_sweep(tiny_spec, out, workers=1)
        assert main(["resume", str(out), "--quiet"]) == 4
        assert "another coordinator" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()
    assert run_sweep(tiny_spec, out, workers=1).ok  # the holder is dead: its lock is stale
    lock.write_text(json.dumps({"pid": 1, "host": "elsewhere", "heartbeat": time.time() - 3600, "token": "y"}))
    assert run_sweep(tiny_spec, out, workers=1).ok  # another host, heartbeat an hour old: stale
    assert not lock.exists()
    assert not [p for p in os.listdir(out) if p.startswith(".")]
