"""Seeds from identity: a run's seed is a function of the root seed, its scenario and its replicate, never of order.

``SeedSequence(root, spawn_key=(scenario, replicate))`` gives statistically independent streams for every run,
and because the scenario key is a hash of the scenario's values (not its position in a design), the same scenario
gets the same seeds in a subset of a sweep, in a resumed sweep, or in another spec that contains it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

__all__ = ["scenario_key", "run_seed", "common_seed", "run_id"]

_KEY_BITS = 60  # fits SQLite's and Parquet's signed 64-bit integers


def scenario_key(values: dict[str, Any]) -> int:
    """A stable integer identity of a scenario: a hash of its factor values (names sorted, JSON-encoded)."""
    text = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return int(hashlib.sha256(text.encode()).hexdigest()[: _KEY_BITS // 4], 16)


def run_seed(root_seed: int, scenario: int, replicate: int) -> int:
    """The model seed of one run: 63 bits drawn from ``SeedSequence(root, spawn_key=(scenario, replicate))``."""
    state = np.random.SeedSequence(root_seed, spawn_key=(scenario, replicate)).generate_state(2, np.uint32)
    return (int(state[0]) << 31) | (int(state[1]) >> 1)


# The first spawn-key word of common seeds: not a scenario key (those are below 2**60), so the two never meet.
_COMMON = 1 << 62


def common_seed(root_seed: int, draw: int, replicate: int) -> int:
    """The model seed of seed replicate ``replicate`` of parameter draw ``draw``, the same in every scenario (so a
    reform and its baseline run on common draws and seeds and their difference is paired)."""
    state = np.random.SeedSequence(root_seed, spawn_key=(_COMMON, draw, replicate)).generate_state(2, np.uint32)
    return (int(state[0]) << 31) | (int(state[1]) >> 1)


def run_id(scenario: int, replicate: int) -> str:
    """The folder name of one run: scenario key in hex and replicate number, sortable and unique."""
    return f"s{scenario:015x}-r{replicate:04d}"
