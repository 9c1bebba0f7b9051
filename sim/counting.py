"""Counting migrants by category without large temporaries.

``np.bincount`` converts its input to 64-bit integers; on a column of millions of one-byte district codes that is
a temporary eight times the column. Counting in blocks keeps the temporary at one block.
"""

from __future__ import annotations

import numpy as np

__all__ = ["count_by", "BLOCK"]

BLOCK = 1 << 20


def count_by(codes: np.ndarray, minlength: int, where: np.ndarray | None = None,
             weights: np.ndarray | None = None) -> np.ndarray:
    """Counts (or sums of ``weights``) per code ``0 … minlength−1`` over the entries where ``where`` holds.

    Negative codes are not counted (a migrant who has left has district −1). Excluded entries are sent to a spare
    bin rather than filtered out, which avoids copying the kept entries.
    """
    out = np.zeros(minlength + 1, dtype=np.float64 if weights is not None else np.int64)
    for begin in range(0, len(codes), BLOCK):
        block = codes[begin:begin + BLOCK]
        keep = block >= 0
        if where is not None:
            keep &= where[begin:begin + BLOCK]
        bins = np.where(keep, block, minlength)
        w = None if weights is None else weights[begin:begin + BLOCK]
        out += np.bincount(bins, weights=w, minlength=minlength + 1)
    return out[:minlength]
