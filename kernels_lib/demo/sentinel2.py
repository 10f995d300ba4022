"""Write demo Sentinel-2 L2A scenes, as the ESA SAFE granule holds them (baseline 05.10).

Per scene: ``T51RTP_<time>_<band>_<res>m.tif`` for B01…B12 and B8A at their native 10, 20
or 60 m (uint16, DN = ρ · 10000 + 1000: BOA_ADD_OFFSET −1000, 0 = nodata), the scene
classification ``SCL_20m`` and the true-colour ``TCI_10m`` (uint8, ρ 0…0.2 → 1…255).
SCL: 9 where the cloud opacity is ≥ 0.8, 8 where it is ≥ 0.5, 10 thin cirrus, 3 cloud
shadow, else 6 water, 4 vegetation, 5 not vegetated. ``eo:cloud_cover`` is the share of
SCL 8, 9 and 10 (ESA's cloudy-pixel percentage).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pystac

from terralab.demo.clouds import CloudField, CloudMasks
from terralab.demo.cog import write_cog
from terralab.demo.grid import MGRS_TILE, Grid, block_mode
from terralab.demo.landscape import CODES
from terralab.demo.noise import rng_for
from terralab.demo.optical import render_reflectance
from terralab.demo.schedule import Acquisition, sun_angles
from terralab.demo.stac_items import COG, add_asset, base_item, grid_properties
from terralab.products.sentinel2_l2a import SENTINEL2_L2A

__all__ = ["BASELINE", "item_id", "scl_classes", "write_sentinel2_scene"]

BASELINE = "05.10"
BOA_ADD_OFFSET = -1000
ORBIT = 89
_BANDS = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12")
_VEGETATION = (CODES["cropland"], CODES["forest"], CODES["grass"])


def _generated(acq: Acquisition):
    return acq.datetime + timedelta(hours=3, minutes=34, seconds=19)


def item_id(acq: Acquisition) -> str:
    """Return the item id, e.g. ``S2A_MSIL2A_20240512T023551_R089_T51RTP_20240512T061010``."""
    return (f"S2{acq.platform[-1]}_MSIL2A_{acq.datetime:%Y%m%dT%H%M%S}_R{ORBIT:03d}_T{MGRS_TILE}"
            f"_{_generated(acq):%Y%m%dT%H%M%S}")


def scl_classes(clouds: CloudField, classes20: np.ndarray) -> np.ndarray:
    """Return the SCL map (uint8) of a scene on the 20 m grid (what the file holds)."""
    masks = clouds.at(2)
    scl = np.full(classes20.shape, 5, dtype=np.uint8)
    scl[np.isin(classes20, _VEGETATION)] = 4
    scl[classes20 == CODES["water"]] = 6
    scl[masks.shadow] = 3
    scl[masks.cirrus] = 10
    scl[masks.cloud] = 8
    scl[masks.cloud & (masks.opacity >= 0.8)] = 9
    return scl


def write_sentinel2_scene(acq: Acquisition, classes10: np.ndarray, region: Grid,
                          clouds: CloudField, folder: Path, seed: int
                          ) -> tuple[pystac.Item, list[Path]]:
    """Write one Sentinel-2 L2A scene into ``folder`` and return its Item and files.

    Args:
        acq: the acquisition.
        classes10: the land-cover map on the 10 m regional grid at that date.
        region: the 10 m regional grid.
        clouds: the scene's clouds.
        folder: the item folder.
        seed: the demo seed.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = rng_for(seed, acq.key, "pixels")
    stem = f"T{MGRS_TILE}_{acq.datetime:%Y%m%dT%H%M%S}"
    files: dict[str, Path] = {}
    grids: dict[str, Grid] = {}
    rgb: dict[str, np.ndarray] = {}
    by_factor: dict[int, tuple[np.ndarray, CloudMasks]] = {}  # bands share their grids
    for key in _BANDS:
        band = SENTINEL2_L2A.band(key)
        res = int(band.resolution)
        factor = res // 10
        grid = region.coarser(float(res))
        if factor not in by_factor:
            by_factor[factor] = (block_mode(classes10, factor), clouds.at(factor))
        classes, masks = by_factor[factor]
        rho = render_reflectance(classes, band.wavelength or 0.0, acq.datetime, masks, rng)
        if key in ("B02", "B03", "B04"):
            rgb[key] = rho
        dn = np.clip(np.round(rho * 10000) - BOA_ADD_OFFSET, 1, 65535).astype(np.uint16)
        files[key] = write_cog(folder / f"{stem}_{key}_{res}m.tif", dn, grid, nodata=0,
                               descriptions=(key,))
        grids[key] = grid
    grid20 = region.coarser(20.0)
    scl = scl_classes(clouds, by_factor[2][0])  # the 20 m bands made it
    files["SCL"] = write_cog(folder / f"{stem}_SCL_20m.tif", scl, grid20, nodata=0,
                             categorical=True, descriptions=("SCL",))
    grids["SCL"] = grid20
    tci = np.stack([rgb[k] for k in ("B04", "B03", "B02")])
    tci = np.clip(np.round(tci / 0.2 * 255), 1, 255).astype(np.uint8)
    files["visual"] = write_cog(folder / f"{stem}_TCI_10m.tif", tci, region, nodata=0,
                                descriptions=("B04", "B03", "B02"))
    grids["visual"] = region
    return _item(acq, region, files, grids, scl), list(files.values())


