"""The regional land-cover model: one seeded scene that every demo sensor is rendered from.

The model is a set of smooth fields (hills, fallow patches, the town) on the 10 m regional
grid plus vector features in EPSG:32651 (the river, canals, fish ponds, roads, construction
sites), so it can be drawn on any grid: 10 m for the satellites and 0.5 m for the aerial
pair, which then adds its own objects (:mod:`terralab.demo.aerial_scene`).
Codes are those of :mod:`terralab.landcover` (1…9; 10 "unknown" is never ground truth).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rasterio.features import rasterize
from shapely.geometry import LineString, Point, box
from shapely.geometry.base import BaseGeometry

from terralab.demo.grid import Grid, aerial_grid, region_grid
from terralab.demo.noise import fbm, rng_for, sample_bilinear
from terralab.landcover import by_name

__all__ = ["CODES", "Landscape", "make_landscape"]

CODES = {c: by_name(c).code for c in ("cropland", "forest", "grass", "building", "road",
                                      "structure", "excavated", "bare", "water")}
COUNTY_SEAT = (208_350.0, 3_383_110.0)  # Wukang, Deqing, in EPSG:32651
RIVER_WIDTH = 50.0


@dataclass(frozen=True)
class Landscape:
    """The regional scene model.

    Attributes:
        region: the 10 m regional grid.
        hills: elevation-like field on ``region`` (high in the west).
        patches: fallow / grass patch field on ``region``.
        town: town-ness field on ``region`` (> 0 inside the town).
        river: the river's centre line.
        water: other water polygons (canals, fish ponds, a lake).
        roads: road polygons.
        sites: construction sites (excavated land) and a quarry (bare land).
    """

    region: Grid
    hills: np.ndarray
    patches: np.ndarray
    town: np.ndarray
    river: LineString
    water: tuple[BaseGeometry, ...]
    roads: tuple[BaseGeometry, ...]
    sites: tuple[tuple[BaseGeometry, int], ...]

    def _field(self, values: np.ndarray, grid: Grid) -> np.ndarray:
        """Sample a regional field at the pixel centres of ``grid``."""
        rows = (self.region.y0 - (grid.y0 - (np.arange(grid.height) + 0.5) * grid.res)) / 10 - 0.5
        cols = ((grid.x0 + (np.arange(grid.width) + 0.5) * grid.res) - self.region.x0) / 10 - 0.5
        return sample_bilinear(values, rows, cols)

    def classes(self, grid: Grid) -> np.ndarray:
        """Return the class map (uint8) of the scene drawn on ``grid``."""
        hills, patches, town = (self._field(f, grid) for f in (self.hills, self.patches,
                                                                self.town))
        classes = np.full(grid.shape, CODES["cropland"], dtype=np.uint8)
        classes[patches > 1.1] = CODES["grass"]
        classes[hills > 0.55] = CODES["grass"]
        classes[hills > 0.8] = CODES["forest"]
        inside = town > 0
        classes[inside] = CODES["building"]
        classes[inside & (patches > 0.9)] = CODES["grass"]
        classes[inside & (patches < -1.4)] = CODES["structure"]
        for geometry, code in self.sites:
            _burn(classes, grid, [geometry], code)
        _burn(classes, grid, [self.river.buffer(RIVER_WIDTH / 2), *self.water], CODES["water"])
        _burn(classes, grid, list(self.roads), CODES["road"])
        return classes


def _burn(classes: np.ndarray, grid: Grid, shapes: list[BaseGeometry], code: int) -> None:
    """Set ``code`` where any of ``shapes`` covers a pixel centre of ``grid``."""
    if shapes:
        mask = rasterize([(s, 1) for s in shapes], out_shape=grid.shape,
                         transform=grid.transform, fill=0, dtype="uint8")
        classes[mask == 1] = code


def _river(region: Grid, aerial: Grid, rng: np.random.Generator) -> LineString:
    """A north–south meander that crosses the aerial patch at a fifth of its width."""
    px = aerial.x0 + 0.22 * aerial.width * aerial.res
    py = aerial.y0 - 0.5 * aerial.height * aerial.res
    _, bottom, _, top = region.bounds
    ys = np.linspace(top + 100, bottom - 100, 400)
    phase = rng.uniform(0, 2 * np.pi)
    wave = lambda y: 400 * np.sin((y - py) / 8000 * 2 * np.pi + phase)  # noqa: E731
    xs = px + wave(ys) - wave(py) + 150 * np.sin((ys - py) / 2300) ** 3
    return LineString(np.column_stack([xs, ys]))


def make_landscape(size: int, seed: int) -> Landscape:
    """Return the regional scene for a demo of ``size`` (see :func:`region_grid`).

    Args:
        size: the side in pixels of the aerial scenes and of the 10 m regional grid.
        seed: the random seed.
    """
    region, aerial = region_grid(size), aerial_grid(size)
    n = region.width
    rng = rng_for(seed, "landscape")
    cols = np.linspace(1.0, -1.0, n, dtype=np.float32)[None, :]
    hills = 0.35 * fbm(rng, region.shape, n / 3) + 1.4 * cols - 0.2
    patches = fbm(rng, region.shape, 30)
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    seat_col = (COUNTY_SEAT[0] - region.x0) / 10
    seat_row = (region.y0 - COUNTY_SEAT[1]) / 10
    distance = np.hypot(yy - seat_row, xx - seat_col) * 10 / 1500.0
    town = 1.0 - distance - 0.25 * fbm(rng, region.shape, n / 8)
    left, bottom, right, top = region.bounds
    ab = aerial.bounds
    keep_out = box(*ab).buffer(30)
    water: list[BaseGeometry] = []
    for _ in range(3):  # canals, east–west
        y = rng.uniform(bottom, top)
        water.append(LineString([(left, y), (right, y + rng.uniform(-300, 300))]).buffer(8))
    pond_field = fbm(rng, region.shape, n / 5)
    for y in np.arange(bottom + 40, top - 40, 62.0):
        for x in np.arange(left + 40, right - 40, 92.0):
            r, c = int((top - y) / 10), int((x - left) / 10)
            if pond_field[r, c] > 0.9 and hills[r, c] < 0.3 and town[r, c] < -0.2:
                pond = box(x, y, x + 84, y + 54)
                if not pond.intersects(keep_out):
                    water.append(pond)
    lake = Point(left + 0.8 * (right - left), bottom + 0.2 * (top - bottom)).buffer(
        0.06 * (right - left))
    if not lake.intersects(keep_out):
        water.append(lake)
    roads: list[BaseGeometry] = [
        LineString([(left, top - 0.3 * (top - bottom)), (right, top - 0.25 * (top - bottom))]
                   ).buffer(10),
        LineString([(left + 0.75 * (right - left), top), (left + 0.7 * (right - left), bottom)]
                   ).buffer(8),
        LineString([(left, bottom + 0.1 * (top - bottom)), (right, top - 0.05 * (top - bottom))]
                   ).buffer(15),
    ]
    sites: list[tuple[BaseGeometry, int]] = []
    for code, count in ((CODES["excavated"], 3), (CODES["bare"], 2)):
        for _ in range(count):
            x, y = rng.uniform(left, right - 300), rng.uniform(bottom + 300, top)
            site = box(x, y - rng.uniform(80, 250), x + rng.uniform(80, 250), y)
            if not site.intersects(keep_out):
                sites.append((site, code))
    return Landscape(region=region, hills=hills, patches=patches, town=town.astype(np.float32),
                     river=_river(region, aerial, rng), water=tuple(water), roads=tuple(roads),
                     sites=tuple(sites))
