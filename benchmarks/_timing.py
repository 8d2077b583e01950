"""Timing helper shared by the benchmark scripts (run as ``python benchmarks/<script>.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_of(
    fn: Callable[[], object], repeat: int, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Shortest time of ``repeat`` calls of ``fn`` (seconds) on ``clock`` (wall time by default;
    ``time.process_time`` for this process' CPU time): on a shared machine the minimum is the
    figure least disturbed by other processes."""
    best = float("inf")
    for _ in range(repeat):
        t0 = clock()
        fn()
        best = min(best, clock() - t0)
    return best
