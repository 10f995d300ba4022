"""The demo region's grids: where the region lies, and pixel grids nested inside it.

All sensors use WGS 84 / UTM zone 51N (EPSG:32651). Deqing straddles the zone 50/51 border
(120°E); zone 51 is the zone of the Sentinel-2 MGRS tile 51RTP that covers the region, so one
CRS serves every sensor and the 10/20/30/60 m grids nest exactly (the region's origin and
side are multiples of 60 m). For ``size`` ≤ ~1200 the region lies inside Deqing county
(湖州市德清县, adcode 330521) and holds the county seat (Wukang, ~30.545°N 119.96°E).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from affine import Affine
from pyproj import Transformer

__all__ = ["EPSG", "MGRS_TILE", "Grid", "aerial_grid", "block_mean", "block_mode", "region_grid"]

EPSG = 32651
MGRS_TILE = "51RTP"
REGION_ORIGIN = (204_000.0, 3_390_000.0)  # upper-left corner (x, y) in EPSG:32651
# The aerial patch's upper-left corner, as a fraction of the region's side.
_AERIAL_AT = (0.55, 0.45)


@dataclass(frozen=True)
class Grid:
    """A north-up pixel grid in EPSG:32651.

    Attributes:
        x0: the left edge (m).
        y0: the top edge (m).
        res: the pixel size (m).
        width: columns.
        height: rows.
    """

    x0: float
    y0: float
    res: float
    width: int
    height: int

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return self.height, self.width

    @property
    def transform(self) -> Affine:
        """The affine transform (pixel → EPSG:32651)."""
        return Affine(self.res, 0.0, self.x0, 0.0, -self.res, self.y0)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) in metres."""
        return (self.x0, self.y0 - self.height * self.res, self.x0 + self.width * self.res,
                self.y0)

    def coarser(self, res: float) -> Grid:
        """Return the grid with pixels of ``res`` metres over the same extent."""
        factor = round(res / self.res)
        return Grid(self.x0, self.y0, res, self.width // factor, self.height // factor)

    def lonlat_corners(self) -> list[tuple[float, float]]:
        """Return the four corners in lon/lat (lower-left, lower-right, upper-right, upper-left)."""
        left, bottom, right, top = self.bounds
        to_lonlat = Transformer.from_crs(EPSG, 4326, always_xy=True)
        return [to_lonlat.transform(x, y) for x, y in ((left, bottom), (right, bottom),
                                                        (right, top), (left, top))]


def region_grid(size: int) -> Grid:
    """Return the 10 m regional grid: about ``size`` pixels a side, a multiple of 6."""
    side = max(6 * round(size / 6), 60)
    return Grid(*REGION_ORIGIN, 10.0, side, side)


def aerial_grid(size: int) -> Grid:
    """Return the 0.5 m grid of the aerial pair (``size`` pixels a side) inside the region."""
    region = region_grid(size)
    x = region.x0 + 10.0 * round(_AERIAL_AT[0] * region.width)
    y = region.y0 - 10.0 * round(_AERIAL_AT[1] * region.height)
    return Grid(x, y, 0.5, size, size)


def block_mean(values: np.ndarray, factor: int) -> np.ndarray:
    """Return the mean of ``factor``×``factor`` blocks (the array side must be a multiple)."""
    if factor == 1:
        return values.astype(np.float32)
    rows, cols = values.shape[0] // factor, values.shape[1] // factor
    blocks = values[: rows * factor, : cols * factor].reshape(rows, factor, cols, factor)
    return blocks.mean(axis=(1, 3), dtype=np.float32)


def block_mode(classes: np.ndarray, factor: int) -> np.ndarray:
    """Return the most frequent class code of each ``factor``×``factor`` block (ties: lowest)."""
    if factor == 1:
        return classes.copy()
    rows, cols = classes.shape[0] // factor, classes.shape[1] // factor
    blocks = classes[: rows * factor, : cols * factor].reshape(rows, factor, cols, factor)
    # each block's pixels contiguous on the last axis: counting along it is cheap
    cells = np.ascontiguousarray(blocks.transpose(0, 2, 1, 3)).reshape(rows, cols, -1)
    best = np.empty((rows, cols), dtype=classes.dtype)
    most = np.full((rows, cols), -1, dtype=np.int64)
    for code in np.unique(cells):  # ascending: a tie keeps the lower code
        count = np.count_nonzero(cells == code, axis=-1)
        better = count > most
        best[better] = code
        most[better] = count[better]
    return best
