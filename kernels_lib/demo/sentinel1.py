"""Write demo Sentinel-1 GRD (IW, dual-pol VV+VH) scenes as calibrated σ⁰.

Per scene: ``s1a-iw-grd-vv-….tiff`` and ``s1a-iw-grd-vh-….tiff`` (the SAFE measurement
names), terrain-corrected σ⁰ on the 10 m regional grid, linear power, float32, nodata 0.
Each pixel is the class's σ⁰ (:data:`terralab.demo.spectra.SIGMA0_DB`) with a gentle
incidence-angle trend, crop growth (±1.5 dB) and gamma speckle of ENL :data:`ENL`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pystac

from terralab.demo.cog import write_cog
from terralab.demo.grid import Grid
from terralab.demo.landscape import CODES
from terralab.demo.noise import rng_for
from terralab.demo.schedule import Acquisition
from terralab.demo.spectra import SIGMA0_DB, green_up
from terralab.demo.stac_items import add_asset, base_item
from terralab.products.sentinel1_grd import SENTINEL1_GRD

__all__ = ["ENL", "item_id", "write_sentinel1_scene"]

ENL = 4.4
_REFERENCE = (53498, 0)  # S1A absolute orbit on 2024-04-19
_REFERENCE_TIME = (2024, 4, 19)


def _orbit(acq: Acquisition) -> tuple[int, int, str]:
    """Return (absolute orbit, relative orbit, datatake hex) of an S1A acquisition."""
    start = acq.datetime.replace(hour=0, minute=0, second=0)
    days = (start - start.replace(*_REFERENCE_TIME)).days
    absolute = _REFERENCE[0] + round(days * 175 / 12)
    relative = (absolute - 73) % 175 + 1
    return absolute, relative, f"{(absolute * 2654435761) % 0xFFFFFF:06X}"


def item_id(acq: Acquisition) -> str:
    """Return the product id, e.g. ``S1A_IW_GRDH_1SDV_20240514T100129_…_053862_06A2F1``."""
    absolute, _, datatake = _orbit(acq)
    end = acq.datetime + timedelta(seconds=25)
    return (f"S1A_IW_GRDH_1SDV_{acq.datetime:%Y%m%dT%H%M%S}_{end:%Y%m%dT%H%M%S}_"
            f"{absolute:06d}_{datatake}")


def write_sentinel1_scene(acq: Acquisition, classes10: np.ndarray, region: Grid, folder: Path,
                          seed: int) -> tuple[pystac.Item, list[Path]]:
    """Write one Sentinel-1 GRD scene into ``folder`` and return its Item and files.

    Args:
        acq: the acquisition.
        classes10: the land-cover map on the 10 m regional grid at that date.
        region: the 10 m regional grid.
        folder: the item folder.
        seed: the demo seed.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = rng_for(seed, acq.key, "pixels")
    absolute, _, datatake = _orbit(acq)
    end = acq.datetime + timedelta(seconds=25)
    trend = np.linspace(1.0, -1.0, region.width, dtype=np.float32)[None, :]  # near → far range
    growth = 3.0 * (green_up(acq.datetime) - 0.65)
    files: dict[str, Path] = {}
    for index, pol in enumerate(("VV", "VH")):
        lut = np.zeros(256, dtype=np.float32)
        for code, values in SIGMA0_DB.items():
            lut[code] = values[index] + (growth if code == CODES["cropland"] else 0.0)
        db = lut[classes10] + trend
        speckle = rng.gamma(ENL, 1.0 / ENL, size=db.shape).astype(np.float32)
        sigma0 = np.maximum(np.power(10.0, db / 10.0) * speckle, 1e-6).astype(np.float32)
        name = (f"s1a-iw-grd-{pol.lower()}-{acq.datetime:%Y%m%dt%H%M%S}-{end:%Y%m%dt%H%M%S}-"
                f"{absolute:06d}-{datatake.lower()}-00{index + 1}.tiff")
        files[pol.lower()] = write_cog(folder / name, sigma0, region, nodata=0.0,
                                       descriptions=(f"sigma0_{pol}",))
    return _item(acq, region, files), list(files.values())


def _item(acq: Acquisition, region: Grid, files: dict[str, Path]) -> pystac.Item:
    """Return the STAC Item of a written scene (Planetary Computer's fields)."""
    absolute, relative, datatake = _orbit(acq)
    end = acq.datetime + timedelta(seconds=25)
    item = base_item(item_id(acq), SENTINEL1_GRD.id, acq.datetime, region, {
        "platform": acq.platform, "constellation": "Sentinel-1",
        "start_datetime": acq.datetime.isoformat(), "end_datetime": end.isoformat(),
        "sar:instrument_mode": "IW", "sar:polarizations": ["VV", "VH"],
        "sar:product_type": "GRD", "sar:frequency_band": "C", "sar:center_frequency": 5.405,
        "sar:resolution_range": 20, "sar:resolution_azimuth": 22,
        "sar:pixel_spacing_range": 10, "sar:pixel_spacing_azimuth": 10,
        "sar:looks_range": 5, "sar:looks_azimuth": 1, "sar:looks_equivalent_number": ENL,
        "sar:observation_direction": "right", "sat:orbit_state": "ascending",
        "sat:relative_orbit": relative, "sat:absolute_orbit": absolute,
        "s1:datatake_id": str(int(datatake, 16)), "s1:resolution": "high",
        "s1:processing_level": "1", "s1:product_timeliness": "Fast-24h",
    }, ("sar", "sat", "raster"))
    for key, path in files.items():
        band = SENTINEL1_GRD.band(key)
        add_asset(item, key, path, title=f"{key.upper()}: {band.description}",
                  roles=["data"], **{"raster:bands": [{
                      "nodata": 0, "data_type": "float32", "spatial_resolution": 10.0,
                      "unit": "sigma0 (linear power)"}]})
    return item
