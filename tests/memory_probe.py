"""Peak memory of a block of code, for the tests that check memory stays bounded.

Two measures, taken together: the peak of Python's and NumPy's allocations (``tracemalloc``,
exact, blind to GDAL's own buffers) and the growth of the process's resident memory (sampled
every 20 ms, sees everything, including GDAL's block cache).

The tests that use the ``peak_memory`` fixture are in the ``memory`` lane (:mod:`tests.lanes`):
they move rasters of hundreds of megapixels, so ``make test`` runs them and ``make test-fast``
leaves them out.
"""

from __future__ import annotations

import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psutil

__all__ = ["Peak", "measure_peak"]


@dataclass
class Peak:
    """What :func:`measure_peak` saw, in bytes (both 0 until the block ends)."""

    traced: int = 0
    """Peak of the allocations Python and NumPy made in the block (``tracemalloc``)."""
    rss_growth: int = 0
    """Peak resident memory of the process in the block, less what it held before."""

    @property
    def traced_mb(self) -> float:
        """:attr:`traced` in MB (10⁶ bytes)."""
        return self.traced / 1e6

    @property
    def rss_growth_mib(self) -> float:
        """:attr:`rss_growth` in MiB."""
        return self.rss_growth / 2**20


@contextmanager
def measure_peak(*, traced: bool = True, interval: float = 0.02) -> Iterator[Peak]:
    """Measure the peak memory of the ``with`` block; the result is filled in when it ends.

    Args:
        traced: Also trace Python's allocations (slows allocation-heavy code).
        interval: Seconds between two samples of the resident memory.
    """
    peak = Peak()
    process = psutil.Process()
    baseline = process.memory_info().rss
    highest = [baseline]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            highest[0] = max(highest[0], process.memory_info().rss)
            time.sleep(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    if traced:
        tracemalloc.start()
    sampler.start()
    try:
        yield peak
        if traced:
            peak.traced = tracemalloc.get_traced_memory()[1]
    finally:
        done.set()
        sampler.join()
        if traced:
            tracemalloc.stop()
        highest[0] = max(highest[0], process.memory_info().rss)
        peak.rss_growth = highest[0] - baseline
