"""The generator's ground truth, recomputed from the seed: what every demo file should show.

Tests and tutorials use these to check readers against the generator: the land-cover map
under each scene, the clouds of each optical scene and the masks its QA / SCL band holds.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from terralab.demo import landsat, sentinel1, sentinel2
from terralab.demo.aerial_scene import AerialScene, make_aerial_scene, regional_classes
from terralab.demo.clouds import CloudField, make_clouds
from terralab.demo.grid import block_mode, region_grid
from terralab.demo.landscape import Landscape, make_landscape
from terralab.demo.noise import rng_for
from terralab.demo.schedule import Acquisition, acquisitions, sun_angles

__all__ = ["acquisition", "demo_scenes", "item_ids", "optical_masks", "regional_landcover",
           "scene_clouds", "scene_landcover"]

_ID = {"landsat-c2-l2": landsat.item_id, "sentinel-2-l2a": sentinel2.item_id,
       "sentinel-1-grd": sentinel1.item_id}


@lru_cache(maxsize=4)
def demo_scenes(size: int, seed: int) -> tuple[Landscape, AerialScene]:
    """Return the regional scene and the aerial patch of a demo (cached)."""
    landscape = make_landscape(size, seed)
    return landscape, make_aerial_scene(landscape, size, seed)


def item_ids() -> dict[str, list[str]]:
    """Return the satellite item ids of the demo, per collection."""
    ids: dict[str, list[str]] = {}
    for acq in acquisitions():
        ids.setdefault(acq.collection, []).append(_ID[acq.collection](acq))
    return ids


def acquisition(item_id: str) -> Acquisition:
    """Return the acquisition of a demo satellite item.

    Raises:
        KeyError: for an id that is not a demo satellite item.
    """
    for acq in acquisitions():
        if _ID[acq.collection](acq) == item_id:
            return acq
    raise KeyError(f"{item_id!r} is not a demo satellite item")


def regional_landcover(*, size: int, seed: int, after: bool) -> np.ndarray:
    """Return the 10 m regional class map before or after the change date."""
    landscape, scene = demo_scenes(size, seed)
    return regional_classes(landscape, scene, after=after)


def scene_landcover(item_id: str, *, size: int, seed: int) -> np.ndarray:
    """Return the 10 m class map a demo satellite item was rendered from."""
    return regional_landcover(size=size, seed=seed, after=acquisition(item_id).after_change)


def scene_clouds(acq: Acquisition, *, size: int, seed: int) -> CloudField:
    """Return the clouds of an optical acquisition on the 10 m regional grid."""
    azimuth, elevation = sun_angles(acq.datetime)
    return make_clouds(rng_for(seed, acq.key, "clouds"), region_grid(size).shape,
                       cover=acq.cloud, cirrus_cover=acq.cirrus, sun_azimuth=azimuth,
                       sun_elevation=elevation)


def optical_masks(item_id: str, *, size: int, seed: int) -> dict[str, np.ndarray]:
    """Return the flags the quality band of an optical demo item holds, on its grid.

    Landsat: every QA_PIXEL flag of :func:`terralab.products.landsat_c2l2.decode_qa_pixel`
    (30 m); Sentinel-2: ``cloud``, ``cirrus``, ``cloud_shadow`` and
    ``cloud_high_probability`` as :func:`terralab.products.sentinel2_l2a.decode_scl` names
    them (20 m). Computed from the generator's clouds and land cover, not from the files.
    """
    acq = acquisition(item_id)
    clouds = scene_clouds(acq, size=size, seed=seed)
    classes = scene_landcover(item_id, size=size, seed=seed)
    if acq.collection == "landsat-c2-l2":
        return landsat.qa_flags(clouds, block_mode(classes, landsat.FACTOR))
    if acq.collection == "sentinel-2-l2a":
        masks = clouds.at(2)
        return {"cloud": masks.cloud, "cirrus": masks.cirrus, "cloud_shadow": masks.shadow,
                "cloud_high_probability": masks.cloud & (masks.opacity >= 0.8)}
    raise KeyError(f"{item_id!r} is not an optical item")
