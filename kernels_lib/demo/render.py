"""Render demo imagery from a class map: 0.5 m aerial RGB + NIR, 8 bit."""

from __future__ import annotations

import numpy as np

__all__ = ["render_aerial"]

# Typical 8-bit aerial digital numbers (R, G, B, NIR) per class code.
_AERIAL_DN: dict[int, tuple[int, int, int, int]] = {
    1: (150, 160, 90, 170),  # cropland
    2: (45, 80, 45, 150),  # forest
    3: (110, 150, 80, 160),  # grass
    4: (185, 110, 100, 120),  # building (red tile roofs)
    5: (120, 120, 120, 90),  # road
    6: (160, 140, 170, 110),  # structure
    7: (165, 125, 85, 100),  # excavated
    8: (200, 180, 150, 140),  # bare
    9: (40, 70, 95, 20),  # water
    10: (245, 245, 245, 240),  # unknown / cloud-snow
}


def render_aerial(classes: np.ndarray, seed: int) -> np.ndarray:
    """Return a (4, H, W) uint8 RGBN image of ``classes`` with texture noise.

    Args:
        classes: a class map with codes 1…10.
        seed: the random seed of the texture.
    """
    rng = np.random.default_rng(seed)
    lut = np.zeros((256, 4), dtype=np.float32)
    for code, dn in _AERIAL_DN.items():
        lut[code] = dn
    image = lut[classes].transpose(2, 0, 1)
    image += rng.normal(0.0, 6.0, size=image.shape).astype(np.float32)
    return np.clip(image, 1, 255).astype(np.uint8)
