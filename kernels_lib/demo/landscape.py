"""A seeded land-cover scene: the ground truth every demo sensor is rendered from."""

from __future__ import annotations

import numpy as np

from terralab.landcover import by_name

__all__ = ["change_buildings", "make_landscape"]

_CROP = by_name("cropland").code
_FOREST = by_name("forest").code
_GRASS = by_name("grass").code
_BUILDING = by_name("building").code
_ROAD = by_name("road").code
_BARE = by_name("bare").code
_WATER = by_name("water").code
_EXCAVATED = by_name("excavated").code


def _smooth_noise(rng: np.random.Generator, size: int, scale: int) -> np.ndarray:
    """Return smooth noise in [0, 1] by bilinear up-sampling of a coarse random grid."""
    coarse = rng.random((size // scale + 2, size // scale + 2))
    coords = np.arange(size) / scale
    i0 = coords.astype(int)
    f = coords - i0
    rows = coarse[i0] * (1 - f)[:, None] + coarse[i0 + 1] * f[:, None]
    return rows[:, i0] * (1 - f)[None, :] + rows[:, i0 + 1] * f[None, :]


def make_landscape(size: int, seed: int) -> np.ndarray:
    """Return a ``size``×``size`` uint8 class map (codes of :mod:`terralab.landcover`).

    The scene has a meandering river, a lake, forest and grass patches, rectangular crop
    parcels, a road grid and a village of rectangular buildings.

    Args:
        size: the side in pixels.
        seed: the random seed.
    """
    rng = np.random.default_rng(seed)
    classes = np.full((size, size), _CROP, dtype=np.uint8)
    yy, xx = np.mgrid[0:size, 0:size]

    # Crop parcels: alternate crop and grass in a jittered grid of fields.
    parcel = max(size // 16, 8)
    field_id = (yy // parcel) * 97 + (xx // parcel)
    fallow = (np.sin(field_id * 12.9898) * 43758.5453) % 1 < 0.2
    classes[fallow] = _GRASS

    # Forest on the smooth-noise highs.
    classes[_smooth_noise(rng, size, max(size // 6, 4)) > 0.72] = _FOREST

    # A village of buildings in one quadrant, between roads.
    vx, vy = int(size * 0.55), int(size * 0.15)
    vsize = size // 3
    step = max(size // 40, 6)
    for y in range(vy, vy + vsize, step * 2):
        for x in range(vx, vx + vsize, step * 2):
            h, w = rng.integers(step // 2, step * 3 // 2, size=2)
            classes[y : y + h, x : x + w] = _BUILDING

    # Road grid.
    width = max(size // 256, 2)
    for pos in (size // 3, 2 * size // 3):
        classes[pos : pos + width, :] = _ROAD
        classes[:, pos : pos + width] = _ROAD

    # A bare construction site.
    classes[int(size * 0.75) : int(size * 0.82), int(size * 0.1) : int(size * 0.2)] = _BARE

    # A meandering river and a lake (water last: water wins).
    centre = size * 0.25 + size * 0.06 * np.sin(yy / size * 6.0 + rng.random() * 6.0)
    classes[np.abs(xx - centre) < size * 0.02] = _WATER
    lake = (yy - size * 0.8) ** 2 + (xx - size * 0.7) ** 2 < (size * 0.08) ** 2
    classes[lake] = _WATER
    return classes


def change_buildings(classes: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return a later date of ``classes`` with new and demolished buildings.

    New buildings replace cropland beside the village; a share of old buildings become
    excavated land (demolished).

    Args:
        classes: the earlier class map.
        seed: the random seed.

    Returns:
        The later class map and a uint8 change mask (1 = changed, 0 = unchanged).
    """
    rng = np.random.default_rng(seed)
    size = classes.shape[0]
    later = classes.copy()
    step = max(size // 40, 6)
    for _ in range(12):
        y, x = rng.integers(size // 10, size - size // 10, size=2)
        h, w = rng.integers(step // 2, step * 3 // 2, size=2)
        window = later[y : y + h, x : x + w]
        if np.all(window == _CROP):
            window[...] = _BUILDING
    building = np.argwhere(classes == _BUILDING)
    if len(building):
        for y, x in building[rng.choice(len(building), size=4, replace=False)]:
            blob = later[max(y - step, 0) : y + step, max(x - step, 0) : x + step]
            blob[blob == _BUILDING] = _EXCAVATED
    return later, (later != classes).astype(np.uint8)
