"""STAC Item scaffolding shared by the demo sensors: footprints, projection, assets."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pystac

from terralab.demo.grid import EPSG, Grid

__all__ = ["COG", "EXTENSIONS", "add_asset", "base_item"]

COG = "image/tiff; application=geotiff; profile=cloud-optimized"
EXTENSIONS = {
    "eo": "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
    "proj": "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
    "raster": "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
    "sat": "https://stac-extensions.github.io/sat/v1.0.0/schema.json",
    "sar": "https://stac-extensions.github.io/sar/v1.0.0/schema.json",
    "view": "https://stac-extensions.github.io/view/v1.0.0/schema.json",
    "label": "https://stac-extensions.github.io/label/v1.0.1/schema.json",
}


def grid_properties(grid: Grid) -> dict[str, Any]:
    """Return the ``proj:*`` and ``gsd`` properties of ``grid``."""
    return {"gsd": grid.res, "proj:code": f"EPSG:{EPSG}", "proj:shape": list(grid.shape),
            "proj:transform": list(grid.transform)[:6]}


def base_item(item_id: str, collection: str, when: datetime, grid: Grid,
              properties: dict[str, Any], extensions: tuple[str, ...] = ()) -> pystac.Item:
    """Return an Item on ``grid``: EPSG:4326 footprint and bbox, ``proj:*``, ``gsd``.

    Args:
        item_id: the item id.
        collection: the collection id.
        when: the acquisition time (UTC).
        grid: the item's main pixel grid.
        properties: the collection's own properties.
        extensions: names of :data:`EXTENSIONS` the item uses (``proj`` is always added).
    """
    corners = grid.lonlat_corners()
    lons, lats = zip(*corners, strict=True)
    geometry = {"type": "Polygon",
                "coordinates": [[[round(x, 7), round(y, 7)] for x, y in (*corners, corners[0])]]}
    item = pystac.Item(id=item_id, geometry=geometry,
                       bbox=[min(lons), min(lats), max(lons), max(lats)], datetime=when,
                       properties={**properties, **grid_properties(grid)},
                       collection=collection)
    item.stac_extensions = [EXTENSIONS[name] for name in ("proj", *extensions)]
    return item


def add_asset(item: pystac.Item, key: str, path: Path, *, title: str, roles: list[str],
              media_type: str = COG, **extra: Any) -> None:
    """Add asset ``key`` (a file written beside the item) with ``extra`` fields."""
    item.add_asset(key, pystac.Asset(href=str(path), media_type=media_type, title=title,
                                     roles=roles, extra_fields=extra))
