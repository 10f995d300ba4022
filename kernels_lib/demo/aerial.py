"""Write the demo aerial pair: images, ground-truth rasters and polygons, STAC Items.

Per date (collection ``demo-aerial``, items ``deqing-aerial-YYYYMMDD``): ``image.tif``
(4-band uint8 R, G, B, NIR, nodata 0), ``landcover.tif`` (codes 1…10 of
:mod:`terralab.landcover`), ``parcels.tif`` (uint16 field-parcel ids, 0 = none) and
``truth.gpkg`` (EPSG:32651 layers ``buildings``, ``parcels``, ``greenhouses``, ``pv_plants``,
``dams``, ``water``; the later date adds ``changes``). The later date also has
``change.tif`` (0 unchanged, 1 new building, 2 demolished building, 3 cropland lost,
4 other change).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pystac
from rasterio.features import shapes
from shapely.geometry import shape

from terralab.demo.aerial_scene import CHANGE_CODES, LAYERS, AerialDate, AerialScene
from terralab.demo.cog import write_cog
from terralab.demo.grid import EPSG
from terralab.demo.render import render_aerial
from terralab.demo.schedule import AERIAL_DATES
from terralab.demo.stac_items import add_asset, base_item
from terralab.landcover import CLASSES
from terralab.products.generic import DEMO_AERIAL

__all__ = ["item_id", "write_aerial_pair"]


def item_id(when: datetime) -> str:
    """Return the aerial item id of a date, e.g. ``deqing-aerial-20240510``."""
    return f"deqing-aerial-{when:%Y%m%d}"


def _write_polygons(path: Path, date: AerialDate, change: np.ndarray | None,
                    scene: AerialScene) -> None:
    """Write the object polygons of one date as a GeoPackage, one layer per object type."""
    path.unlink(missing_ok=True)
    previous = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})  # a file we just made
    try:
        _write_layers(path, date, change, scene)
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": previous})


def _write_layers(path: Path, date: AerialDate, change: np.ndarray | None,
                  scene: AerialScene) -> None:
    """Write each non-empty object layer (and the change polygons) into ``path``."""
    layers = {name: date.layers.get(name, []) for name in LAYERS}
    for name, items in layers.items():
        if not items:
            continue
        column = "parcel_id" if name == "parcels" else "id"
        frame = gpd.GeoDataFrame({column: [i for _, i in items], "kind": name},
                                 geometry=[g for g, _ in items], crs=f"EPSG:{EPSG}")
        frame.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    if change is not None and change.any():
        polygons = [(shape(g), int(v)) for g, v in shapes(change, mask=change > 0,
                                                          transform=scene.grid.transform)]
        frame = gpd.GeoDataFrame({"code": [v for _, v in polygons],
                                  "change": [CHANGE_CODES[v] for _, v in polygons]},
                                 geometry=[g for g, _ in polygons], crs=f"EPSG:{EPSG}")
        frame.to_file(path, layer="changes", driver="GPKG", engine="pyogrio")


def write_aerial_pair(scene: AerialScene, folder: Path, seed: int
                      ) -> tuple[list[pystac.Item], list[Path], list[Path]]:
    """Write both dates of the aerial patch under ``folder`` (one sub-folder per item).

    Returns:
        The Items, the GeoTIFFs written and the other files (GeoPackages).
    """
    legend = json.dumps({c.code: c.name for c in CLASSES})
    items, rasters, others = [], [], []
    for index, (when, date) in enumerate(zip(AERIAL_DATES, (scene.before, scene.after),
                                             strict=True)):
        name = item_id(when)
        out = folder / name
        out.mkdir(parents=True, exist_ok=True)
        change = scene.change if index == 1 else None
        files = {
            "image": write_cog(out / "image.tif", render_aerial(date, seed + 10 + index),
                               scene.grid, nodata=0, descriptions=("red", "green", "blue", "nir"),
                               tags={"BAND_NAMES": "red,green,blue,nir"}),
            "landcover": write_cog(out / "landcover.tif", date.classes, scene.grid, nodata=0,
                                   categorical=True, tags={"CLASSES": legend}),
            "parcels": write_cog(out / "parcels.tif", date.parcels, scene.grid, nodata=0,
                                 categorical=True),
        }
        if change is not None:
            files["change"] = write_cog(out / "change.tif", change, scene.grid, categorical=True,
                                        tags={"CODES": json.dumps(CHANGE_CODES)})
        truth = out / "truth.gpkg"
        _write_polygons(truth, date, change, scene)
        item = base_item(name, DEMO_AERIAL.id, when, scene.grid, {
            "platform": "aerial", "instruments": ["rgbn-camera"], "terralab:seed": seed,
            "terralab:synthetic": True}, ("eo",))
        add_asset(item, "image", files["image"], title="RGB+NIR, 8 bit", roles=["data"],
                  **{"eo:bands": [{"name": n, "common_name": n}
                                  for n in ("red", "green", "blue", "nir")]})
        add_asset(item, "landcover", files["landcover"], roles=["labels"],
                  title="Land-cover ground truth (10 classes)")
        add_asset(item, "parcels", files["parcels"], roles=["labels"],
                  title="Field parcel ids (0 = none)")
        add_asset(item, "truth", truth, roles=["labels"],
                  media_type="application/geopackage+sqlite3",
                  title="Object polygons: " + ", ".join(LAYERS))
        if change is not None:
            add_asset(item, "change", files["change"], roles=["labels"],
                      title=f"Change since {AERIAL_DATES[0]:%Y-%m-%d}: "
                      + ", ".join(f"{k} {v}" for k, v in CHANGE_CODES.items()))
        items.append(item)
        rasters.extend(files.values())
        others.append(truth)
    return items, rasters, others
