"""The results store reads only the sweep's own files (issue 12, item 9)."""

from __future__ import annotations

import shutil
from pathlib import Path

from experiments.dataset import layout, part_path
from experiments.store import connect
from experiments.sweep import run_sweep


def test_a_dataset_file_symlinked_outside_the_sweep_is_left_out(tiny_spec: Path, tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    assert run_sweep(tiny_spec, sweep, workers=1, summarise=False, runs_per_file=2).ok
    parts = layout(sweep).parts
    assert len(parts) == 2
    victim = part_path(sweep, "city_year", parts[0].name)
    outside = Path(shutil.copyfile(victim, tmp_path / "elsewhere.parquet"))
    victim.unlink()
    victim.symlink_to(outside)
    con = connect(sweep)
    try:
        ids = {r[0] for r in con.sql("SELECT DISTINCT run_id FROM city_year").fetchall()}
    finally:
        con.close()
    assert ids == set(parts[1].runs)


def test_a_run_folder_symlinked_outside_the_sweep_is_left_out(tiny_spec: Path, tmp_path: Path) -> None:
    """The same for a run not yet gathered into the dataset (a sweep made before it, or interrupted)."""
    sweep = tmp_path / "sweep"
    assert run_sweep(tiny_spec, sweep, workers=1, summarise=False).ok
    runs = _ungather(sweep)
    victim = sweep / "runs" / runs[0]
    outside = Path(shutil.copytree(victim, tmp_path / "elsewhere" / victim.name))
    shutil.rmtree(victim)
    victim.symlink_to(outside, target_is_directory=True)
    con = connect(sweep)
    try:
        ids = {r[0] for r in con.sql("SELECT DISTINCT run_id FROM city_year").fetchall()}
    finally:
        con.close()
    assert ids == set(runs[1:])


def _ungather(sweep: Path) -> list[str]:
    """Turn a sweep back into the layout made before the dataset: one folder per run, no parts in the ledger."""
    import sqlite3

    from experiments.store import extract_run

    runs = sorted(layout(sweep).ids)
    for run in runs:
        extract_run(sweep, run, sweep / "runs" / run)
    shutil.rmtree(sweep / "data")
    db = sqlite3.connect(sweep / "ledger.sqlite")
    db.execute("UPDATE runs SET part = NULL")
    db.execute("DROP TABLE parts")
    db.execute("DELETE FROM files WHERE owner LIKE 'part-%'")
    db.commit()
    db.close()
    return runs


def _fake_sweep(folder: Path, *, reverse: bool, replicates: int = 40) -> Path:
    """A sweep folder of synthetic runs (two scenarios, many replicates, values of many magnitudes, so that a sum
    in another order differs in its last bits); ``reverse`` writes each run's rows, and the ledger, backwards."""
    import numpy as np
    import pandas as pd

    from experiments.ledger import Ledger

    rng = np.random.default_rng(7)
    (folder / "runs").mkdir(parents=True)
    runs = [(f"s{scenario:x}-r{rep:04d}", scenario, rep) for scenario in (10, 11) for rep in range(replicates)]
    ledger = Ledger(folder / "ledger.sqlite")
    ledger.add((run_id, scenario, rep, rep) for run_id, scenario, rep in (reversed(runs) if reverse else runs))
    for run_id, _, _ in runs:
        ledger.done(run_id, 1.0, "test")
    ledger.close()
    for run_id, _, _ in runs:
        n = 3 * 6
        city = pd.DataFrame({
            "year": np.repeat(np.arange(2010, 2016), 3).astype("int64"), "census_day": False,
            "city": np.tile(["shenzhen", "guangzhou", "chengdu"], 6),
            "hukou_share": rng.random(n), "migrants": rng.random(n) * 10.0 ** rng.integers(-3, 7, n),
            "rent_index": rng.lognormal(0, 2, n)})
        district = city.assign(district=440303).drop(columns=["hukou_share"])
        if reverse:
            city, district = city.iloc[::-1], district.iloc[::-1]
        (folder / "runs" / run_id).mkdir()
        (folder / "runs" / run_id / "identity.json").write_text(f'{{"run_id": "{run_id}"}}', "utf-8")  # published
        city.to_parquet(folder / "runs" / run_id / "city_year.parquet", index=False)
        district.to_parquet(folder / "runs" / run_id / "district_year.parquet", index=False)
    return folder


def test_summaries_are_byte_identical_whatever_the_input_order(tmp_path: Path) -> None:
    import hashlib

    from experiments.store import write_summaries

    def digest(folder: Path) -> list[str]:
        return [hashlib.sha256((folder / f"summary_{t}.parquet").read_bytes()).hexdigest()
                for t in ("city_year", "district_year")]

    forward = _fake_sweep(tmp_path / "forward", reverse=False)
    backward = _fake_sweep(tmp_path / "backward", reverse=True)
    write_summaries(forward)
    first = digest(forward)
    for _ in range(3):  # rebuilt on the same folder (DuckDB aggregated on several threads in any order)
        write_summaries(forward)
        assert digest(forward) == first
    write_summaries(backward)  # the same numbers read in another order
    assert digest(backward) == first


def test_a_band_of_parameter_draws_is_a_prediction_interval_and_of_seeds_the_mean_s() -> None:
    """Seeds are Monte Carlo replicates: their band is that of the mean and narrows as 1/√n. Posterior draws are
    the calibration's uncertainty, which more draws must not shrink: their band is a prediction interval,
    √(1 + 1/n)."""
    import numpy as np

    from experiments.store import _spread

    n = np.array([4, 100])
    assert np.allclose(_spread(n, "seed noise only"), [0.5, 0.1])
    assert np.allclose(_spread(n, "parameters and seeds"), [np.sqrt(1.25), np.sqrt(1.01)])
    assert np.allclose(_spread(n, "parameters and seeds, paired on (draw, seed)"), np.sqrt(1 + 1 / n))
