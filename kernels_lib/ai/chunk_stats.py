"""Global statistics of rasters of any size, summed chunk by chunk (memory: a few chunks).

:func:`reduce_chunks` applies a function to every chunk of a ``(band, y, x)`` dask array and
sums the small vectors it returns in a dask tree reduction; the chunks keep their tiling
(nothing is ravelled or rechunked into rows, which for a 100k-pixel-wide raster would hold
a whole row of tiles in memory). :func:`robust_range` and :func:`chunk_histogram` build on it
to give the histogram an automatic threshold needs (:mod:`terralab.ai.thresholds`), with
the values outside the range counted too, so shares computed from it are exact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import dask.array as da
import numpy as np

__all__ = ["Histogram", "chunk_histogram", "reduce_chunks", "robust_range"]


def reduce_chunks(stack: da.Array, function: Callable[[np.ndarray], np.ndarray],
                  size: int) -> np.ndarray:
    """Sum ``function(chunk)`` over every chunk of a 3-D ``stack``.

    Args:
        stack: a ``(band, y, x)`` dask array; the bands are put in one chunk.
        function: a ``(band, h, w)`` chunk → a float64 vector of ``size`` numbers.
        size: the length of that vector.
    """
    stack = stack.rechunk({0: -1})
    parts = stack.map_blocks(lambda block: np.asarray(function(block), "float64")[None, None],
                             dtype="float64",
                             chunks=((1,), (1,) * len(stack.chunks[1]),
                                     (size,) * len(stack.chunks[2])))
    columns = len(stack.chunks[2])
    return parts.sum(axis=(0, 1)).compute().reshape(columns, size).sum(axis=0)


def robust_range(data: da.Array, *, sample: int = 1_000_000,
                 quantiles: tuple[float, float] = (0.001, 0.999)) -> tuple[float, float]:
    """The quantiles of the finite values of ``data``, from a regular grid of samples.

    The samples are every ``k``-th row and column (so about ``sample`` values), taken chunk
    by chunk.

    Raises:
        ValueError: when no value is finite.
    """
    rows, cols = data.shape[-2:]
    step = max(1, int(np.sqrt(rows * cols / sample)))
    values = np.asarray(data[..., ::step, ::step].compute()).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("no valid pixels")
    low, high = (float(v) for v in np.quantile(values, quantiles))
    return low, (high if high > low else low + 1e-6)


@dataclass(frozen=True)
class Histogram:
    """A histogram with the values below and above its range counted.

    Attributes:
        counts: the counts of each bin.
        edges: the bin edges (``len(counts) + 1``).
        below: finite values below ``edges[0]``.
        above: finite values above ``edges[-1]``.
    """

    counts: np.ndarray
    edges: np.ndarray
    below: float
    above: float

    @property
    def total(self) -> float:
        """All finite values."""
        return float(self.counts.sum() + self.below + self.above)

    def share_above(self, value: float) -> float:
        """The share of finite values above ``value``, to within one bin (exact at an edge).

        Values equal to a bin edge count as above it.
        """
        if self.total == 0:
            return 0.0
        first = int(np.searchsorted(self.edges, value, side="left"))
        if first == 0:
            return 1.0 - self.below / self.total
        return (float(self.counts[first:].sum()) + self.above) / self.total


def chunk_histogram(data: da.Array, *, bins: int = 1024,
                    value_range: tuple[float, float] | None = None) -> Histogram:
    """The histogram of the finite values of a ``(y, x)`` or ``(1, y, x)`` dask array.

    Args:
        data: the values.
        bins: the number of bins.
        value_range: the range; default :func:`robust_range` (one more pass).
    """
    if data.ndim == 2:
        data = data[None]
    low, high = value_range if value_range is not None else robust_range(data)
    edges = np.linspace(low, high, bins + 1)

    def counts(block: np.ndarray) -> np.ndarray:
        values = block[np.isfinite(block)]
        inside = np.histogram(values, bins=bins, range=(low, high))[0]
        below = np.count_nonzero(values < low)
        above = np.count_nonzero(values > high)  # np.histogram keeps == high in its last bin
        return np.concatenate([inside, [below, above]])

    totals = reduce_chunks(data, counts, bins + 2)
    return Histogram(counts=totals[:bins], edges=edges, below=float(totals[bins]),
                     above=float(totals[bins + 1]))
