"""Reproducibility: the same config and seed give byte-identical Parquet data; another seed differs; the number of
threads and the size of location choice's chunks change nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.config import RunConfig
from sim.model import HukouModel
from sim.run import run_simulation


def _run(tmp_path: Path, name: str, seed: int) -> Path:
    out = tmp_path / name
    run_simulation(RunConfig(scale=5000, end=2013, seed=seed), out)
    return out


def test_same_seed_gives_identical_parquet_and_another_seed_differs(tmp_path: Path) -> None:
    a, b, c = _run(tmp_path, "a", 11), _run(tmp_path, "b", 11), _run(tmp_path, "c", 12)
    for name in ("district_year.parquet", "city_year.parquet", "config.yaml"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "district_year.parquet").read_bytes() != (c / "district_year.parquet").read_bytes()
    assert not list(tmp_path.glob(".*partial*"))


def _small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of a few hundred agents, so a small run has many and the threads really share them."""
    from sim import counting
    from sim.phases import choice, permits, settlement

    monkeypatch.setattr(choice, "CHUNK", 300)
    monkeypatch.setattr(permits, "CHUNK", 500)
    monkeypatch.setattr(settlement, "CHUNK", 700)
    monkeypatch.setattr(counting, "BLOCK", 1000)


def _tables(threads: int) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    model = HukouModel(RunConfig(scale=3000, end=2015, seed=5), threads=threads).run()
    return model.district_year(), model.city_year(), model.population["uid"].copy()


def test_the_number_of_threads_does_not_change_the_results(monkeypatch: pytest.MonkeyPatch) -> None:
    _small_chunks(monkeypatch)
    one, two = _tables(threads=1), _tables(threads=2)
    pd.testing.assert_frame_equal(one[0], two[0])
    pd.testing.assert_frame_equal(one[1], two[1])
    assert np.array_equal(one[2], two[2])
    assert one[1]["settlements_total"].sum() > 0  # the settlement rounds ran, chunk by chunk


def test_location_choice_does_not_depend_on_its_chunk_size(monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.phases import choice

    monkeypatch.setattr(choice, "CHUNK", 250)
    small = _tables(threads=1)
    monkeypatch.setattr(choice, "CHUNK", 4000)
    large = _tables(threads=1)
    pd.testing.assert_frame_equal(small[0], large[0])
