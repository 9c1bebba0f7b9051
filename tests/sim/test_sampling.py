"""Sparse Bernoulli sampling has the distribution of one independent draw per row."""

from __future__ import annotations

import numpy as np

from sim.sampling import bernoulli_rows


def test_each_row_has_its_own_probability_and_only_eligible_rows_are_drawn() -> None:
    rng = np.random.default_rng(0)
    n, reps = 20_000, 400
    p = np.where(np.arange(n) % 2 == 0, 0.002, 0.008)   # sparse path (below SPARSE_BELOW)
    eligible = np.arange(n) % 5 != 0
    hits = np.zeros(n)
    for _ in range(reps):
        rows = bernoulli_rows(rng, n, p, eligible=eligible)
        assert np.all(np.diff(rows) > 0) and eligible[rows].all()
        hits[rows] += 1
    rate = hits / reps
    for parity, expected in ((0, 0.002), (1, 0.008)):
        mask = eligible & (np.arange(n) % 2 == parity)
        observed = rate[mask].mean()
        se = np.sqrt(expected * (1 - expected) / (reps * mask.sum()))
        assert abs(observed - expected) < 4 * se, (parity, observed, expected)
    assert rate[~eligible].sum() == 0


def test_dense_path_for_common_events() -> None:
    rng = np.random.default_rng(2)
    p = np.full(50_000, 0.05)
    rows = bernoulli_rows(rng, len(p), p, eligible=np.arange(len(p)) < 40_000)
    assert rows.max() < 40_000 and abs(len(rows) - 2_000) < 4 * np.sqrt(2_000)


def test_scalar_probability_and_degenerate_cases() -> None:
    rng = np.random.default_rng(1)
    rows = bernoulli_rows(rng, 100_000, 0.05)
    assert abs(len(rows) - 5_000) < 4 * np.sqrt(100_000 * 0.05 * 0.95)
    assert len(bernoulli_rows(rng, 0, 0.5)) == 0
    assert len(bernoulli_rows(rng, 10, 0.0)) == 0
    assert len(bernoulli_rows(rng, 10, 1.0)) == 10
