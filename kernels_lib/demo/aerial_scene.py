"""The 0.5 m aerial patch: the regional scene plus the objects the AI tools look for.

Objects are drawn as polygons in EPSG:32651 and rasterised, so the ground-truth rasters and
polygons agree exactly: buildings, field parcels (each with a ``parcel_id``), greenhouses,
a PV power plant, a dam across the river, water. The later date adds the changes: new
buildings on a field (the rest of it becomes a building site), demolished buildings
(excavated land), a field turned to bare land and a field covered by new greenhouses.

Change codes (``change.tif``): 0 unchanged, 1 new building, 2 demolished building,
3 cropland lost (to anything but a building), 4 other change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from rasterio.features import rasterize, shapes
from shapely import affinity
from shapely.geometry import LineString, box, shape
from shapely.geometry.base import BaseGeometry

from terralab.demo.grid import Grid, aerial_grid, block_mode
from terralab.demo.landscape import CODES, RIVER_WIDTH, Landscape
from terralab.demo.noise import rng_for

__all__ = ["CHANGE_CODES", "LAYERS", "MATERIAL_CLASS", "AerialDate", "AerialScene",
           "make_aerial_scene", "regional_classes"]

CHANGE_CODES = {1: "new building", 2: "demolished building", 3: "cropland lost",
                4: "other change"}
LAYERS = ("buildings", "parcels", "greenhouses", "pv_plants", "dams", "water")
# Surface materials beyond the class codes 1…9 (for rendering) and their land-cover class.
GREENHOUSE, PV_PANEL, CONCRETE, GRAVEL, RIDGE = 11, 12, 13, 14, 15
MATERIAL_CLASS = {**{c: c for c in range(1, 11)}, GREENHOUSE: CODES["structure"],
                  PV_PANEL: CODES["structure"], CONCRETE: CODES["structure"],
                  GRAVEL: CODES["structure"], RIDGE: CODES["grass"]}
_BUILDING_IDS = 10_000


@dataclass
class AerialDate:
    """The aerial patch at one date.

    Attributes:
        classes: land-cover codes (uint8, 1…9).
        materials: surface materials (uint8) for rendering.
        instances: object ids (uint32): parcel ids, buildings from 10000, else 0.
        parcels: parcel ids (uint16), 0 outside fields.
        layers: object type → list of (polygon, id).
    """

    classes: np.ndarray
    materials: np.ndarray
    instances: np.ndarray
    parcels: np.ndarray
    layers: dict[str, list[tuple[BaseGeometry, int]]] = field(default_factory=dict)


@dataclass
class AerialScene:
    """Both dates of the aerial patch and their change raster (codes of CHANGE_CODES)."""

    grid: Grid
    before: AerialDate
    after: AerialDate
    change: np.ndarray


def _in_grid(grid: Grid, fx: float, fy: float) -> tuple[float, float]:
    """Return the EPSG:32651 point at fractions (fx, fy) of the patch from its top-left."""
    return grid.x0 + fx * grid.width * grid.res, grid.y0 - fy * grid.height * grid.res


def _zone(grid: Grid, fx0: float, fy0: float, fx1: float, fy1: float) -> BaseGeometry:
    (x0, y0), (x1, y1) = _in_grid(grid, fx0, fy0), _in_grid(grid, fx1, fy1)
    return box(x0, y1, x1, y0)


def _objects(grid: Grid, landscape: Landscape, rng: np.random.Generator
             ) -> dict[str, list[tuple[BaseGeometry, int]]]:
    """Lay out the objects of the earlier date (sizes shrink with patches under 512 m)."""
    k = _scale(grid)
    layers: dict[str, list[tuple[BaseGeometry, int]]] = {k: [] for k in LAYERS}
    village = _zone(grid, 0.45, 0.03, 0.98, 0.46)
    vx0, vy0, vx1, vy1 = village.bounds
    # "_ground": (polygon, material) drawn under the objects: yards, streets, a lane.
    layers["_ground"] = [(village, CODES["grass"]),
                         (_zone(grid, 0.4, 0.485, 1.0, 0.505), CODES["road"])]
    ident = _BUILDING_IDS
    for row, y in enumerate(np.arange(vy1 - 4 * k, vy0 + 10 * k, -21.0 * k)):
        for x in np.arange(vx0 + 4 * k, vx1 - 10 * k, 22.0 * k):
            w, h = k * rng.uniform(8, 16), k * rng.uniform(8, 13)
            dx, dy = k * rng.uniform(-2, 2, size=2)
            if row % 3 == 2:
                layers["_ground"].append((box(vx0, y - 14 * k, vx1, y - 6 * k), CODES["road"]))
                break  # a street row
            if rng.random() < 0.15:
                continue  # a gap
            footprint = affinity.rotate(box(x + dx, y - h + dy, x + w + dx, y + dy),
                                        rng.uniform(-6, 6))
            ident += 1
            layers["buildings"].append((footprint, ident))
    fields = _zone(grid, 0.45, 0.53, 0.99, 0.99)
    pv_zone = _zone(grid, 0.45, 0.53, 0.64, 0.76)
    fx0, fy0, fx1, fy1 = fields.bounds
    parcel = 0
    for y in np.arange(fy1, fy0 + 20 * k, -30.0 * k):
        for x in np.arange(fx0, fx1 - 25 * k, 42.0 * k):
            cell = box(x + k, y - 29 * k, x + 41 * k, y - k)
            if not cell.within(fields) or cell.intersects(pv_zone):
                continue
            parcel += 1
            layers["parcels"].append((cell, parcel))
    layers["pv_plants"].append((pv_zone.buffer(-2 * k), 1))
    for index, (cell, _) in enumerate(list(layers["parcels"])[-5::3]):
        layers["greenhouses"].extend(_greenhouse_rows(cell, 100 * (index + 1), k))
    layers["parcels"] = [p for p in layers["parcels"] if not any(
        p[0].intersects(g) for g, _ in layers["greenhouses"])]
    x_mid, y_dam = _in_grid(grid, 0.0, 0.8)
    river_x = landscape.river.intersection(LineString([(x_mid - 5e4, y_dam), (x_mid + 5e4, y_dam)]))
    if not river_x.is_empty:
        cx = river_x.centroid.x
        layers["dams"].append((box(cx - RIVER_WIDTH / 2 - 14, y_dam - 5 * k,
                                   cx + RIVER_WIDTH / 2 + 14, y_dam + 5 * k), 1))
    return layers


def _scale(grid: Grid) -> float:
    """Return the object size factor: 1 for a 512 m patch (the default), less below."""
    return float(np.clip(grid.width * grid.res / 512.0, 0.25, 1.0))


def _greenhouse_rows(cell: BaseGeometry, first_id: int, k: float
                     ) -> list[tuple[BaseGeometry, int]]:
    """Fill a field with greenhouse strips 8 m wide, 2 m apart (× ``k``)."""
    x0, y0, x1, y1 = cell.bounds
    return [(box(x + 0.5 * k, y0 + k, x + 8.5 * k, y1 - k), first_id + i)
            for i, x in enumerate(np.arange(x0, x1 - 8 * k, 10.0 * k))]


def _draw(grid: Grid, landscape: Landscape, layers: dict[str, list[tuple[BaseGeometry, int]]],
          extra: list[tuple[BaseGeometry, int]]) -> AerialDate:
    """Rasterise the base scene, the objects and ``extra`` (polygon, material) patches."""
    classes = landscape.classes(grid)
    materials = classes.copy()
    instances = np.zeros(grid.shape, dtype=np.uint32)

    def burn(items: list[tuple[BaseGeometry, int]], dtype: str = "uint32") -> np.ndarray:
        if not items:
            return np.zeros(grid.shape, dtype=dtype)
        return rasterize(items, out_shape=grid.shape, transform=grid.transform, fill=0,
                         dtype=dtype)

    for geometry, material in layers["_ground"]:
        materials[burn([(geometry, 1)], "uint8") == 1] = material
    fields = burn(layers["parcels"])
    ridges = burn([(g.buffer(1.0), 1) for g, _ in layers["parcels"]], "uint8")
    materials[(ridges == 1) & (fields == 0)] = RIDGE
    materials[fields > 0] = CODES["cropland"]
    instances[fields > 0] = fields[fields > 0]
    for plant, _ in layers["pv_plants"]:
        x0, y0, x1, y1 = plant.bounds
        rows = [(box(x0, y, x1, y + 3), 1) for y in np.arange(y0 + 1, y1 - 3, 6.0)]
        materials[burn([(plant, 1)], "uint8") == 1] = GRAVEL
        materials[burn(rows, "uint8") == 1] = PV_PANEL
    materials[burn(layers["greenhouses"]) > 0] = GREENHOUSE
    for geometry, material in extra:
        materials[burn([(geometry, 1)], "uint8") == 1] = material
    buildings = burn(layers["buildings"])
    materials[buildings > 0] = CODES["building"]
    instances[buildings > 0] = buildings[buildings > 0]
    materials[burn(layers["dams"], "uint8") > 0] = CONCRETE
    lut = np.zeros(256, dtype=np.uint8)
    for material, code in MATERIAL_CLASS.items():
        lut[material] = code
    classes = lut[materials]
    water = (classes == CODES["water"]).astype(np.uint8)
    layers["water"] = [(shape(g), i + 1) for i, (g, _) in enumerate(
        shapes(water, mask=water == 1, transform=grid.transform))]
    return AerialDate(classes, materials, instances, fields.astype(np.uint16), layers)


def _change_codes(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Return the change raster of two class maps (codes of CHANGE_CODES)."""
    building, crop = CODES["building"], CODES["cropland"]
    change = np.where(before != after, 4, 0).astype(np.uint8)
    change[(before == crop) & (after != crop)] = 3
    change[(before == building) & (after != building)] = 2
    change[(after == building) & (before != building)] = 1
    return change


