"""The preview of an uploaded vector layer: its features drawn into a small RGBA PNG."""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import numpy as np
import shapely

__all__ = ["draw_preview"]

_THUMB = 256
_MARGIN = 8
_BLUE = (51, 136, 255)
_FILL_ALPHA = 90


def draw_preview(geoms: np.ndarray, lonlat: bool, target: Path) -> None:
    """Draw the features into a 256×256 RGBA PNG (fills translucent, edges and points solid)."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.features import rasterize
    from rasterio.transform import Affine

    parts = shapely.get_parts(geoms)
    for _ in range(3):  # nested collections
        if not (shapely.get_type_id(parts) == 7).any():
            break
        parts = shapely.get_parts(parts)
    parts = parts[~shapely.is_empty(parts)]
    west, south, east, north = shapely.total_bounds(parts)
    xscale = max(math.cos(math.radians((south + north) / 2)), 0.01) if lonlat else 1.0
    span = max((east - west) * xscale, north - south) or 1.0
    pixel = span / (_THUMB - 2 * _MARGIN)
    transform = Affine(pixel / xscale, 0, (west + east) / 2 - _THUMB / 2 * pixel / xscale,
                       0, -pixel, (south + north) / 2 + _THUMB / 2 * pixel)
    types = shapely.get_type_id(parts)
    polygons = parts[types == 3]
    lines = np.concatenate([parts[(types == 1) | (types == 2)], shapely.boundary(polygons)])
    shape = (_THUMB, _THUMB)

    def draw(shapes: np.ndarray, touched: bool) -> np.ndarray:
        if not len(shapes):
            return np.zeros(shape, bool)
        return rasterize(((g, 1) for g in shapes), out_shape=shape, transform=transform,
                         all_touched=touched, dtype="uint8").astype(bool)

    fill, edges, dots = draw(polygons, False), draw(lines, True), draw(parts[types == 0], True)
    padded = np.pad(dots, 2)
    dots = np.logical_or.reduce([padded[2 + dy:2 + dy + _THUMB, 2 + dx:2 + dx + _THUMB]
                                 for dy in range(-2, 3) for dx in range(-2, 3)])
    rgba = np.zeros((4, *shape), np.uint8)
    solid = edges | dots
    for band, value in enumerate(_BLUE):
        rgba[band][fill | solid] = value
    rgba[3][fill] = _FILL_ALPHA
    rgba[3][solid] = 255
    partial = target.with_name(f".{target.stem}.partial.png")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(partial, "w", driver="PNG", width=_THUMB, height=_THUMB, count=4,
                           dtype="uint8") as png:
            png.write(rgba)
    os.replace(partial, target)
