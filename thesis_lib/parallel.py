"""Work spread over processes, results in input order, or run in this process for one worker."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor


def process_map(fn: Callable, items: Iterable, workers: int = 1, chunksize: int = 1) -> Iterator:
    """``fn(item)`` for each item, in order: in ``workers`` processes (``fn`` and the items must
    pickle), or here when ``workers`` is 1. Results are yielded as they come, so a caller that
    writes each one keeps memory bounded."""
    if workers < 1:
        raise ValueError(f"workers={workers}: must be >= 1")
    if workers == 1:
        yield from map(fn, items)
        return
    with ProcessPoolExecutor(workers) as pool:
        yield from pool.map(fn, items, chunksize=chunksize)