def _percentages(scl: np.ndarray) -> dict[str, float]:
    share = lambda *values: round(100.0 * float(np.isin(scl, values).mean()), 6)  # noqa: E731
    return {
        "eo:cloud_cover": share(8, 9, 10),
        "s2:high_proba_clouds_percentage": share(9),
        "s2:medium_proba_clouds_percentage": share(8),
        "s2:thin_cirrus_percentage": share(10),
        "s2:cloud_shadow_percentage": share(3),
        "s2:vegetation_percentage": share(4),
        "s2:not_vegetated_percentage": share(5),
        "s2:water_percentage": share(6),
        "s2:unclassified_percentage": share(7),
        "s2:dark_features_percentage": share(2),
        "s2:snow_ice_percentage": share(11),
        "s2:saturated_defective_pixel_percentage": share(1),
        "s2:nodata_pixel_percentage": share(0),
    }


def _item(acq: Acquisition, region: Grid, files: dict[str, Path], grids: dict[str, Grid],
          scl: np.ndarray) -> pystac.Item:
    """Return the STAC Item of a written scene (Planetary Computer's keys and fields)."""
    azimuth, elevation = sun_angles(acq.datetime)
    sat = f"S2{acq.platform[-1]}"
    generated = _generated(acq)
    when = f"{acq.datetime:%Y%m%dT%H%M%S}"
    baseline = BASELINE.replace(".", "")
    item = base_item(item_id(acq), SENTINEL2_L2A.id, acq.datetime, region, {
        "platform": acq.platform, "instruments": ["msi"], "constellation": "Sentinel 2",
        "s2:mgrs_tile": MGRS_TILE, "s2:processing_baseline": BASELINE,
        "s2:product_type": "S2MSI2A",
        "s2:product_uri": f"{sat}_MSIL2A_{when}_N{baseline}_R{ORBIT:03d}_T{MGRS_TILE}_"
                          f"{generated:%Y%m%dT%H%M%S}.SAFE",
        "s2:granule_id": f"{sat}_OPER_MSI_L2A_TL_MSFT_{generated:%Y%m%dT%H%M%S}_T{MGRS_TILE}"
                         f"_N{BASELINE}",
        "s2:datatake_id": f"G{sat}_{when}_N{BASELINE}",
        "s2:generation_time": f"{generated:%Y-%m-%dT%H:%M:%S}Z",
        "s2:mean_solar_zenith": round(90.0 - elevation, 6),
        "s2:mean_solar_azimuth": azimuth,
        "sat:orbit_state": "descending", "sat:relative_orbit": ORBIT,
        **_percentages(scl),
    }, ("eo", "raster", "sat"))
    for key, path in files.items():
        grid = grids[key]
        extra = {"gsd": grid.res, "proj:shape": list(grid.shape),
                 "proj:transform": grid_properties(grid)["proj:transform"]}
        if key == "visual":
            extra["eo:bands"] = [{"name": b, "common_name": SENTINEL2_L2A.band(b).common_name}
                                 for b in ("B04", "B03", "B02")]
            add_asset(item, key, path, title="True color image", roles=["data", "visual"],
                      media_type=COG, **extra)
            continue
        band = SENTINEL2_L2A.band(key)
        raster = {"nodata": 0, "data_type": band.dtype, "spatial_resolution": grid.res}
        if key == "SCL":
            add_asset(item, key, path, title="Scene classification map (SCL)",
                      roles=["data", "cloud"], **extra, **{"raster:bands": [raster]})
            continue
        raster.update(scale=band.scale, offset=BOA_ADD_OFFSET * band.scale)
        eo = {"name": key, "description": f"Band {key[1:].lstrip('0')} - {band.description}",
              "center_wavelength": band.wavelength}
        if band.common_name:
            eo["common_name"] = band.common_name
        add_asset(item, key, path, title=f"Band {key[1:].lstrip('0')} - {band.description} - "
                  f"{int(grid.res)}m", roles=["data", "reflectance"], **extra,
                  **{"eo:bands": [eo], "raster:bands": [raster]})
    return item
