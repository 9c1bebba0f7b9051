"""Damaged results are found, named and repaired (issue 12, item 6; review X1): a flipped bit, a truncated file and
a deleted file were silent or broke every query, and resume could not repair them."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import write_spec

from experiments import canonical_hash, query, run_sweep
from experiments.integrity import SUMMARY, check_sweep
from hukou_cli.main import main


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished sweep of four runs, copied by each test that damages it."""
    folder = tmp_path_factory.mktemp("finished")
    out = folder / "sweep"
    assert run_sweep(write_spec(folder / "tiny.yaml"), out, workers=2).ok
    return out


def _copy(finished: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    out = tmp_path / "sweep"
    shutil.copytree(finished, out)
    runs = sorted(p.name for p in (out / "runs").iterdir() if not p.name.startswith("."))
    return out, runs


def _flip_a_bit(path: Path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0x01
    path.write_bytes(bytes(data))


def test_every_published_file_has_its_hash_in_the_ledger_and_an_undamaged_sweep_verifies(
        finished: Path, capsys: pytest.CaptureFixture) -> None:
    db = sqlite3.connect(finished / "ledger.sqlite")
    owners = {o for (o,) in db.execute("SELECT DISTINCT owner FROM files")}
    names = {n for (n,) in db.execute("SELECT name FROM files WHERE owner != ?", (SUMMARY,))}
    db.close()
    assert len(owners) == 5 and SUMMARY in owners
    assert {"city_year.parquet", "district_year.parquet", "config.yaml"} <= names
    assert main(["verify", str(finished)]) == 0
    assert "4 finished runs checked, 0 damaged" in capsys.readouterr().out


def test_a_flipped_bit_is_found_named_left_out_of_queries_and_resume_repairs_it(
        finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out, runs = _copy(finished, tmp_path)
    _flip_a_bit(out / "runs" / runs[1] / "city_year.parquet")
    assert main(["verify", str(out)]) == 3
    report = capsys.readouterr().out
    assert f"damaged run {runs[1]}: city_year.parquet changed after it was written" in report
    # the query serves the three good runs and names the damaged one
    assert main(["query", str(out), "SELECT count(DISTINCT run_id) AS n FROM city_year", "--csv"]) == 0
    captured = capsys.readouterr()
    assert captured.out.split() == ["n", "3"]
    assert f"run {runs[1]}: city_year.parquet changed" in captured.err and "hukou resume" in captured.err
    assert main(["resume", str(out), "--quiet"]) == 0
    assert main(["verify", str(out)]) == 0
    assert canonical_hash(out) == canonical_hash(finished)


def test_a_truncated_run_file_no_longer_breaks_every_query(finished: Path, tmp_path: Path) -> None:
    out, runs = _copy(finished, tmp_path)
    target = out / "runs" / runs[0] / "district_year.parquet"
    target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    damaged: list = []
    summary = query(out, "SELECT count(*) AS n FROM summary_city_year", damaged)
    assert int(summary["n"].iloc[0]) > 0
    assert [d.owner for d in damaged] == [runs[0]] and "bytes" in damaged[0].problem
    assert query(out, "SELECT count(DISTINCT run_id) AS n FROM district_year")["n"].iloc[0] == 3


def test_a_deleted_run_file_and_a_truncated_summary_are_redone_by_resume(finished: Path, tmp_path: Path) -> None:
    out, runs = _copy(finished, tmp_path)
    (out / "runs" / runs[2] / "district_year.parquet").unlink()
    summary = out / "summary_city_year.parquet"
    summary.write_bytes(summary.read_bytes()[:100])
    found = {d.owner: d.problem for d in check_sweep(out, runs)}
    assert found == {runs[2]: "district_year.parquet is missing",
                     SUMMARY: found[SUMMARY]} and "summary_city_year.parquet" in found[SUMMARY]
    assert run_sweep(out / "spec.yaml", out, workers=1).ok
    assert check_sweep(out, runs) == []
    assert canonical_hash(out) == canonical_hash(finished)
    assert query(out, "SELECT count(*) AS n FROM summary_city_year")["n"].iloc[0] == \
        query(finished, "SELECT count(*) AS n FROM summary_city_year")["n"].iloc[0]


def test_a_sweep_made_before_hashes_is_still_checked_for_missing_and_unreadable_files(
        finished: Path, tmp_path: Path) -> None:
    out, runs = _copy(finished, tmp_path)
    db = sqlite3.connect(out / "ledger.sqlite")
    db.execute("DROP TABLE files")
    db.commit()
    db.close()
    for run in runs:
        identity = out / "runs" / run / "identity.json"
        record = json.loads(identity.read_text())
        del record["files"]
        identity.write_text(json.dumps(record))
    (out / "runs" / runs[3] / "city_year.parquet").write_bytes(b"")
    found = check_sweep(out, runs)
    assert [d.owner for d in found] == [runs[3]] and "not readable" in found[0].problem
