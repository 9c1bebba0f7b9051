"""The quota round's allocation: who among the applicants gets one of ``quota`` places.

Why in ``policies``: the order of applicants, the tie rule at the cut-off and the admission up to the quota are
what the texts prescribe (广州市积分制入户管理办法实施细则 第八条: ranked by score, then by the named months;
成都市居住证积分管理办法 likewise), not model mechanics. As a pure function of arrays it is tested on its own and
the model only gathers the applicants, draws the lottery and applies the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Admission", "rank", "admit"]


@dataclass(frozen=True)
class Admission:
    """The outcome of one round: ``chosen`` indexes the applicants admitted, best first; ``ties`` of them were
    admitted beyond the quota because they tied with the last place (``admit_ties``)."""

    chosen: np.ndarray
    ties: int


def rank(keys: list[np.ndarray], lottery: np.ndarray) -> np.ndarray:
    """Order of applicants, best first: by each key in turn (larger is better), then by lottery (smaller first)."""
    return np.lexsort([lottery, *[-np.asarray(k, dtype=np.float64) for k in reversed(keys)]])


def admit(keys: list[np.ndarray], quota: int, lottery: np.ndarray, *, admit_ties: bool) -> Admission:
    """Admit up to ``quota`` applicants in ``rank`` order. With ``admit_ties``, everyone tied on every key with the
    last admitted is admitted too (the texts' 同分同录); without it the lottery breaks the tie."""
    n = len(lottery)
    if n == 0 or quota <= 0:
        return Admission(np.zeros(0, dtype=np.int64), 0)
    order = rank(keys, lottery)
    take = min(quota, n)
    within_quota = take
    if take < n and admit_ties:
        last = order[take - 1]
        tied = np.all([k[order[take:]] == k[last] for k in keys], axis=0)
        take += int(np.cumprod(tied).sum())
    return Admission(order[:take], take - within_quota)