def make_aerial_scene(landscape: Landscape, size: int, seed: int) -> AerialScene:
    """Return both dates of the aerial patch of a demo of ``size`` pixels.

    Args:
        landscape: the regional scene (the patch agrees with it).
        size: the patch side in 0.5 m pixels.
        seed: the random seed.
    """
    grid = aerial_grid(size)
    rng = rng_for(seed, "aerial")
    layers = _objects(grid, landscape, rng)
    before = _draw(grid, landscape, {k: list(v) for k, v in layers.items()}, [])
    later = {k: list(v) for k, v in layers.items()}
    extra: list[tuple[BaseGeometry, int]] = []
    buildings = later["buildings"]
    for index in sorted(rng.choice(len(buildings), size=min(3, len(buildings)), replace=False),
                        reverse=True):
        extra.append((buildings.pop(int(index))[0], CODES["excavated"]))
    fields = sorted(later["parcels"], key=lambda p: -p[0].centroid.y)  # nearest the village
    taken = fields[:3]
    later["parcels"] = [p for p in later["parcels"] if p not in taken]
    ident = _BUILDING_IDS + 5000
    k = _scale(grid)
    for number, (cell, _) in enumerate(taken):
        x0, y0, _, y1 = cell.bounds
        if number == 0:  # new houses on a building site
            extra.append((cell, CODES["excavated"]))
            for x in (x0 + 3 * k, x0 + 22 * k):
                ident += 1
                later["buildings"].append((box(x, y0 + 8 * k, x + 14 * k, y1 - 6 * k), ident))
        elif number == 1:
            extra.append((cell, CODES["bare"]))
        else:
            later["greenhouses"].extend(_greenhouse_rows(cell, 900, k))
    after = _draw(grid, landscape, later, extra)
    return AerialScene(grid, before, after, _change_codes(before.classes, after.classes))


def regional_classes(landscape: Landscape, scene: AerialScene, *, after: bool) -> np.ndarray:
    """Return the 10 m regional class map with the aerial patch burnt in (by majority).

    Each 10 m cell wholly inside the patch takes the most frequent class of its 20×20 aerial
    pixels, so the regional map and the aerial ground truth agree where they overlap.
    """
    region = landscape.region
    classes = landscape.classes(region)
    patch = (scene.after if after else scene.before).classes
    cells = block_mode(patch, 20)
    row = round((region.y0 - scene.grid.y0) / 10)
    col = round((scene.grid.x0 - region.x0) / 10)
    classes[row: row + cells.shape[0], col: col + cells.shape[1]] = cells
    return classes
