"""``sim.parallel.ordered_map``: results in order, items pulled lazily and never far ahead of the consumer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from sim.parallel import ordered_map


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_results_come_back_in_the_order_of_the_items(threads: int) -> None:
    def slow_for_early_items(i: int) -> int:
        time.sleep(0.002 * (10 - i))  # early items finish last
        return i * i

    assert list(ordered_map(slow_for_early_items, range(10), threads)) == [i * i for i in range(10)]


def test_items_are_pulled_on_the_calling_thread_at_most_threads_ahead() -> None:
    pulled: list[tuple[int, str]] = []

    def items() -> Iterator[int]:
        for i in range(8):
            pulled.append((i, threading.current_thread().name))
            yield i

    results = ordered_map(lambda i: i, items(), 2)
    assert next(results) == 0
    assert len(pulled) == 2  # item 1 is under way, item 2 not yet drawn
    assert list(results) == list(range(1, 8))
    assert {name for _, name in pulled} == {threading.current_thread().name}


def test_an_error_in_a_chunk_reaches_the_caller() -> None:
    def fail_on_three(i: int) -> int:
        if i == 3:
            raise ValueError("chunk 3")
        return i

    with pytest.raises(ValueError, match="chunk 3"):
        list(ordered_map(fail_on_three, range(6), 2))


def test_a_chunk_may_map_chunks_of_its_own() -> None:
    """On a pool thread the inner map runs in line: waiting on chunks queued behind oneself would deadlock."""
    def inner(i: int) -> int:
        return sum(ordered_map(lambda j: i * j, range(4), 2))

    assert list(ordered_map(inner, range(6), 2)) == [6 * i for i in range(6)]
