"""Local image filters for the physically based AI tools (scipy.ndimage underneath).

Every filter here looks only at a fixed neighbourhood (stated in each docstring), so run
through :func:`terralab.ai.engine.tiled` with at least that halo it gives on a chunk exactly
what it gives on the whole image. Windows are truncated at the array's edges (statistics are
over the pixels that exist), and NaN / zero-weight pixels are left out of every statistic.

- :func:`box_mean`: the (weighted) mean over a ``(2r+1)²`` window;
- :func:`min_filter`: the minimum over a square window;
- :func:`median_filter`: the median over a square window;
- :func:`guided_filter`: He, Sun & Tang's guided filter (ECCV 2010 / TPAMI 2013), built on
  :func:`box_mean`, with an optional weight (pixels of weight 0 are ignored).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import ndimage

__all__ = ["box_mean", "guided_filter", "median_filter", "min_filter"]


def box_mean(values: np.ndarray, radius: int, weight: np.ndarray | None = None) -> np.ndarray:
    """The (weighted) mean of ``values`` over a ``(2r+1)²`` window (float64).

    Looks ``radius`` pixels around each pixel.

    Args:
        values: a 2-D array (NaN where ``weight`` is 0 is fine: it is ignored).
        radius: the window's radius.
        weight: per-pixel weights (1 valid, 0 ignored); default: all pixels count.

    Returns:
        The means; NaN where the window holds no weight.
    """
    values = np.asarray(values, dtype="float64")
    size = 2 * radius + 1
    weight = np.ones_like(values) if weight is None else np.asarray(weight, dtype="float64")
    total = ndimage.uniform_filter(np.where(weight > 0, values * weight, 0.0), size,
                                   mode="constant", cval=0.0)
    norm = ndimage.uniform_filter(weight, size, mode="constant", cval=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 1e-12, total / np.where(norm > 1e-12, norm, 1.0), np.nan)


def min_filter(values: np.ndarray, size: int) -> np.ndarray:
    """The minimum of ``values`` (2-D) over a ``size²`` window (odd size), NaN ignored.

    Looks ``size // 2`` pixels around each pixel; the result is float32 (``+inf`` where the
    whole window is NaN).
    """
    clean = np.where(np.isnan(values), np.inf, values).astype("float32")
    return ndimage.minimum_filter(clean, size=size, mode="constant", cval=np.inf)


def median_filter(values: np.ndarray, size: int, *, strip: int = 64) -> np.ndarray:
    """The median of ``values`` (2-D) over a ``size²`` window (odd size), NaN ignored.

    Looks ``size // 2`` pixels around each pixel. Without NaN this is
    ``scipy.ndimage.median_filter``; with NaN the windows' NaN-free medians are taken
    ``strip`` rows at a time (memory ``strip × width × size²`` values).
    """
    values = np.asarray(values, dtype="float32")
    if not np.isnan(values).any():
        return ndimage.median_filter(values, size=size, mode="nearest")
    radius = size // 2
    windows = sliding_window_view(np.pad(values, radius, constant_values=np.nan),
                                  (size, size))
    out = np.empty_like(values)
    with np.errstate(all="ignore"):
        for start in range(0, values.shape[0], strip):
            block = windows[start:start + strip].reshape(
                min(strip, values.shape[0] - start), values.shape[1], -1)
            empty = np.isnan(block).all(axis=-1)
            medians = np.nanmedian(np.where(empty[..., None], 0.0, block), axis=-1)
            out[start:start + strip] = np.where(empty, np.nan, medians)
    return out


def guided_filter(guide: np.ndarray, source: np.ndarray, radius: int, eps: float,
                  weight: np.ndarray | None = None) -> np.ndarray:
    """Filter ``source`` edge-preservingly, following the edges of ``guide`` (He et al.).

    The output is locally a linear function of the guide, ``q = ā·I + b̄``, where ``a, b``
    minimise ``Σ (a·I + b − p)² + eps·a²`` in each ``(2r+1)²`` window. It looks ``2·radius``
    pixels around each pixel (the window of the coefficients, then their mean).

    Args:
        guide: the guide image ``I`` (2-D, about 0…1 so that ``eps`` means what it says).
        source: the image ``p`` to filter (2-D).
        radius: the window radius ``r``.
        eps: the regularisation: edges with a variance well above ``eps`` are kept.
        weight: 1 where pixels count, 0 where they are ignored (nodata).

    Returns:
        The filtered image (float64).
    """
    guide = np.asarray(guide, dtype="float64")
    source = np.asarray(source, dtype="float64")
    if weight is not None:
        guide = np.where(weight > 0, guide, 0.0)
        source = np.where(weight > 0, source, 0.0)
    mean_i = box_mean(guide, radius, weight)
    mean_p = box_mean(source, radius, weight)
    cov_ip = box_mean(guide * source, radius, weight) - mean_i * mean_p
    var_i = box_mean(guide * guide, radius, weight) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    coefficient_weight = None if weight is None else np.isfinite(a).astype("float64")
    if coefficient_weight is not None:
        a, b = np.nan_to_num(a), np.nan_to_num(b)
    return box_mean(a, radius, coefficient_weight) * guide + \
        box_mean(b, radius, coefficient_weight)
