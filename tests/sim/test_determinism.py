"""Reproducibility: the same config and seed give byte-identical Parquet data; another seed differs."""

from __future__ import annotations

from pathlib import Path

from sim.config import RunConfig
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
