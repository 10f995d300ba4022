"""Automatic thresholds on a bimodal histogram: Otsu and Kittler–Illingworth.

The histogram of a raster of any size is computed lazily, chunk by chunk (``dask.array``:
memory bounded by the chunk), on a fixed range with many bins; the threshold is then found on
the histogram alone. Otsu (1979) maximises the between-class variance; Kittler & Illingworth
(1986, "minimum error") fits two Gaussians and minimises the classification error, which
copes better with classes of very different sizes and spreads (a little water in a large
SAR scene). Both return a value in the data's units.
"""

from __future__ import annotations

from typing import Literal

import dask.array as da
import numpy as np
import xarray as xr

__all__ = ["histogram", "kittler_illingworth", "otsu", "threshold"]


def histogram(data: xr.DataArray | np.ndarray, *, bins: int = 1024,
              value_range: tuple[float, float] | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Counts and bin edges of the finite values of ``data`` (lazy data: chunk by chunk).

    Args:
        data: the values.
        bins: the number of bins.
        value_range: the histogram range; default the 0.1–99.9 % quantiles of a sample
            (robust to a few extreme pixels).
    """
    array = data.data if isinstance(data, xr.DataArray) else data
    if not isinstance(array, da.Array):
        array = da.from_array(np.asarray(array), chunks=2048)
    if value_range is None:
        # a strided sample keeps the array's chunks (no flattening into whole rows)
        spatial = min(2, array.ndim)
        step = max(1, int((array.size / 2_000_000) ** (1 / spatial)))
        index = (slice(None),) * (array.ndim - spatial) + (slice(None, None, step),) * spatial
        sample = np.asarray(array[index].compute()).ravel()
        sample = sample[np.isfinite(sample)]
        if sample.size == 0:
            raise ValueError("no valid pixels to threshold")
        low, high = np.quantile(sample, [0.001, 0.999])
        if high <= low:
            high = low + 1e-6
        value_range = (float(low), float(high))
    # da.histogram counts block by block (NaN and values out of range are not counted)
    counts, edges = da.histogram(array, bins=bins, range=value_range)
    return np.asarray(counts.compute(), dtype="float64"), np.asarray(edges)


def otsu(counts: np.ndarray, edges: np.ndarray) -> float:
    """Otsu's threshold: the cut that maximises the between-class variance."""
    centres = (edges[:-1] + edges[1:]) / 2
    weights = counts / max(counts.sum(), 1.0)
    w0 = np.cumsum(weights)
    w1 = 1.0 - w0
    m = np.cumsum(weights * centres)
    total = m[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total * w0 - m) ** 2 / (w0 * w1)
    between[~np.isfinite(between)] = -1
    return float(edges[int(np.argmax(between)) + 1])


def kittler_illingworth(counts: np.ndarray, edges: np.ndarray) -> float:
    """Kittler–Illingworth's minimum-error threshold (two Gaussian classes)."""
    centres = (edges[:-1] + edges[1:]) / 2
    p = counts / max(counts.sum(), 1.0)
    w0 = np.cumsum(p)
    w1 = 1.0 - w0
    m0 = np.cumsum(p * centres)
    s0 = np.cumsum(p * centres**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu0 = m0 / w0
        mu1 = (m0[-1] - m0) / w1
        var0 = s0 / w0 - mu0**2
        var1 = (s0[-1] - s0) / w1 - mu1**2
        cost = 1 + 2 * (w0 * np.log(np.sqrt(var0)) + w1 * np.log(np.sqrt(var1))) \
            - 2 * (w0 * np.log(w0) + w1 * np.log(w1))
    valid = np.isfinite(cost) & (var0 > 0) & (var1 > 0) & (w0 > 1e-4) & (w1 > 1e-4)
    if not valid.any():
        return otsu(counts, edges)
    cost[~valid] = np.inf
    return float(edges[int(np.argmin(cost)) + 1])


def threshold(data: xr.DataArray | np.ndarray, *, method: Literal["otsu", "ki"] = "otsu",
              bins: int = 1024, value_range: tuple[float, float] | None = None) -> float:
    """The automatic threshold of ``data`` by ``method`` (``"otsu"`` or ``"ki"``)."""
    counts, edges = histogram(data, bins=bins, value_range=value_range)
    return otsu(counts, edges) if method == "otsu" else kittler_illingworth(counts, edges)
