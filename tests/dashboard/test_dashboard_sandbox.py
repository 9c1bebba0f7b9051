"""The dashboard serves only what lies in its results folder (issue 12, item 9): a symlink that escapes the root is
skipped, not served."""

from __future__ import annotations

import shutil
from pathlib import Path

from dashboard.data import Experiment, Registry


def _copy_sweep(results_root: Path, where: Path) -> Path:
    where.parent.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copytree(results_root / "dash_fixture", where, symlinks=True))


def test_a_symlinked_sweep_pointing_outside_the_results_is_not_served(results_root: Path, tmp_path: Path) -> None:
    secret = _copy_sweep(results_root, tmp_path / "elsewhere" / "secret_sweep")
    root = tmp_path / "results"
    _copy_sweep(results_root, root / "own_sweep")
    (root / "evil_link").symlink_to(secret, target_is_directory=True)
    (root / "inner_link").symlink_to(root / "own_sweep", target_is_directory=True)  # stays inside: fine
    registry = Registry(root)
    assert "evil_link" not in registry.ids()
    assert sorted(registry.ids()) == ["inner_link", "own_sweep"]


def test_a_symlinked_scenario_folder_pointing_outside_is_not_served(results_root: Path, tmp_path: Path) -> None:
    secret = _copy_sweep(results_root, tmp_path / "elsewhere" / "secret_sweep")
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "evil_scenario").symlink_to(secret, target_is_directory=True)
    assert "evil_scenario" not in Registry(results_root, scenarios).ids()


def test_a_symlinked_validation_report_pointing_outside_is_not_served(results_root: Path, tmp_path: Path) -> None:
    from dashboard.data import SHIPPED_REPORT

    report = Path(shutil.copytree(SHIPPED_REPORT, tmp_path / "elsewhere" / "report"))
    root = tmp_path / "results"
    (root / "validation").mkdir(parents=True)
    (root / "evil_report").symlink_to(report, target_is_directory=True)
    (root / "validation" / "evil").symlink_to(report, target_is_directory=True)
    ids = Registry(root).report_ids()
    assert "evil_report" not in ids and "validation.evil" not in ids


def test_a_dataset_file_symlinked_outside_its_sweep_is_not_read(results_root: Path, tmp_path: Path) -> None:
    from experiments.dataset import layout, part_path
    from experiments.sweep import compact_sweep

    sweep = _copy_sweep(results_root, tmp_path / "results" / "sweep")
    compact_sweep(sweep, runs_per_file=1)
    parts = layout(sweep).parts
    (tmp_path / "elsewhere").mkdir()
    for table in parts[0].tables:
        victim = part_path(sweep, table, parts[0].name)
        outside = Path(shutil.copyfile(victim, tmp_path / "elsewhere" / f"{table}.parquet"))
        victim.unlink()
        victim.symlink_to(outside)
    experiment = Experiment("sweep", sweep)
    assert parts[0].runs[0] not in experiment.published_runs()
    assert len(experiment.published_runs()) == len(parts) - 1
    assert experiment.row_count() > 0  # the rest is still served (DuckDB would refuse the escaping file)


def test_a_manifest_symlinked_outside_is_refused(results_root: Path, tmp_path: Path) -> None:
    sweep = _copy_sweep(results_root, tmp_path / "results" / "sweep")
    outside = tmp_path / "elsewhere" / "manifest.json"
    outside.parent.mkdir(parents=True)
    outside.write_text('{"name": "secret"}', "utf-8")
    (sweep / "manifest.json").unlink()
    (sweep / "manifest.json").symlink_to(outside)
    experiment = Experiment("sweep", sweep)
    try:
        name = experiment.name
    except ValueError as exc:
        assert "outside" in str(exc)
    else:
        raise AssertionError(f"a manifest outside the folder was read (name {name!r})")


WRITES = [
    "COPY (SELECT 1 AS x) TO '{folder}/pwned.csv'",
    "COPY (SELECT * FROM read_parquet('{folder}/summary_city_year.parquet')) TO '{folder}/pwned.parquet'",
    "SELECT 1; COPY (SELECT 1 AS x) TO '{folder}/pwned.csv'",
    "EXPORT DATABASE '{folder}/pwned'",
    "ATTACH '{folder}/pwned.duckdb' AS p",
    "CREATE TABLE t AS SELECT 1",
    "SET threads = 1",
    "PRAGMA version",
]


def test_the_query_connection_writes_nothing_into_the_results(results_root: Path) -> None:
    from dashboard import data

    folder = results_root / "dash_fixture"
    before = sorted(p.name for p in folder.iterdir())
    for query in WRITES:
        try:
            data._locked_sql(folder, query)
        except Exception as exc:  # refused: by the statement check, and nothing else
            assert type(exc).__name__ == "ReadOnlyQuery", (query, exc)
        else:
            raise AssertionError(f"ran: {query}")
        assert sorted(p.name for p in folder.iterdir()) == before, query
    # reading still works, DESCRIBE included
    assert len(data._locked_sql(folder, "SELECT * FROM read_parquet('{folder}/summary_city_year.parquet')")) > 0
    described = data._locked_sql(folder, "DESCRIBE SELECT * FROM read_parquet('{folder}/scenarios.parquet')")
    assert "scenario" in set(described["column_name"])
