"""Sparse Bernoulli sampling: who, among millions, has a rare event this step.

Drawing one uniform per migrant costs a pass over every migrant for events that touch a fraction of a per cent
of them (home purchases). Thinning gives exactly the same distribution: pick each migrant with the largest
probability ``p_max`` (a binomial count of distinct positions, uniformly without replacement), then keep each
picked migrant with probability ``p_i / p_max``. Above ``SPARSE_BELOW`` a dense draw is faster and is used.
"""

from __future__ import annotations

import numpy as np

from sim.parallel import ordered_map

__all__ = ["bernoulli_rows", "SPARSE_BELOW", "BLOCK"]

SPARSE_BELOW = 0.01  # above this probability a dense draw is faster (measured: 75,000 of 1.5 m rows)
BLOCK = 1 << 20     # rows per generator of a dense draw


def _distinct_positions(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """``k`` distinct positions below ``n``, uniformly, sorted, in O(k) memory.

    ``Generator.choice(n, k, replace=False)`` allocates an index array of all ``n`` rows; drawing with
    replacement and redrawing the duplicates is a uniform subset too, and touches only ``k`` values.
    """
    if k >= n:
        return np.arange(n)
    picked = np.unique(rng.integers(0, n, size=k))
    while len(picked) < k:
        picked = np.union1d(picked, rng.integers(0, n, size=k - len(picked)))
    return picked


def bernoulli_rows(rng: np.random.Generator, n: int, probability: np.ndarray | float,
                   eligible: np.ndarray | None = None, threads: int = 1) -> np.ndarray:
    """Rows ``i < n`` that have the event, each independently with ``probability[i]`` (or one probability for
    all), among the rows where ``eligible`` holds; sorted.

    When the event is not rare, each block of ``BLOCK`` rows draws one float32 uniform per row from its own
    generator, seeded from ``rng`` in block order, so the blocks can be drawn on ``threads`` threads with the
    same result for any number of them (``sim.parallel``).
    """
    p = np.asarray(probability)   # kept in its dtype: a float64 copy would cost 8 bytes a row
    p_max = float(p.max()) if p.size else 0.0
    if n == 0 or p_max <= 0:
        return np.zeros(0, dtype=np.int64)
    if p_max > SPARSE_BELOW:
        # not rare: one float32 uniform per row is cheaper than drawing distinct positions
        starts = range(0, n, BLOCK)
        seeds = rng.integers(2**63, size=len(starts))

        def block_hits(block: int) -> np.ndarray:
            begin = starts[block]
            end = min(begin + BLOCK, n)
            draws = np.random.default_rng(seeds[block]).random(end - begin, dtype=np.float32)
            hit = draws < (p[begin:end] if p.ndim else p_max)
            if eligible is not None:
                hit &= eligible[begin:end]
            return np.flatnonzero(hit) + begin

        return np.concatenate(list(ordered_map(block_hits, range(len(starts)), threads)))
    k = rng.binomial(n, min(p_max, 1.0))
    picked = _distinct_positions(rng, n, k)
    if eligible is not None:
        picked = picked[eligible[picked]]
    if p.ndim:
        picked = picked[rng.random(len(picked)) * p_max < p[picked]]
    return picked
