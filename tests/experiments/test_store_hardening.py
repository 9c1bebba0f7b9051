"""The results store reads only the sweep's own files (issue 12, item 9)."""

from __future__ import annotations

import shutil
from pathlib import Path

from experiments.store import connect
from experiments.sweep import run_sweep


def test_a_run_folder_symlinked_outside_the_sweep_is_left_out(tiny_spec: Path, tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    assert run_sweep(tiny_spec, sweep, workers=1, summarise=False).ok
    runs = sorted(p for p in (sweep / "runs").iterdir() if p.name.startswith("s"))
    victim = runs[0]
    outside = Path(shutil.copytree(victim, tmp_path / "elsewhere" / victim.name))
    shutil.rmtree(victim)
    victim.symlink_to(outside, target_is_directory=True)
    con = connect(sweep)
    try:
        ids = {r[0] for r in con.sql("SELECT DISTINCT run_id FROM city_year").fetchall()}
    finally:
        con.close()
    assert victim.name not in ids
    assert ids == {p.name for p in runs[1:]}
