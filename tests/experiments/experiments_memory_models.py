"""Test-only run model that asks for more memory than a worker may have (never used by production code):
importable by spawned workers because pytest puts this folder on ``sys.path``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from experiments.runner import simulate
from sim.config import RunConfig


def hog_if_talent_only(config: RunConfig, out: Path) -> None:
    """The talent_only runs reserve 256 MB blocks up to 12 GiB (never touched: without a cap nothing is resident
    and the run ends with an error saying so); the other runs are the real model."""
    if "talent_only" not in config.regimes:
        simulate(config, out)
        return
    blocks = [np.empty(2**28, dtype=np.uint8) for _ in range(48)]
    raise RuntimeError(f"reserved {len(blocks) * 256} MB: the worker had no memory limit")
