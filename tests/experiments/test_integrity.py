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
from experiments.dataset import layout, part_path
from experiments.integrity import SUMMARY, check_sweep
from experiments.ledger import PartRecord
from hukou_cli.main import main


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished sweep of four runs in two parts of the dataset, copied by each test that damages it."""
    folder = tmp_path_factory.mktemp("finished")
    out = folder / "sweep"
    assert run_sweep(write_spec(folder / "tiny.yaml"), out, workers=2, runs_per_file=2).ok
    return out


def _copy(finished: Path, tmp_path: Path) -> tuple[Path, list[PartRecord]]:
    out = tmp_path / "sweep"
    shutil.copytree(finished, out)
    return out, list(layout(out).parts)


def _flip_a_bit(path: Path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0x01
    path.write_bytes(bytes(data))


def _dataset_bytes(folder: Path) -> dict[str, bytes]:
    """The dataset's result tables by relative path (``run_files`` holds each run's manifest and identity, which
    record when and on which worker it ran)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted((folder / "data").glob("*/*.parquet"))
            if p.parent.name != "run_files"}


def test_every_published_file_has_its_hash_in_the_ledger_and_an_undamaged_sweep_verifies(
        finished: Path, capsys: pytest.CaptureFixture) -> None:
    db = sqlite3.connect(finished / "ledger.sqlite")
    owners = {o for (o,) in db.execute("SELECT DISTINCT owner FROM files")}
    names = {n for (n,) in db.execute("SELECT name FROM files WHERE owner != ?", (SUMMARY,))}
    db.close()
    parts = layout(finished).parts
    assert owners == {SUMMARY} | {p.name for p in parts} and len(parts) == 2
    assert names == {f"{t}/{p.name}.parquet" for p in parts for t in ("city_year", "district_year", "run_files")}
    assert main(["verify", str(finished)]) == 0
    assert "4 finished runs checked, 0 damaged" in capsys.readouterr().out


def test_a_flipped_bit_is_found_named_left_out_of_queries_and_resume_repairs_it(
        finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out, parts = _copy(finished, tmp_path)
    _flip_a_bit(part_path(out, "city_year", parts[1].name))
    assert main(["verify", str(out)]) == 3
    report = capsys.readouterr().out
    assert f"damaged dataset part {parts[1].name}: city_year/{parts[1].name}.parquet changed after it was " \
           "written" in report and "its 2 runs are left out" in report
    # the query serves the good part's two runs and names the damaged part in one line
    assert main(["query", str(out), "SELECT count(DISTINCT run_id) AS n FROM city_year", "--csv"]) == 0
    captured = capsys.readouterr()
    assert captured.out.split() == ["n", "2"]
    warning = [line for line in captured.err.splitlines() if parts[1].name in line]
    assert len(warning) == 1 and "changed after it was written" in warning[0] and "hukou resume" in warning[0]
    assert main(["resume", str(out), "--quiet"]) == 0
    assert main(["verify", str(out)]) == 0
    assert canonical_hash(out) == canonical_hash(finished)
    assert _dataset_bytes(out) == _dataset_bytes(finished)


def test_a_truncated_dataset_file_no_longer_breaks_every_query(finished: Path, tmp_path: Path) -> None:
    out, parts = _copy(finished, tmp_path)
    target = part_path(out, "district_year", parts[0].name)
    target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    damaged: list = []
    summary = query(out, "SELECT count(*) AS n FROM summary_city_year", damaged)
    assert int(summary["n"].iloc[0]) > 0
    assert [d.owner for d in damaged] == [parts[0].name] and "bytes" in damaged[0].problem
    assert query(out, "SELECT count(DISTINCT run_id) AS n FROM district_year")["n"].iloc[0] == 2


def test_a_deleted_dataset_file_and_a_truncated_summary_are_redone_by_resume(finished: Path, tmp_path: Path) -> None:
    out, parts = _copy(finished, tmp_path)
    runs = sorted(r for p in parts for r in p.runs)
    part_path(out, "district_year", parts[1].name).unlink()
    summary = out / "summary_city_year.parquet"
    summary.write_bytes(summary.read_bytes()[:100])
    found = {d.owner: d.problem for d in check_sweep(out, runs)}
    assert found == {parts[1].name: f"district_year/{parts[1].name}.parquet is missing; its 2 runs are left out",
                     SUMMARY: found[SUMMARY]} and "summary_city_year.parquet" in found[SUMMARY]
    assert run_sweep(out / "spec.yaml", out, workers=1, runs_per_file=2).ok
    assert check_sweep(out, runs) == []
    assert canonical_hash(out) == canonical_hash(finished)
    assert _dataset_bytes(out) == _dataset_bytes(finished)
    assert query(out, "SELECT count(*) AS n FROM summary_city_year")["n"].iloc[0] == \
        query(finished, "SELECT count(*) AS n FROM summary_city_year")["n"].iloc[0]


def test_a_sweep_made_before_the_dataset_is_read_checked_and_compacted(finished: Path, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture) -> None:
    """A sweep of one folder per run (made before the dataset) is still read and checked, and ``hukou compact``
    gathers it into the same dataset a new sweep writes."""
    from test_store_hardening import _ungather

    out, _ = _copy(finished, tmp_path)
    runs = _ungather(out)
    assert sorted(p.name for p in (out / "runs").iterdir()) == runs
    assert canonical_hash(out) == canonical_hash(finished)
    assert main(["compact", str(out), "--runs-per-file", "2"]) == 0
    assert "4 runs in 2 parts, 6 files" in capsys.readouterr().out
    assert not list((out / "runs").iterdir())
    assert _dataset_bytes(out) == _dataset_bytes(finished) and main(["verify", str(out)]) == 0


def test_a_sweep_made_before_hashes_is_still_checked_for_missing_and_unreadable_files(
        finished: Path, tmp_path: Path) -> None:
    from test_store_hardening import _ungather

    out, _ = _copy(finished, tmp_path)
    runs = _ungather(out)
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
