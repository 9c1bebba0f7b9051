"""Chunks of a phase evaluated on several threads, with results that do not depend on how many.

Why threads and not processes: the chunks read the whole model (the population's columns, each city's rules, the
choice weights) and numpy lets go of the interpreter lock inside its loops over arrays, so two threads keep both
cores busy with no copying (measured: two models stepping side by side in two threads do 1.5 times the work of
one). Why results stay the same: every random draw is made by the calling thread, in chunk order, either before a
chunk is handed out (``ordered_map`` pulls its items lazily, in order, on the calling thread) or after its result
comes back (results are yielded in order). Threads only evaluate what involves no randomness (rules, points,
logit weights), so one thread and two give byte-identical runs.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from typing import TYPE_CHECKING, TypeVar

import numpy as np

if TYPE_CHECKING:
    from sim.model import HukouModel

__all__ = ["ordered_map", "chunk_size", "split_rows"]

_PREFIX = "hukou-chunk"
Item = TypeVar("Item")
Result = TypeVar("Result")


@cache
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix=_PREFIX)


def ordered_map(fn: Callable[[Item], Result], items: Iterable[Item], threads: int) -> Iterator[Result]:
    """``fn(item)`` for each item, yielded in order, with at most ``threads`` evaluated ahead of the consumer.

    ``items`` is consumed lazily on the calling thread, so drawing random numbers while producing an item keeps
    the draws in chunk order; at most ``threads`` results wait at once, which bounds the memory of their
    temporaries. With ``threads <= 1`` this is a plain loop.
    """
    if threads <= 1 or threading.current_thread().name.startswith(_PREFIX):
        # One thread, or already on one of the pool's: a chunk waiting on chunks queued behind it could deadlock.
        for item in items:
            yield fn(item)
        return
    pool = _pool(threads)
    pending: deque[Future[Result]] = deque()
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) >= threads:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def chunk_size(model: HukouModel, smallest: int) -> int:
    """Migrants per batch of rule evaluation: ``smallest``, or a 64th of the population when that is larger.

    Small batches bound the memory of their temporaries (bytes per agent matter at a million agents); at full
    scale the same bytes are a rounding error and larger batches spend less time between numpy calls. It
    depends on the population alone, never on the number of threads, so a run stays reproducible (location
    choice does not depend on it at all; settlement rounds draw chunk by chunk, so theirs does).
    """
    return max(smallest, len(model.population) // 64)


def split_rows(model: HukouModel, rows: np.ndarray, smallest: int) -> list[np.ndarray]:
    """``rows`` in consecutive chunks of at most ``chunk_size(model, smallest)`` (sizes differ by one at most);
    no chunk when there are no rows."""
    if len(rows) == 0:
        return []
    return np.array_split(rows, -(-len(rows) // chunk_size(model, smallest)))
