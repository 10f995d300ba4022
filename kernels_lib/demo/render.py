"""Render the 0.5 m aerial RGB + NIR image (8 bit) from the patch's surface materials."""

from __future__ import annotations

import numpy as np

from terralab.demo.aerial_scene import CONCRETE, GRAVEL, GREENHOUSE, PV_PANEL, RIDGE, AerialDate
from terralab.demo.noise import rng_for, smooth_noise

__all__ = ["AERIAL_DN", "render_aerial"]

#: Typical 8-bit aerial digital numbers (R, G, B, NIR) per material.
AERIAL_DN: dict[int, tuple[int, int, int, int]] = {
    1: (150, 160, 90, 170),  # cropland
    2: (45, 80, 45, 150),  # forest
    3: (110, 150, 80, 160),  # grass
    4: (185, 110, 100, 120),  # building (red tile roofs; tinted per building)
    5: (120, 120, 120, 90),  # road
    6: (160, 140, 170, 110),  # structure
    7: (165, 125, 85, 100),  # excavated
    8: (200, 180, 150, 140),  # bare
    9: (40, 70, 95, 20),  # water
    10: (245, 245, 245, 240),  # unknown / cloud-snow
    GREENHOUSE: (225, 228, 232, 200),
    PV_PANEL: (35, 45, 80, 40),
    CONCRETE: (190, 190, 185, 170),
    GRAVEL: (150, 140, 125, 120),
    RIDGE: (120, 145, 85, 150),
}
_ROOFS = np.array([(185, 110, 100, 120), (170, 170, 165, 150), (80, 120, 170, 90),
                   (220, 220, 215, 200)], dtype=np.float32)


def render_aerial(date: AerialDate, seed: int) -> np.ndarray:
    """Return a (4, H, W) uint8 RGBN image of one date of the aerial patch.

    Fields get a tone per parcel, roofs a colour per building, and every surface a smooth
    texture plus sensor noise.

    Args:
        date: the patch at one date.
        seed: the random seed of the texture.
    """
    rng = rng_for(seed, "aerial-texture")
    lut = np.zeros((256, 4), dtype=np.float32)
    for material, dn in AERIAL_DN.items():
        lut[material] = dn
    image = lut[date.materials]
    ids = date.instances
    roofs = ids >= 10_000
    image[roofs] = _ROOFS[(ids[roofs].astype(np.uint64) * 2654435761 % 2**32) % len(_ROOFS)]
    fields = (ids > 0) & ~roofs
    tone = 0.85 + 0.3 * ((ids[fields].astype(np.uint64) * 40503 % 997) / 997.0)
    image[fields] *= tone[:, None].astype(np.float32)
    texture = 0.9 + 0.2 * smooth_noise(rng, date.materials.shape, 24)
    image *= texture[..., None]
    image += rng.normal(0.0, 5.0, size=image.shape).astype(np.float32)
    return np.clip(image, 1, 255).astype(np.uint8).transpose(2, 0, 1)
