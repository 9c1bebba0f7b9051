"""Tiny sweeps shared by the experiments tests: the real model at 40,000 persons per agent for 2010–2011."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml


def write_spec(path: Path, **changes: Any) -> Path:
    """Write a small valid spec (two regimes × two replicates) with ``changes`` merged at the top level."""
    spec: dict[str, Any] = {
        "name": "tiny", "levers": {"regimes": ["historical", "talent_only"]}, "replications": 2,
        "scale": 40000, "start": 2010, "end": 2011, "root_seed": 11,
        "outcomes": ["hukou_share", "settlements_total"],
    }
    spec.update(changes)
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), "utf-8")
    return path


@pytest.fixture
def tiny_spec(tmp_path: Path) -> Path:
    """A spec of four tiny runs."""
    return write_spec(tmp_path / "tiny.yaml")
