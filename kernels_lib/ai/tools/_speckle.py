"""Speckle filters for SAR intensity (σ⁰ in linear power), in plain numpy.

Speckle is multiplicative: ``I = x·n`` with ``E[n] = 1`` and ``var(n) = 1/ENL`` for an
intensity image of ``ENL`` equivalent looks (Sentinel-1 GRDH IW: about 4.4). Both Lee
filters estimate ``x`` as ``x̂ = m + k·(I − m)`` from the local mean ``m`` and variance ``v``:
the signal variance is ``v_x = (v − m²·Cu²) / (1 + Cu²)`` with ``Cu² = 1/ENL`` and
``k = v_x / v`` in [0, 1] — 0 on homogeneous areas (pure speckle: the mean), 1 on edges and
point targets (kept).

- :func:`lee`: Lee (1980), statistics over a square window.
- :func:`refined_lee`: Lee (1981), 7×7: the local edge direction is found from the nine 3×3
  means of the window (four directions), and the statistics are taken over the half of the
  window (one of eight edge-aligned masks) on the pixel's side of the edge, so edges (a
  river bank) are not blurred.

NaN pixels (nodata) are left out of every statistic and stay NaN.
"""

from __future__ import annotations

import numpy as np

from terralab.ai.tools._filters import box_mean

__all__ = ["lee", "refined_lee"]


def _lee_estimate(values: np.ndarray, mean: np.ndarray, variance: np.ndarray,
                  enl: float) -> np.ndarray:
    cu2 = 1.0 / enl
    with np.errstate(invalid="ignore", divide="ignore"):
        signal = (variance - mean * mean * cu2) / (1.0 + cu2)
        gain = np.clip(np.where(variance > 0, signal / variance, 0.0), 0.0, 1.0)
    out = mean + gain * (values - mean)
    return np.where(np.isnan(values), np.nan, out)


def lee(values: np.ndarray, *, size: int = 7, enl: float = 4.4) -> np.ndarray:
    """Lee's filter over a ``size²`` window (looks ``size // 2`` pixels around).

    Args:
        values: σ⁰ in linear power (2-D, NaN = nodata).
        size: the window (odd).
        enl: the equivalent number of looks.
    """
    values = np.asarray(values, dtype="float64")
    valid = np.isfinite(values).astype("float64")
    clean = np.where(valid > 0, values, 0.0)
    radius = size // 2
    mean = box_mean(clean, radius, valid)
    variance = np.maximum(box_mean(clean * clean, radius, valid) - mean * mean, 0.0)
    return _lee_estimate(values, mean, variance, enl).astype("float32")


def _masks() -> list[np.ndarray]:
    """The eight edge-aligned half windows (7×7, 28 pixels each, centre line included).

    In the order of :func:`_direction`: for each of the four gradient directions, the side
    holding the first of the two compared 3×3 means, then the other side.
    """
    rows, cols = np.mgrid[0:7, 0:7]
    return [cols <= 3, cols >= 3,                      # left / right (a vertical edge)
            rows <= 3, rows >= 3,                      # top / bottom (a horizontal edge)
            rows + cols <= 6, rows + cols >= 6,        # top-left / bottom-right
            cols >= rows, cols <= rows]                # top-right / bottom-left


def _direction(means: dict[tuple[int, int], np.ndarray]) -> np.ndarray:
    """The index (0…7) of the half window to use at each pixel.

    ``means[(i, j)]`` is the 3×3 mean centred ``2i, 2j`` pixels away (i, j in −1, 0, 1). The
    strongest of the four gradients gives the edge direction; the side whose mean is closer
    to the centre's is the side the pixel belongs to.
    """
    centre = means[(0, 0)]
    pairs = [((0, -1), (0, 1)), ((-1, 0), (1, 0)), ((-1, -1), (1, 1)), ((-1, 1), (1, -1))]
    gradients = np.stack([np.abs(means[a] - means[b]) for a, b in pairs])
    strongest = np.argmax(np.nan_to_num(gradients, nan=-1.0), axis=0)
    first = np.stack([np.abs(means[a] - centre) for a, _ in pairs])
    second = np.stack([np.abs(means[b] - centre) for _, b in pairs])
    other_side = np.take_along_axis(first > second, strongest[None], axis=0)[0]
    return 2 * strongest + other_side.astype(int)


def _row_runs(mask: np.ndarray) -> list[tuple[int, int, int]]:
    """A 7×7 mask as ``(row, first column, last column + 1)`` runs (each row is one run)."""
    runs = []
    for row in range(7):
        cols = np.nonzero(mask[row])[0]
        if cols.size:
            runs.append((row, int(cols[0]), int(cols[-1]) + 1))
    return runs


def refined_lee(values: np.ndarray, *, enl: float = 4.4) -> np.ndarray:
    """Lee's refined 7×7 filter (looks 3 pixels around).

    Each half window's sums are made of seven row runs, each the difference of two row-wise
    cumulative sums, so a chunk costs about 8 × 7 array additions per statistic.

    Args:
        values: σ⁰ in linear power (2-D, NaN = nodata).
        enl: the equivalent number of looks.
    """
    values = np.asarray(values, dtype="float64")
    height, width = values.shape
    valid = np.isfinite(values).astype("float64")
    clean = np.where(valid > 0, values, 0.0)
    local = box_mean(clean, 1, valid)  # 3×3 means
    padded_local = np.pad(local, 2, mode="edge")
    means = {(i, j): padded_local[2 + 2 * i:2 + 2 * i + height, 2 + 2 * j:2 + 2 * j + width]
             for i in (-1, 0, 1) for j in (-1, 0, 1)}
    choice = _direction(means)
    stack = np.pad(np.stack([clean, clean * clean, valid]), ((0, 0), (3, 3), (3, 3)))
    cumulative = np.concatenate([np.zeros((*stack.shape[:2], 1)), np.cumsum(stack, axis=2)],
                                axis=2)
    mean = np.zeros((height, width))
    variance = np.zeros((height, width))
    for index, mask in enumerate(_masks()):
        where = choice == index
        if not where.any():
            continue
        sums = np.zeros((3, height, width))
        for row, first, stop in _row_runs(mask):
            rows = slice(row, row + height)
            sums += cumulative[:, rows, stop:stop + width]
            sums -= cumulative[:, rows, first:first + width]
        with np.errstate(invalid="ignore", divide="ignore"):
            m = sums[0] / sums[2]
            v = np.maximum(sums[1] / sums[2] - m * m, 0.0)
        mean = np.where(where, m, mean)
        variance = np.where(where, v, variance)
    return _lee_estimate(values, mean, variance, enl).astype("float32")
