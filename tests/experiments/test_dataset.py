"""A sweep's results are one dataset per table (issue 13, item 5): a crash while runs are gathered loses and
duplicates nothing, the files are the same whatever the workers or interruptions, their number stays bounded, and
a run's own files come back byte for byte."""

from __future__ import annotations

import math
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import write_spec

from experiments import canonical_hash, query, run_sweep
from experiments.dataset import FANOUT, layout
from experiments.integrity import digest_file, identity_files, recorded_files
from experiments.ledger import Ledger
from experiments.runner import simulate
from experiments.store_bench import TEMPLATE_ENV, synthetic_run
from hukou_cli.main import main


class Crash(Exception):
    """Stands for the coordinator dying at one instant of gathering runs."""


def _dataset(folder: Path) -> dict[str, bytes]:
    """The result tables' files by relative path (``run_files`` holds manifests and identities, which record when
    and on which worker each run ran)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted((folder / "data").glob("*/*"))
            if p.parent.name != "run_files"}


def _spec(tmp_path: Path) -> Path:
    return write_spec(tmp_path / "six.yaml", replications=3)  # two regimes × three seeds, 2010–2011


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The uninterrupted sweep, on one worker."""
    folder = tmp_path_factory.mktemp("reference")
    out = folder / "sweep"
    assert run_sweep(_spec(folder), out, workers=1, batch_runs=2, runs_per_file=4).ok
    return out


@pytest.mark.parametrize(("crash_at", "after_commit"), [(2, False), (2, True), (4, False)],
                         ids=["batch-before-commit", "batch-after-commit", "canonical-rewrite"])
def test_a_crash_while_gathering_runs_then_resume_gives_the_uninterrupted_dataset(
        reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash_at: int, after_commit: bool) -> None:
    """The coordinator dies while it records the ``crash_at``-th part (before or after the ledger's commit, the
    fourth being the final rewrite into the canonical layout); resuming on two workers gives the files of the
    uninterrupted one-worker sweep, every run's rows once."""
    original = Ledger.commit_parts
    calls = []

    def dying(self: Ledger, *args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == crash_at:
            if after_commit:
                original(self, *args, **kwargs)
            raise Crash(f"killed at part {crash_at}")
        original(self, *args, **kwargs)

    monkeypatch.setattr(Ledger, "commit_parts", dying)
    out = tmp_path / "sweep"
    with pytest.raises(Crash):
        run_sweep(_spec(tmp_path), out, workers=2, batch_runs=2, runs_per_file=4)
    monkeypatch.setattr(Ledger, "commit_parts", original)
    left = list((out / "data").glob("*/*.parquet"))
    assert left, "the crash came before any part was written"

    assert run_sweep(out / "spec.yaml", out, workers=2, batch_runs=2).ok
    assert _dataset(out) == _dataset(reference)
    assert canonical_hash(out) == canonical_hash(reference)
    per_run = query(out, "SELECT run_id, count(*) AS n FROM district_year GROUP BY run_id")
    assert len(per_run) == 6 and per_run["n"].nunique() == 1
    recorded = {name for owner, files in recorded_files(out / "ledger.sqlite").items() if owner.startswith("part-")
                for name in files}
    on_disk = {str(p.relative_to(out / "data")) for p in (out / "data").glob("*/*")}
    assert on_disk == recorded  # nothing unrecorded, nothing hidden, left behind
    assert not list((out / "runs").iterdir())


def test_one_and_two_workers_write_the_same_files(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    assert run_sweep(_spec(tmp_path), out, workers=2, batch_runs=3, runs_per_file=4).ok
    assert _dataset(out) == _dataset(reference)
    assert len(_dataset(out)) == 2 * 2  # two tables in files of four and two runs


def test_the_number_of_files_stays_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """120 runs gathered four at a time: never more than a bounded number of files while the sweep runs, and
    three files (one a table) per 16 runs at the end, instead of a folder of five files per run."""
    template = tmp_path / "template"
    spec = write_spec(tmp_path / "many.yaml", levers={"regimes": ["historical"]}, replications=120, end=2010)
    from experiments import build_design, load_spec, plan_runs

    simulate(plan_runs(load_spec(spec), build_design(load_spec(spec)))[0].config, template)
    monkeypatch.setenv(TEMPLATE_ENV, str(template))
    out = tmp_path / "sweep"
    seen: list[int] = []

    def count(counts: dict[str, int], _elapsed: float) -> None:
        # os.walk, not Path.rglob: workers rename their staging folders while this counts, and os.walk skips a
        # folder that vanished between listing and reading it, where rglob raised FileNotFoundError
        seen.append(sum(len(files) for folder in ("data", "runs") for _, _, files in os.walk(out / folder)))

    batch, per_file = 4, 16
    assert run_sweep(spec, out, workers=2, model=synthetic_run, batch_runs=batch, runs_per_file=per_file,
                     progress=count, summarise=False).ok
    # at most FANOUT - 1 parts of one batch; the merged parts (32 runs, above runs_per_file) are not merged again;
    # plus one batch of loose run folders (five files each) and the run in each worker's hands
    parts = (FANOUT - 1) + math.ceil(120 / (batch * FANOUT))
    assert max(seen) <= 3 * parts + 5 * (batch + 2)
    assert sorted(p.relative_to(out / "data").parts[0] for p in (out / "data").glob("*/*")) == \
        sorted(["city_year", "district_year", "run_files"] * math.ceil(120 / per_file))
    assert len(layout(out).ids) == 120 and not list((out / "runs").iterdir())


def test_a_run_extracted_from_the_dataset_is_the_run_it_was(reference: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    run = sorted(layout(reference).ids)[3]
    out = tmp_path / "run"
    assert main(["extract", str(reference), run, "--out", str(out)]) == 0
    assert "4 files identical to what the run wrote" in capsys.readouterr().out
    recorded = identity_files(out)
    assert recorded is not None and {n: digest_file(out / n) for n in recorded} == recorded
    assert main(["extract", str(reference), "s0-r0000", "--out", str(tmp_path / "none")]) == 2
    assert "run_id: no done run s0-r0000" in capsys.readouterr().err


def test_the_ledger_says_which_part_holds_each_run(reference: Path) -> None:
    db = sqlite3.connect(f"file:{reference / 'ledger.sqlite'}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT part, count(*) FROM runs WHERE state = 'done' GROUP BY part ORDER BY part").fetchall()
    finally:
        db.close()
    assert [n for _, n in rows] == [4, 2] and all(p.startswith("part-c") for p, _ in rows)
