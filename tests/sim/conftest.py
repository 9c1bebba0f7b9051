"""Small, fast model runs shared by the model tests (a few thousand agents)."""

from __future__ import annotations

import pytest

from sim.config import RunConfig
from sim.model import HukouModel


@pytest.fixture(scope="session")
def small_config() -> RunConfig:
    """About 8,000 agents on the census day, historical regimes, through 2017 (every regime change of 2016)."""
    return RunConfig(scale=2000, end=2017, seed=7)


@pytest.fixture(scope="session")
def small_run(small_config: RunConfig) -> HukouModel:
    """The small model run to its end."""
    return HukouModel(small_config).run()
