"""Write the demo home: seeded GeoTIFFs (COGs) and their STAC catalog under TERRALAB_HOME.

The demo region lies around Deqing, Zhejiang (UTM zone 51N). This first version holds a
0.5 m aerial RGB+NIR pair (two dates) with land-cover and change ground truth.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pystac
import rasterio
from pyproj import Transformer
from rasterio.crs import CRS
from rasterio.shutil import copy as rio_copy
from rasterio.transform import from_origin

from terralab._version import __version__
from terralab.demo.landscape import change_buildings, make_landscape
from terralab.demo.render import render_aerial
from terralab.landcover import CLASSES

__all__ = ["DemoData", "demo_data_exists", "write_demo_data"]

EPSG = 32651  # WGS 84 / UTM zone 51N
ORIGIN = (225_000.0, 3_385_000.0)  # upper-left corner, near Deqing, Zhejiang
RESOLUTION = 0.5
DATES = (datetime(2024, 5, 10, 2, 30, tzinfo=UTC), datetime(2025, 5, 12, 2, 30, tzinfo=UTC))
COLLECTION = "demo-aerial"
_MARKER = "demo.json"


@dataclass(frozen=True)
class DemoData:
    """What :func:`write_demo_data` wrote.

    Attributes:
        root: the demo catalog folder (``<home>/catalog/demo``).
        catalog: the path of the STAC ``catalog.json``.
        files: every GeoTIFF written.
    """

    root: Path
    catalog: Path
    files: tuple[Path, ...]


def demo_data_exists(home: Path) -> bool:
    """Return True when ``home`` holds a complete demo catalog of this version."""
    marker = home / "catalog" / "demo" / _MARKER
    if not marker.is_file():
        return False
    try:
        return json.loads(marker.read_text()).get("version") == __version__
    except (OSError, ValueError):
        return False


def _write_cog(path: Path, data: np.ndarray, *, nodata: float | None = None, **tags: str) -> None:
    """Write ``data`` (bands, rows, cols) as a COG with overviews on the demo grid."""
    profile = {
        "driver": "GTiff",
        "count": data.shape[0],
        "height": data.shape[1],
        "width": data.shape[2],
        "dtype": data.dtype.name,
        "crs": CRS.from_epsg(EPSG),
        "transform": from_origin(*ORIGIN, RESOLUTION, RESOLUTION),
        "nodata": nodata,
    }
    tmp = path.with_suffix(".tmp.tif")
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.write(data)
        dst.update_tags(**tags)
    rio_copy(tmp, path, driver="COG", compress="DEFLATE", blocksize=256,
             overview_resampling="average")
    tmp.unlink()


def _item(item_id: str, when: datetime, shape: tuple[int, int], seed: int) -> pystac.Item:
    """Return a STAC Item for one demo scene on the demo grid, with projection metadata."""
    left, top = ORIGIN
    right, bottom = left + shape[1] * RESOLUTION, top - shape[0] * RESOLUTION
    to_lonlat = Transformer.from_crs(EPSG, 4326, always_xy=True)
    corners = [to_lonlat.transform(x, y) for x, y in ((left, bottom), (right, bottom),
                                                        (right, top), (left, top))]
    lons, lats = zip(*corners, strict=True)
    geometry = {"type": "Polygon", "coordinates": [[*map(list, corners), list(corners[0])]]}
    return pystac.Item(
        id=item_id,
        geometry=geometry,
        bbox=[min(lons), min(lats), max(lons), max(lats)],
        datetime=when,
        properties={
            "gsd": RESOLUTION,
            "proj:code": f"EPSG:{EPSG}",
            "proj:shape": list(shape),
            "proj:transform": list(from_origin(*ORIGIN, RESOLUTION, RESOLUTION))[:6],
            "terralab:seed": seed,
        },
        collection=COLLECTION,
    )


def write_demo_data(home: Path, *, size: int = 1024, seed: int = 42) -> DemoData:
    """Write the demo catalog under ``home/catalog/demo``.

    Args:
        home: the terralab data folder.
        size: the side of each scene in pixels (0.5 m pixels).
        seed: the random seed; the same seed writes the same pixels.

    Returns:
        What was written.
    """
    root = home / "catalog" / "demo"
    root.mkdir(parents=True, exist_ok=True)
    (root / _MARKER).unlink(missing_ok=True)

    before = make_landscape(size, seed)
    after, change = change_buildings(before, seed + 1)
    catalog = pystac.Catalog(
        id="terralab-demo",
        description="terralab demo region around Deqing, Zhejiang (synthetic, seeded).",
    )
    collection = pystac.Collection(
        id=COLLECTION,
        description="0.5 m aerial RGB+NIR, two dates, with land-cover and change ground truth.",
        extent=pystac.Extent(pystac.SpatialExtent([[0, 0, 0, 0]]),
                             pystac.TemporalExtent([[DATES[0], DATES[1]]])),
    )
    catalog.add_child(collection)
    legend = json.dumps({c.code: c.name for c in CLASSES})
    files: list[Path] = []
    for index, (when, classes) in enumerate(zip(DATES, (before, after), strict=True)):
        item_id = f"deqing-aerial-{when:%Y%m%d}"
        folder = root / COLLECTION / item_id
        folder.mkdir(parents=True, exist_ok=True)
        image = folder / "image.tif"
        labels = folder / "landcover.tif"
        _write_cog(image, render_aerial(classes, seed + 10 + index), nodata=0,
                   BAND_NAMES="red,green,blue,nir")
        _write_cog(labels, classes[None], nodata=0, CLASSES=legend)
        item = _item(item_id, when, classes.shape, seed)
        item.add_asset("image", pystac.Asset(
            href=str(image), media_type=pystac.MediaType.COG, roles=["data"],
            title="RGB+NIR, 8 bit", extra_fields={"eo:bands": [
                {"name": n} for n in ("red", "green", "blue", "nir")]}))
        item.add_asset("landcover", pystac.Asset(
            href=str(labels), media_type=pystac.MediaType.COG, roles=["labels"],
            title="Land-cover ground truth (10 classes)"))
        if index == 1:
            mask = folder / "change.tif"
            _write_cog(mask, change[None], nodata=None)
            item.add_asset("change", pystac.Asset(
                href=str(mask), media_type=pystac.MediaType.COG, roles=["labels"],
                title=f"Change since {DATES[0]:%Y-%m-%d} (1 = changed)"))
            files.append(mask)
        collection.add_item(item)
        files.extend([image, labels])
    collection.update_extent_from_items()
    catalog.normalize_hrefs(str(root))
    catalog.make_all_asset_hrefs_relative()
    catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    (root / _MARKER).write_text(json.dumps({"version": __version__, "seed": seed, "size": size}))
    return DemoData(root=root, catalog=root / "catalog.json", files=tuple(files))
