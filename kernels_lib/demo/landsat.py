"""Write demo Landsat 8-9 Collection 2 Level-2 scenes, as USGS delivers them.

Per scene: ``<product id>_SR_B1…B7.TIF`` (uint16, DN = (ρ + 0.2) / 2.75e-5, 0 = fill),
``_ST_B10.TIF`` (uint16, DN = (T − 149) / 0.00341802), ``_QA_PIXEL.TIF`` (CFMask bits, with
the cloud dilated by 3 pixels as CFMask does), ``_MTL.txt`` and ``_MTL.json`` holding the
real scale-factor keys. ``eo:cloud_cover`` is the share of pixels with the cloud or cirrus
bit; ``landsat:cloud_cover_land`` the same over land.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pystac

from terralab.demo.clouds import CloudField, dilate
from terralab.demo.cog import write_cog
from terralab.demo.grid import EPSG, Grid, block_mode
from terralab.demo.landscape import CODES
from terralab.demo.noise import rng_for
from terralab.demo.optical import render_reflectance
from terralab.demo.schedule import Acquisition, sun_angles
from terralab.demo.spectra import surface_temperature
from terralab.demo.stac_items import add_asset, base_item
from terralab.products.landsat_c2l2 import (
    LANDSAT_C2L2,
    SR_OFFSET,
    SR_SCALE,
    ST_OFFSET,
    ST_SCALE,
    encode_qa_pixel,
)

__all__ = ["FACTOR", "item_id", "qa_flags", "write_landsat_scene"]

FACTOR = 3  # 30 m pixels on the 10 m regional grid
WRS_PATH, WRS_ROW = "119", "039"
_SR_KEYS = ("coastal", "blue", "green", "red", "nir08", "swir16", "swir22")


def _sat(acq: Acquisition) -> str:
    return "LC09" if acq.platform == "landsat-9" else "LC08"


def item_id(acq: Acquisition) -> str:
    """Return the USGS scene id, e.g. ``LC09_L2SP_119039_20240510_02_T1``."""
    return f"{_sat(acq)}_L2SP_{WRS_PATH}{WRS_ROW}_{acq.datetime:%Y%m%d}_02_T1"


def _product_id(acq: Acquisition) -> str:
    processed = acq.datetime + timedelta(days=9)
    return f"{_sat(acq)}_L2SP_{WRS_PATH}{WRS_ROW}_{acq.datetime:%Y%m%d}_{processed:%Y%m%d}_02_T1"


def qa_flags(clouds: CloudField, classes: np.ndarray) -> dict[str, np.ndarray]:
    """Return the QA_PIXEL flags of a scene on the 30 m grid (what the file holds).

    Args:
        clouds: the scene's clouds (10 m).
        classes: the land-cover map on the 30 m grid.
    """
    masks = clouds.at(FACTOR)
    cloud = masks.cloud
    dilated = dilate(cloud, 3) & ~cloud
    medium = (masks.opacity >= 0.2) & ~cloud
    return {
        "dilated_cloud": dilated, "cirrus": masks.cirrus, "cloud": cloud,
        "cloud_shadow": masks.shadow, "clear": ~cloud & ~dilated,
        "water": (classes == CODES["water"]) & ~cloud & ~dilated,
        "cloud_confidence": np.where(cloud, 3, np.where(medium, 2, 1)).astype(np.uint8),
        "cloud_shadow_confidence": np.where(masks.shadow, 3, 1).astype(np.uint8),
        "snow_confidence": np.ones(cloud.shape, dtype=np.uint8),
        "cirrus_confidence": np.where(masks.cirrus, 3, 1).astype(np.uint8),
    }


def _mtl(acq: Acquisition, grid: Grid, product_id: str, files: dict[str, str],
         cover: float, cover_land: float) -> dict[str, dict[str, dict[str, str]]]:
    """Return the MTL metadata (values as strings, like ``MTL.json``)."""
    azimuth, elevation = sun_angles(acq.datetime)
    left, bottom, right, top = grid.bounds
    sr = {}
    for n in range(1, 8):
        sr.update({f"REFLECTANCE_MAXIMUM_BAND_{n}": "1.602213",
                   f"REFLECTANCE_MINIMUM_BAND_{n}": "-0.199972",
                   f"QUANTIZE_CAL_MAX_BAND_{n}": "65535", f"QUANTIZE_CAL_MIN_BAND_{n}": "1"})
    for n in range(1, 8):
        sr[f"REFLECTANCE_MULT_BAND_{n}"] = f"{SR_SCALE:.2E}"
        sr[f"REFLECTANCE_ADD_BAND_{n}"] = f"{SR_OFFSET:.6f}"
    contents = {"ORIGIN": "Image courtesy of the U.S. Geological Survey (terralab demo)",
                "LANDSAT_PRODUCT_ID": product_id, "PROCESSING_LEVEL": "L2SP",
                "COLLECTION_NUMBER": "02", "COLLECTION_CATEGORY": "T1",
                "OUTPUT_FORMAT": "GEOTIFF"}
    contents.update({f"FILE_NAME_{k}": v for k, v in files.items()})
    return {"LANDSAT_METADATA_FILE": {
        "PRODUCT_CONTENTS": contents,
        "IMAGE_ATTRIBUTES": {
            "SPACECRAFT_ID": "LANDSAT_9" if _sat(acq) == "LC09" else "LANDSAT_8",
            "SENSOR_ID": "OLI_TIRS", "WRS_TYPE": "2", "WRS_PATH": str(int(WRS_PATH)),
            "WRS_ROW": str(int(WRS_ROW)), "DATE_ACQUIRED": f"{acq.datetime:%Y-%m-%d}",
            "SCENE_CENTER_TIME": f"{acq.datetime:%H:%M:%S}.0000000Z",
            "CLOUD_COVER": f"{cover:.2f}", "CLOUD_COVER_LAND": f"{cover_land:.2f}",
            "SUN_AZIMUTH": f"{azimuth:.8f}", "SUN_ELEVATION": f"{elevation:.8f}"},
        "PROJECTION_ATTRIBUTES": {
            "MAP_PROJECTION": "UTM", "DATUM": "WGS84", "ELLIPSOID": "WGS84",
            "UTM_ZONE": str(EPSG - 32600), "GRID_CELL_SIZE_REFLECTIVE": "30.00",
            "GRID_CELL_SIZE_THERMAL": "30.00", "REFLECTIVE_LINES": str(grid.height),
            "REFLECTIVE_SAMPLES": str(grid.width), "THERMAL_LINES": str(grid.height),
            "THERMAL_SAMPLES": str(grid.width), "ORIENTATION": "NORTH_UP",
            "CORNER_UL_PROJECTION_X_PRODUCT": f"{left:.3f}",
            "CORNER_UL_PROJECTION_Y_PRODUCT": f"{top:.3f}",
            "CORNER_LR_PROJECTION_X_PRODUCT": f"{right:.3f}",
            "CORNER_LR_PROJECTION_Y_PRODUCT": f"{bottom:.3f}"},
        "LEVEL2_SURFACE_REFLECTANCE_PARAMETERS": sr,
        "LEVEL2_SURFACE_TEMPERATURE_PARAMETERS": {
            "TEMPERATURE_MAXIMUM_BAND_ST_B10": "372.999941",
            "TEMPERATURE_MINIMUM_BAND_ST_B10": "149.003418",
            "QUANTIZE_CAL_MAXIMUM_BAND_ST_B10": "65535",
            "QUANTIZE_CAL_MINIMUM_BAND_ST_B10": "1",
            "TEMPERATURE_MULT_BAND_ST_B10": f"{ST_SCALE:.8f}",
            "TEMPERATURE_ADD_BAND_ST_B10": f"{ST_OFFSET:.6f}"},
    }}


def _mtl_txt(mtl: dict) -> str:
    """Return the ODL text of an MTL dict (numbers bare, other values quoted)."""
    lines: list[str] = []

    def walk(group: dict, depth: int) -> None:
        for key, value in group.items():
            pad = "  " * depth
            if isinstance(value, dict):
                lines.append(f"{pad}GROUP = {key}")
                walk(value, depth + 1)
                lines.append(f"{pad}END_GROUP = {key}")
            else:
                try:
                    float(value)
                    lines.append(f"{pad}{key} = {value}")
                except ValueError:
                    lines.append(f'{pad}{key} = "{value}"')

    walk(mtl, 0)
    return "\n".join([*lines, "END", ""])


def write_landsat_scene(acq: Acquisition, classes10: np.ndarray, region: Grid,
                        clouds: CloudField, folder: Path, seed: int
                        ) -> tuple[pystac.Item, list[Path]]:
    """Write one Landsat C2L2 scene into ``folder`` and return its Item and files.

    Args:
        acq: the acquisition.
        classes10: the land-cover map on the 10 m regional grid at that date.
        region: the 10 m regional grid.
        clouds: the scene's clouds.
        folder: the item folder.
        seed: the demo seed.
    """
    grid = region.coarser(30.0)
    classes = block_mode(classes10, FACTOR)
    masks = clouds.at(FACTOR)
    rng = rng_for(seed, acq.key, "pixels")
    product_id = _product_id(acq)
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for key in _SR_KEYS:
        band = LANDSAT_C2L2.band(key)
        rho = render_reflectance(classes, band.wavelength or 0.0, acq.datetime, masks, rng)
        dn = np.clip(np.round((rho - SR_OFFSET) / SR_SCALE), 1, 65535).astype(np.uint16)
        files[key] = write_cog(folder / f"{product_id}_{band.band_id}.TIF", dn, grid, nodata=0,
                               descriptions=(band.band_id,))
    kelvin = surface_temperature(classes, acq.datetime)
    kelvin = (1 - masks.opacity) * kelvin + masks.opacity * (kelvin - 25.0)
    kelvin += rng.normal(0.0, 0.5, kelvin.shape).astype(np.float32)
    st = np.clip(np.round((kelvin - ST_OFFSET) / ST_SCALE), 1, 65535).astype(np.uint16)
    files["lwir11"] = write_cog(folder / f"{product_id}_ST_B10.TIF", st, grid, nodata=0,
                                descriptions=("ST_B10",))
    flags = qa_flags(clouds, classes)
    files["qa_pixel"] = write_cog(folder / f"{product_id}_QA_PIXEL.TIF",
                                  encode_qa_pixel(flags, classes.shape), grid, nodata=1,
                                  categorical=True, descriptions=("QA_PIXEL",))
    cloudy = flags["cloud"] | flags["cirrus"]
    land = classes != CODES["water"]
    cover = round(100.0 * float(cloudy.mean()), 2)
    cover_land = round(100.0 * float(cloudy[land].mean()) if land.any() else 0.0, 2)
    names = {f"BAND_{n}": files[k].name for n, k in enumerate(_SR_KEYS, start=1)}
    names.update({"BAND_ST_B10": files["lwir11"].name,
                  "QUALITY_L1_PIXEL": files["qa_pixel"].name,
                  "METADATA_ODL": f"{product_id}_MTL.txt",
                  "METADATA_JSON": f"{product_id}_MTL.json"})
    mtl = _mtl(acq, grid, product_id, names, cover, cover_land)
    files["mtl.txt"] = folder / f"{product_id}_MTL.txt"
    files["mtl.txt"].write_text(_mtl_txt(mtl))
    files["mtl.json"] = folder / f"{product_id}_MTL.json"
    files["mtl.json"].write_text(json.dumps(mtl, indent=2))
    return _item(acq, grid, files, cover, cover_land), list(files.values())


def _item(acq: Acquisition, grid: Grid, files: dict[str, Path], cover: float,
          cover_land: float) -> pystac.Item:
    """Return the STAC Item of a written scene (Planetary Computer's keys and fields)."""
    azimuth, elevation = sun_angles(acq.datetime)
    doy = acq.datetime.timetuple().tm_yday
    item = base_item(item_id(acq), LANDSAT_C2L2.id, acq.datetime, grid, {
        "platform": acq.platform, "instruments": ["oli", "tirs"],
        "description": "Landsat Collection 2 Level-2", "eo:cloud_cover": cover,
        "view:off_nadir": 0, "view:sun_azimuth": azimuth, "view:sun_elevation": elevation,
        "landsat:wrs_type": "2", "landsat:wrs_path": WRS_PATH, "landsat:wrs_row": WRS_ROW,
        "landsat:scene_id": f"{_sat(acq)[:2]}{_sat(acq)[3]}{WRS_PATH}{WRS_ROW}"
                            f"{acq.datetime:%Y}{doy:03d}LGN00",
        "landsat:correction": "L2SP", "landsat:collection_number": "02",
        "landsat:collection_category": "T1", "landsat:cloud_cover_land": cover_land,
    }, ("eo", "raster", "view"))
    for key, path in files.items():
        if key.startswith("mtl"):
            media = "text/plain" if key == "mtl.txt" else "application/json"
            title = f"Product Metadata File ({key.split('.')[1]})"
            add_asset(item, key, path, title=title, roles=["metadata"], media_type=media)
            continue
        band = LANDSAT_C2L2.band(key)
        raster = {"nodata": band.nodata, "data_type": band.dtype, "spatial_resolution": 30}
        extra: dict = {"raster:bands": [raster]}
        if band.kind == "quality":
            raster["unit"] = "bit index"
            add_asset(item, key, path, title="Pixel Quality Assessment Band",
                      roles=["cloud", "cloud-shadow", "snow-ice", "water-mask"], **extra)
            continue
        raster.update(scale=band.scale, offset=band.offset)
        extra["eo:bands"] = [{"name": ("TIRS_" if key == "lwir11" else "OLI_") + band.band_id[3:],
                              "common_name": band.common_name, "description": band.description,
                              "center_wavelength": band.wavelength}]
        roles = ["data", "temperature" if key == "lwir11" else "reflectance"]
        add_asset(item, key, path, title=band.description, roles=roles, **extra)
    return item
