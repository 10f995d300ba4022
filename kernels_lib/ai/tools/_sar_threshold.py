"""The water threshold of a SAR scene: tile histograms, bimodal tile selection, Otsu / KI.

In a large scene water is often a few per cent of the pixels and the scene's histogram is
not bimodal, so a threshold found on it is poor. The split-based approach (Martinis, Twele &
Voigt 2009; the bimodality test of Chini et al. 2017) looks at tiles instead: the histogram
of every tile (``tile`` pixels square) is computed lazily in one pass (memory: one chunk in
flight, plus ``tiles × bins`` int32 counts), each tile is split in two by Otsu, and tiles
are kept when they are clearly bimodal (Ashman's D ≥ 2), both classes cover at least 10 %
of their valid pixels, and the darker class is water-like: its mean lies below the
scene-wide threshold and below a generous physical ceiling for calm open water at C band
(:data:`WATER_CEILING`: VV −15 dB, VH −22 dB, their mean −18.5 dB), so that tiles split
between two kinds of land (dark and bright fields) do not vote when water is rare. The
threshold (``otsu`` or ``ki``) of the kept tiles' summed histogram is the scene's; with no
tile kept, the scene-wide histogram's is used.

Histograms are taken in decibels on a fixed range (:data:`DB_RANGE`, 0.125 dB bins); values
outside it count in the end bins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dask.array as da
import numpy as np

from terralab.ai.thresholds import kittler_illingworth, otsu

__all__ = ["BINS", "DB_RANGE", "WATER_CEILING", "SceneThreshold", "hist_chunk",
           "scene_threshold", "tile_histograms"]

DB_RANGE = (-45.0, 10.0)
BINS = 440
WATER_CEILING = {"vv": -15.0, "vh": -22.0, "vv+vh": -18.5}
"""The highest dark-class mean (dB) of a tile that may vote for the water threshold."""


@dataclass(frozen=True)
class SceneThreshold:
    """A scene's threshold and how it was found.

    Attributes:
        value: the threshold (dB): water is darker.
        scope: ``"tiles"`` (from the bimodal tiles) or ``"global"``.
        tiles_used: how many tiles were kept (0 with the global histogram).
        tiles_total: how many tiles held data.
        below: valid pixels darker than the threshold, counted from the histogram.
        valid: valid pixels of the scene.
        notes: why the global histogram was used, when it was.
    """

    value: float
    scope: str
    tiles_used: int
    tiles_total: int
    below: int
    valid: int
    notes: dict[str, Any] = field(default_factory=dict)


def tile_histograms(feature: da.Array, tile: int) -> tuple[np.ndarray, np.ndarray]:
    """Histograms of every ``tile``² tile of a 2-D lazy dB array, and each tile's size.

    Tiles start at the array's origin. When every chunk is a whole number of tiles (see
    :func:`hist_chunk`) each chunk is cut into its tiles where it lies; otherwise the array
    is rechunked to the tiles first.

    Returns:
        ``(counts, sizes)``: int32 counts ``(tiles_y, tiles_x, BINS)`` and the pixel count
        of each tile ``(tiles_y, tiles_x)``.
    """
    aligned = all(c % tile == 0 for axis in feature.chunks for c in axis[:-1])
    array = feature if aligned else feature.rechunk((tile, tile))
    low, high = DB_RANGE
    step = (high - low) / BINS

    def block_histograms(block: np.ndarray) -> np.ndarray:
        rows, cols = -(-block.shape[0] // tile), -(-block.shape[1] // tile)
        out = np.zeros((rows, cols, BINS), dtype="int32")
        for r in range(rows):
            for c in range(cols):
                values = block[r * tile:(r + 1) * tile, c * tile:(c + 1) * tile]
                values = values[np.isfinite(values)]
                index = np.clip(((values - low) / step).astype("int64"), 0, BINS - 1)
                out[r, c] = np.bincount(index, minlength=BINS)
        return out

    def tiles_of(sizes: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(-(-size // tile) for size in sizes)

    counts = array.map_blocks(block_histograms, new_axis=2, dtype="int32",
                              chunks=(tiles_of(array.chunks[0]), tiles_of(array.chunks[1]),
                                      (BINS,)))
    height, width = array.shape
    edges_y = np.minimum(np.arange(0, height, tile) + tile, height) - np.arange(0, height, tile)
    edges_x = np.minimum(np.arange(0, width, tile) + tile, width) - np.arange(0, width, tile)
    return np.asarray(counts.compute()), np.outer(edges_y, edges_x)


def hist_chunk(chunk: int, tile: int) -> int:
    """A chunk size near ``chunk`` that holds whole tiles (so no rechunking is needed)."""
    return tile * max(1, round(chunk / tile))


def _edges() -> np.ndarray:
    return np.linspace(*DB_RANGE, BINS + 1)


def _cut(counts: np.ndarray, method: str) -> float:
    edges = _edges()
    return otsu(counts, edges) if method == "otsu" else kittler_illingworth(counts, edges)


def _bimodal(counts: np.ndarray, below_global: float) -> np.ndarray:
    """Which tiles (rows of ``counts``) are clearly bimodal with a water-like dark class."""
    centres = (_edges()[:-1] + _edges()[1:]) / 2
    total = counts.sum(axis=1, keepdims=True).astype("float64")
    p = counts / np.maximum(total, 1.0)
    w0 = np.cumsum(p, axis=1)
    m0 = np.cumsum(p * centres, axis=1)
    s0 = np.cumsum(p * centres**2, axis=1)
    mean, square = m0[:, -1:], s0[:, -1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean * w0 - m0) ** 2 / (w0 * (1.0 - w0))
        between[~np.isfinite(between)] = -1.0
        k = np.argmax(between, axis=1)[:, None]
        w = np.take_along_axis(w0, k, axis=1)[:, 0]
        mu0 = np.take_along_axis(m0, k, axis=1)[:, 0] / w
        mu1 = (mean[:, 0] - np.take_along_axis(m0, k, axis=1)[:, 0]) / (1.0 - w)
        var0 = np.take_along_axis(s0, k, axis=1)[:, 0] / w - mu0**2
        var1 = (square[:, 0] - np.take_along_axis(s0, k, axis=1)[:, 0]) / (1.0 - w) - mu1**2
        ashman = np.sqrt(2.0) * np.abs(mu1 - mu0) / np.sqrt(np.maximum(var0 + var1, 1e-12))
    return (np.isfinite(ashman) & (ashman >= 2.0) & (w >= 0.1) & (w <= 0.9)
            & (mu0 < below_global))


def scene_threshold(counts: np.ndarray, sizes: np.ndarray, *, method: str = "otsu",
                    scope: str = "tiles", ceiling: float | None = None) -> SceneThreshold:
    """The water threshold from tile histograms (see the module's docs).

    Args:
        counts: ``(tiles_y, tiles_x, BINS)`` tile histograms (:func:`tile_histograms`).
        sizes: each tile's pixel count.
        method: ``"otsu"`` or ``"ki"`` (Kittler–Illingworth).
        scope: ``"tiles"`` (bimodal tile selection) or ``"global"`` (the whole histogram).
        ceiling: the highest dark-class mean of a voting tile (dB; :data:`WATER_CEILING`),
            or None for no physical bound.

    Raises:
        ValueError: when the scene holds no valid pixel.
    """
    flat = counts.reshape(-1, BINS).astype("int64")
    valid = flat.sum(axis=1)
    if valid.sum() == 0:
        raise ValueError("the image holds no valid backscatter pixel")
    scene = flat.sum(axis=0)
    global_cut = _cut(scene, method)
    used = valid >= 0.5 * sizes.reshape(-1)
    notes: dict[str, Any] = {}
    chosen = np.zeros(len(flat), dtype=bool)
    if scope == "tiles":
        bound = global_cut if ceiling is None else min(global_cut, ceiling)
        chosen = used & _bimodal(flat, bound)
        if not chosen.any():
            notes["threshold_note"] = ("no clearly bimodal tile (water and land side by "
                                       "side): the whole scene's histogram was used")
    value = _cut(flat[chosen].sum(axis=0), method) if chosen.any() else global_cut
    below = int(scene[_edges()[1:] <= value + 1e-9].sum())
    return SceneThreshold(value=float(value), scope="tiles" if chosen.any() else "global",
                          tiles_used=int(chosen.sum()), tiles_total=int((valid > 0).sum()),
                          below=below, valid=int(valid.sum()), notes=notes)
