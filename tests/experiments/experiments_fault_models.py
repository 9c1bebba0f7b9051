"""Test-only run models for fault injection (never used by production code): importable by spawned workers
because pytest puts this folder on ``sys.path`` and ``spawn`` children inherit the parent's ``sys.path``."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from experiments.runner import simulate
from sim.config import RunConfig


def raise_or_crash(config: RunConfig, out: Path) -> None:
    """beta_rent below 1.05 raises, above 1.35 kills its own process, otherwise the real model runs."""
    if config.behaviour.beta_rent < 1.05:
        raise ValueError("injected failure for the test")
    if config.behaviour.beta_rent > 1.35:
        os._exit(13)
    simulate(config, out)


def fail_while_flagged(config: RunConfig, out: Path) -> None:
    """Fails while the file named by HUKOU_TEST_FLAG exists (a fault outside the run, such as a lost service), then
    runs the real model."""
    if Path(os.environ["HUKOU_TEST_FLAG"]).exists():
        raise RuntimeError("injected outside failure")
    simulate(config, out)


def disk_full_while_flagged(config: RunConfig, out: Path) -> None:
    """Writing fails with ENOSPC while the file named by HUKOU_TEST_FLAG exists, then the real model runs."""
    if Path(os.environ["HUKOU_TEST_FLAG"]).exists():
        raise OSError(errno.ENOSPC, "No space left on device (injected)")
    simulate(config, out)
