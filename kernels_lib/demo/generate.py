"""Write the demo home: seeded COGs and their STAC catalog under ``<home>/catalog/demo``.

The demo region lies in Deqing county, Huzhou, Zhejiang (EPSG:32651, see
:mod:`terralab.demo.grid`). One land-cover scene (:mod:`terralab.demo.landscape`) underlies
every sensor; the 0.5 m aerial pair is a detailed patch of it, and the changes between
its two dates show in every satellite scene after :data:`~terralab.demo.schedule.CHANGE_DATE`.

Catalog layout (relative hrefs, self-contained)::

    catalog.json
    landsat-c2-l2/collection.json    6 items (Landsat 8 and 9, 30 m)
    sentinel-2-l2a/collection.json   8 items (Sentinel-2A/2B, 10/20/60 m)
    sentinel-1-grd/collection.json   6 items (Sentinel-1A IW VV+VH σ⁰, 10 m)
    demo-aerial/collection.json      2 items (0.5 m RGB+NIR with ground truth)
    <collection>/<item id>/<item id>.json + the item's files
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pystac

from terralab._version import __version__
from terralab.demo.aerial import write_aerial_pair
from terralab.demo.aerial_scene import regional_classes
from terralab.demo.landsat import write_landsat_scene
from terralab.demo.schedule import acquisitions
from terralab.demo.sentinel1 import write_sentinel1_scene
from terralab.demo.sentinel2 import write_sentinel2_scene
from terralab.demo.truth import demo_scenes, scene_clouds
from terralab.products import get as get_product

__all__ = ["DemoData", "demo_data_exists", "write_demo_data"]

_MARKER = "demo.json"
# Bump when the demo region's content changes, so `terralab demo-data` / `up` rewrite it.
# 2: Landsat C2L2, Sentinel-2 L2A and Sentinel-1 beside the aerial pair.
DEMO_FORMAT = 2
_COLLECTIONS = {
    "landsat-c2-l2": "Landsat 8-9 Collection 2 Level-2 (synthetic, demo region).",
    "sentinel-2-l2a": "Sentinel-2 Level-2A, processing baseline 05.10 (synthetic, demo region).",
    "sentinel-1-grd": "Sentinel-1 GRD IW, σ⁰ VV+VH, linear power (synthetic, demo region).",
    "demo-aerial": "0.5 m aerial RGB+NIR, two dates, with land-cover, object and change "
                   "ground truth (synthetic).",
}


@dataclass(frozen=True)
class DemoData:
    """What :func:`write_demo_data` wrote.

    Attributes:
        root: the demo catalog folder (``<home>/catalog/demo``).
        catalog: the path of the STAC ``catalog.json``.
        files: every GeoTIFF (COG) written.
        metadata: the other data files (Landsat MTL, ground-truth GeoPackages).
        items: collection id → item ids.
    """

    root: Path
    catalog: Path
    files: tuple[Path, ...]
    metadata: tuple[Path, ...] = ()
    items: dict[str, tuple[str, ...]] | None = None


def demo_data_exists(home: Path) -> bool:
    """Return True when ``home`` holds a complete demo catalog of this version."""
    marker = home / "catalog" / "demo" / _MARKER
    if not marker.is_file():
        return False
    try:
        written = json.loads(marker.read_text())
        return written.get("version") == __version__ and written.get("format") == DEMO_FORMAT
    except (OSError, ValueError):
        return False


def write_demo_data(home: Path, *, size: int = 1024, seed: int = 42) -> DemoData:
    """Write the demo catalog under ``home/catalog/demo``.

    Args:
        home: the terralab data folder.
        size: the side in pixels of the 0.5 m aerial scenes and of the 10 m regional grid
            (so 1024 gives a ~10 km region: Landsat 342², Sentinel-2 1026² at 10 m).
        seed: the random seed; the same seed writes the same pixels.

    Returns:
        What was written.
    """
    root = home / "catalog" / "demo"
    root.mkdir(parents=True, exist_ok=True)
    (root / _MARKER).unlink(missing_ok=True)
    landscape, scene = demo_scenes(size, seed)
    region = landscape.region
    classes = {after: regional_classes(landscape, scene, after=after) for after in (False, True)}
    catalog = pystac.Catalog(
        id="terralab-demo",
        description="terralab demo region in Deqing county, Huzhou, Zhejiang (synthetic, "
                    f"seed {seed}).")
    collections: dict[str, pystac.Collection] = {}
    for cid, description in _COLLECTIONS.items():
        collections[cid] = pystac.Collection(
            id=cid, description=description, title=get_product(cid).title, license="CC0-1.0",
            extent=pystac.Extent(pystac.SpatialExtent([[0.0, 0.0, 0.0, 0.0]]),
                                 pystac.TemporalExtent([[None, None]])))
        catalog.add_child(collections[cid])
    rasters, others = [], []
    items, aerial_rasters, aerial_others = write_aerial_pair(scene, root / "demo-aerial", seed)
    rasters += aerial_rasters
    others += aerial_others
    for item in items:
        collections["demo-aerial"].add_item(item)
    for acq in acquisitions():
        folder = root / acq.collection
        land = classes[acq.after_change]
        if acq.collection == "sentinel-1-grd":
            item, files = write_sentinel1_scene(acq, land, region, folder / "tmp", seed)
        else:
            clouds = scene_clouds(acq, size=size, seed=seed)
            writer = (write_landsat_scene if acq.collection == "landsat-c2-l2"
                      else write_sentinel2_scene)
            item, files = writer(acq, land, region, clouds, folder / "tmp", seed)
        final = folder / item.id
        if final.exists():
            for old in final.iterdir():
                old.unlink()
            final.rmdir()
        (folder / "tmp").rename(final)
        for asset in item.assets.values():
            asset.href = str(final / Path(asset.href).name)
        files = [final / f.name for f in files]
        rasters += [f for f in files if f.suffix.lower() in (".tif", ".tiff")]
        others += [f for f in files if f.suffix.lower() not in (".tif", ".tiff")]
        collections[acq.collection].add_item(item)
    for collection in collections.values():
        collection.update_extent_from_items()
    catalog.normalize_hrefs(str(root))
    catalog.make_all_asset_hrefs_relative()
    catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    (root / _MARKER).write_text(json.dumps({"version": __version__, "format": DEMO_FORMAT,
                                                "seed": seed, "size": size}))
    return DemoData(root=root, catalog=root / "catalog.json", files=tuple(rasters),
                    metadata=tuple(others),
                    items={cid: tuple(i.id for i in c.get_items()) for cid, c in
                           collections.items()})
