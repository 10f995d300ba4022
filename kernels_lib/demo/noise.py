"""Seeded smooth noise: the texture of land patches and clouds."""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["fbm", "rng_for", "sample_bilinear", "smooth_noise"]


def rng_for(seed: int, *keys: str | int) -> np.random.Generator:
    """Return a generator determined by ``seed`` and ``keys`` (stable across runs)."""
    words = [seed] + [zlib.crc32(str(k).encode()) for k in keys]
    return np.random.default_rng(words)


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    """Return noise in [0, 1]: a coarse random grid (one node per ``scale`` px), bilinear."""
    rows, cols = shape
    coarse = rng.random((int(rows / scale) + 2, int(cols / scale) + 2)).astype(np.float32)
    return sample_bilinear(coarse, np.arange(rows) / scale, np.arange(cols) / scale)


def sample_bilinear(grid: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Return ``grid`` sampled bilinearly at fractional ``rows`` × ``cols`` (outer product)."""
    rows = np.clip(rows, 0, grid.shape[0] - 1.001)
    cols = np.clip(cols, 0, grid.shape[1] - 1.001)
    r0, c0 = rows.astype(int), cols.astype(int)
    fr, fc = (rows - r0).astype(np.float32), (cols - c0).astype(np.float32)
    top = grid[r0] * (1 - fr)[:, None] + grid[r0 + 1] * fr[:, None]
    return top[:, c0] * (1 - fc)[None, :] + top[:, c0 + 1] * fc[None, :]


def fbm(rng: np.random.Generator, shape: tuple[int, int], scale: float, *, octaves: int = 5,
        gain: float = 0.5) -> np.ndarray:
    """Return fractal (fBm) noise with zero mean and unit standard deviation.

    Args:
        rng: the random generator.
        shape: (rows, cols).
        scale: the size in pixels of the largest features.
        octaves: how many halvings of the scale are summed.
        gain: the amplitude ratio between octaves.
    """
    total = np.zeros(shape, dtype=np.float32)
    amplitude = 1.0
    for _ in range(octaves):
        total += amplitude * (smooth_noise(rng, shape, max(scale, 1.0)) - 0.5)
        scale /= 2
        amplitude *= gain
    return (total - total.mean()) / (total.std() + 1e-9)
