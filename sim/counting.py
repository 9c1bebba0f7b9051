"""Counting migrants by category without large temporaries.

``np.bincount`` converts its input to 64-bit integers; on a column of millions of one-byte district codes that is
a temporary eight times the column. Counting in blocks keeps the temporary at one block.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.parallel import ordered_map
from sim.params import ORIGINS

if TYPE_CHECKING:
    from sim.model import HukouModel

__all__ = ["count_by", "presence_counts", "BLOCK"]

BLOCK = 1 << 18


def count_by(codes: np.ndarray, minlength: int, where: np.ndarray | None = None,
             weights: np.ndarray | None = None, threads: int = 1) -> np.ndarray:
    """Counts (or sums of ``weights``) per code ``0 … minlength−1`` over the entries where ``where`` holds.

    Negative codes are not counted (a migrant who has left has district −1). Excluded entries are sent to a spare
    bin rather than filtered out, which avoids copying the kept entries. Blocks are counted on ``threads``
    threads and added in order (integer counts: the same whatever the number of threads).
    """
    def count_block(begin: int) -> np.ndarray:
        block = codes[begin:begin + BLOCK]
        keep = block >= 0
        if where is not None:
            keep &= where[begin:begin + BLOCK]
        bins = np.where(keep, block, minlength)
        w = None if weights is None else weights[begin:begin + BLOCK]
        return np.bincount(bins, weights=w, minlength=minlength + 1)

    out = np.zeros(minlength + 1, dtype=np.float64 if weights is not None else np.int64)
    for counts in ordered_map(count_block, range(0, len(codes), BLOCK), threads):
        out += counts
    return out[:minlength]


def presence_counts(model: HukouModel, threads: int = 1) -> np.ndarray:
    """Agents present by origin × district × skill tier × employed, in one pass over the population.

    Markets (occupants by district, workers by district and tier) and the network term of location choice (origin
    by district) read the same state in the same step; one pass of counting serves all three.
    """
    pop, n_d = model.population, model.geography.n
    shape = (len(ORIGINS), n_d, 3, 2)

    bins = int(np.prod(shape))

    def count_block(begin: int) -> np.ndarray:
        district = pop["district"][begin:begin + BLOCK]
        code = ((pop["origin"][begin:begin + BLOCK].astype(np.int16) * n_d + district) * 3
                + pop["tier"][begin:begin + BLOCK]) * 2 + pop["employed"][begin:begin + BLOCK]
        return np.bincount(np.where(district >= 0, code, bins), minlength=bins + 1)[:bins]  # spare bin: gone

    total = np.zeros(bins, dtype=np.int64)
    for counts in ordered_map(count_block, range(0, len(pop), BLOCK), threads):
        total += counts
    return total.reshape(shape)
