"""Sparse Bernoulli sampling has the distribution of one independent draw per row."""

from __future__ import annotations

import numpy as np

from sim.sampling import bernoulli_rows


def test_each_row_has_its_own_probability_and_only_eligible_rows_are_drawn() -> None:
    rng = np.random.default_rng(0)
    n, reps = 2_000, 400
    p = np.where(np.arange(n) % 2 == 0, 0.02, 0.08)
    eligible = np.arange(n) % 5 != 0
    hits = np.zeros(n)
    for _ in range(reps):
        rows = bernoulli_rows(rng, n, p, eligible=eligible)
        assert np.all(np.diff(rows) > 0) and eligible[rows].all()
        hits[rows] += 1
    rate = hits / reps
    for parity, expected in ((0, 0.02), (1, 0.08)):
        mask = eligible & (np.arange(n) % 2 == parity)
        observed = rate[mask].mean()
        se = np.sqrt(expected * (1 - expected) / (reps * mask.sum()))
        assert abs(observed - expected) < 4 * se, (parity, observed, expected)
    assert rate[~eligible].sum() == 0


def test_scalar_probability_and_degenerate_cases() -> None:
    rng = np.random.default_rng(1)
    rows = bernoulli_rows(rng, 100_000, 0.05)
    assert abs(len(rows) - 5_000) < 4 * np.sqrt(100_000 * 0.05 * 0.95)
    assert len(bernoulli_rows(rng, 0, 0.5)) == 0
    assert len(bernoulli_rows(rng, 10, 0.0)) == 0
    assert len(bernoulli_rows(rng, 10, 1.0)) == 10
