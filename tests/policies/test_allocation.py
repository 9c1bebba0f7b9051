"""The quota round's allocation as a pure function (issue 10, item 2): ranking, the tie rule at the cut-off, and
admission up to the quota, on cases small enough to check by hand."""

from __future__ import annotations

import numpy as np
import pytest

from policies.allocation import admit, rank

# (scores, months, quota, admit_ties, expected admitted indices best first, expected ties)
CASES = [
    # ranked by score, then by months; the lottery only orders full ties
    ([90, 80, 80, 70], [10, 30, 20, 50], 2, False, [0, 1], 0),
    # quota larger than the queue: everyone, in order
    ([60, 95], [0, 0], 5, False, [1, 0], 0),
    # a tie on every key at the last place: with admit_ties both tied applicants are admitted
    ([90, 80, 80, 80, 70], [10, 20, 20, 20, 5], 2, True, [0, 1, 2, 3], 2),
    # ... without it, the lottery decides and the quota holds
    ([90, 80, 80, 80, 70], [10, 20, 20, 20, 5], 2, False, [0, 1], 0),
    # a tie on the first key only is not a tie: months break it
    ([90, 80, 80], [10, 5, 20], 2, True, [0, 2], 0),
    # no places: nobody
    ([90, 80], [1, 1], 0, True, [], 0),
]


@pytest.mark.parametrize(("scores", "months", "quota", "ties_rule", "expected", "ties"), CASES)
def test_admission_follows_the_ranking_and_the_tie_rule(scores: list[int], months: list[int], quota: int,
                                                       ties_rule: bool, expected: list[int], ties: int) -> None:
    keys = [np.asarray(scores, dtype=float), np.asarray(months, dtype=float)]
    lottery = np.linspace(0.0, 1.0, len(scores))  # fixed: index order among full ties
    result = admit(keys, quota, lottery, admit_ties=ties_rule)
    assert result.chosen.tolist() == expected and result.ties == ties


def test_the_lottery_orders_only_full_ties() -> None:
    keys = [np.array([5.0, 5.0, 9.0])]
    assert rank(keys, np.array([0.9, 0.1, 0.5])).tolist() == [2, 1, 0]
    assert rank(keys, np.array([0.1, 0.9, 0.5])).tolist() == [2, 0, 1]
