"""Seeded clouds: fBm cloud fields with soft edges, thin cirrus, and shadows cast by the sun.

A scene's clouds live on the 10 m regional grid as opacities in [0, 1]; each sensor sees
them on its own grid as block means. A pixel is *cloud* where the mean opacity is ≥ 0.5,
*cirrus* where the cirrus opacity is ≥ 0.125 (and not cloud), *shadow* where the shifted
cloud opacity is ≥ 0.5 (and neither). At 10 m the cloud fraction equals the asked cover.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from terralab.demo.grid import block_mean
from terralab.demo.noise import fbm

__all__ = ["CLOUD_HEIGHT", "CloudField", "CloudMasks", "dilate", "make_clouds"]

CLOUD_HEIGHT = 1500.0  # m, for the shadow offset
_EDGE = 0.6  # softness of cloud edges, in standard deviations of the cloud field
CIRRUS_MAX = 0.25  # the largest cirrus opacity


@dataclass(frozen=True)
class CloudMasks:
    """Clouds as one sensor grid sees them.

    Attributes:
        cloud: thick cloud (bool).
        cirrus: thin cirrus, not under thick cloud (bool).
        shadow: cloud shadow, neither cloud nor cirrus (bool).
        opacity: thick-cloud opacity (float32, 0…1).
        cirrus_opacity: cirrus opacity (float32, 0…CIRRUS_MAX).
        darkening: shadow darkening (float32, 0…1).
    """

    cloud: np.ndarray
    cirrus: np.ndarray
    shadow: np.ndarray
    opacity: np.ndarray
    cirrus_opacity: np.ndarray
    darkening: np.ndarray


@dataclass(frozen=True)
class CloudField:
    """The clouds of one scene on the 10 m regional grid (opacities)."""

    opacity: np.ndarray
    cirrus: np.ndarray
    shadow: np.ndarray

    def at(self, factor: int) -> CloudMasks:
        """Return the masks on a grid ``factor`` times coarser than 10 m."""
        opacity = block_mean(self.opacity, factor)
        cirrus_opacity = block_mean(self.cirrus, factor)
        darkening = block_mean(self.shadow, factor)
        cloud = opacity >= 0.5
        cirrus = (cirrus_opacity >= CIRRUS_MAX / 2) & ~cloud
        shadow = (darkening >= 0.5) & ~cloud & ~cirrus
        return CloudMasks(cloud, cirrus, shadow, opacity, cirrus_opacity, darkening)


def _soft_threshold(values: np.ndarray, cover: float, edge: float) -> np.ndarray:
    """Return opacity in [0, 1], ≥ 0.5 on exactly the top ``cover`` share of ``values``."""
    if cover <= 0:
        return np.zeros(values.shape, dtype=np.float32)
    level = np.quantile(values, 1.0 - cover)
    return np.clip(0.5 + (values - level) / edge, 0.0, 1.0).astype(np.float32)


def make_clouds(rng: np.random.Generator, shape: tuple[int, int], *, cover: float,
                cirrus_cover: float, sun_azimuth: float, sun_elevation: float) -> CloudField:
    """Return the clouds of one scene.

    Args:
        rng: the scene's random generator.
        shape: the 10 m grid shape.
        cover: the thick-cloud share (0…1).
        cirrus_cover: the cirrus share (0…1).
        sun_azimuth: degrees clockwise from north.
        sun_elevation: degrees above the horizon.
    """
    side = max(shape)
    opacity = _soft_threshold(fbm(rng, shape, side / 4, octaves=6, gain=0.55), cover, _EDGE)
    cirrus = CIRRUS_MAX * _soft_threshold(fbm(rng, shape, side / 3, octaves=6, gain=0.6),
                                          cirrus_cover, 1.0)
    distance = CLOUD_HEIGHT / np.tan(np.radians(sun_elevation)) / 10.0  # in 10 m pixels
    azimuth = np.radians(sun_azimuth)
    drow = round(float(distance * np.cos(azimuth)))  # away from the sun: south is +row
    dcol = round(float(-distance * np.sin(azimuth)))
    shadow = np.zeros_like(opacity)
    rows, cols = shape
    if abs(drow) >= rows or abs(dcol) >= cols:
        return CloudField(opacity, cirrus, shadow)
    src = opacity[max(-drow, 0): rows - max(drow, 0), max(-dcol, 0): cols - max(dcol, 0)]
    shadow[max(drow, 0): rows - max(-drow, 0), max(dcol, 0): cols - max(-dcol, 0)] = src
    return CloudField(opacity, cirrus, shadow)


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Return ``mask`` grown by ``radius`` pixels (square neighbourhood)."""
    rows, cols = mask.shape
    padded = np.pad(mask, radius)
    out = np.zeros_like(mask)
    for dr in range(2 * radius + 1):
        for dc in range(2 * radius + 1):
            out |= padded[dr: dr + rows, dc: dc + cols]
    return out
