"""Landsat 8-9 Collection 2 Level-2 (``landsat-c2-l2``): OLI surface reflectance, TIRS ST.

Conventions from the Landsat 8-9 Collection 2 Level-2 Science Product Guide (LSDS-1619):

- surface reflectance ``SR_B1…SR_B7``: uint16, reflectance = DN · 2.75e-5 − 0.2, nodata 0;
- surface temperature ``ST_B10``: uint16, kelvin = DN · 0.00341802 + 149.0, nodata 0;
- ``QA_PIXEL``: uint16 bit flags, bit 0 fill, 1 dilated cloud, 2 cirrus, 3 cloud,
  4 cloud shadow, 5 snow, 6 clear, 7 water; two-bit confidences (0 none, 1 low, 2 medium,
  3 high) in bits 8-9 cloud, 10-11 cloud shadow, 12-13 snow/ice, 14-15 cirrus.
  Value 1 (fill only) is nodata. Examples: 21824 clear land, 21952 clear water,
  22280 high-confidence cloud.

Asset keys are those of the Planetary Computer / USGS STAC items (``coastal``, ``blue``...,
``qa_pixel``, ``lwir11``, ``mtl.txt``...).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from terralab.products._base import Band, Product, RGBPreset, bit_field

__all__ = [
    "LANDSAT_C2L2",
    "QA_BITS",
    "LandsatC2L2",
    "decode_qa_pixel",
    "encode_qa_pixel",
    "parse_mtl_txt",
]

SR_SCALE, SR_OFFSET = 2.75e-5, -0.2
ST_SCALE, ST_OFFSET = 0.00341802, 149.0

#: QA_PIXEL single-bit flags (name → bit).
QA_BITS: dict[str, int] = {
    "fill": 0, "dilated_cloud": 1, "cirrus": 2, "cloud": 3, "cloud_shadow": 4, "snow": 5,
    "clear": 6, "water": 7,
}
#: QA_PIXEL two-bit confidences (name → lowest bit).
QA_CONFIDENCE: dict[str, int] = {
    "cloud_confidence": 8, "cloud_shadow_confidence": 10, "snow_confidence": 12,
    "cirrus_confidence": 14,
}


def _sr(number: int, common: str, wavelength: float, description: str) -> Band:
    return Band(asset=common, band_id=f"SR_B{number}", common_name=common,
                description=description, resolution=30.0, dtype="uint16", scale=SR_SCALE,
                offset=SR_OFFSET, nodata=0, unit="1", wavelength=wavelength)


def _st_aux(asset: str, band_id: str, description: str, scale: float, unit: str | None
            ) -> Band:
    return Band(asset=asset, band_id=band_id, description=description, resolution=30.0,
                dtype="int16", scale=scale, nodata=-9999, unit=unit, kind="auxiliary")


_BANDS = (
    _sr(1, "coastal", 0.44, "Coastal/Aerosol"),
    _sr(2, "blue", 0.48, "Visible blue"),
    _sr(3, "green", 0.56, "Visible green"),
    _sr(4, "red", 0.65, "Visible red"),
    _sr(5, "nir08", 0.87, "Near infrared"),
    _sr(6, "swir16", 1.61, "Short-wave infrared 1.6"),
    _sr(7, "swir22", 2.2, "Short-wave infrared 2.2"),
    Band(asset="lwir11", band_id="ST_B10", common_name="lwir11", description="Surface temperature",
         resolution=30.0, dtype="uint16", scale=ST_SCALE, offset=ST_OFFSET, nodata=0, unit="K",
         wavelength=10.9, kind="temperature"),
    Band(asset="qa_pixel", band_id="QA_PIXEL", description="Pixel quality bit flags",
         resolution=30.0, dtype="uint16", nodata=1, unit="bit index", kind="quality"),
    Band(asset="qa_radsat", band_id="QA_RADSAT", description="Saturation and terrain occlusion",
         resolution=30.0, dtype="uint16", unit="bit index", kind="quality"),
    Band(asset="qa_aerosol", band_id="SR_QA_AEROSOL", description="Aerosol quality",
         resolution=30.0, dtype="uint8", nodata=1, unit="bit index", kind="quality"),
    _st_aux("qa", "ST_QA", "Surface temperature uncertainty", 0.01, "K"),
    _st_aux("atran", "ST_ATRAN", "Atmospheric transmittance", 0.0001, None),
    _st_aux("cdist", "ST_CDIST", "Distance to cloud", 0.01, "km"),
    _st_aux("drad", "ST_DRAD", "Downwelled radiance", 0.001, "W/(m2 sr um)"),
    _st_aux("urad", "ST_URAD", "Upwelled radiance", 0.001, "W/(m2 sr um)"),
    _st_aux("trad", "ST_TRAD", "Thermal radiance", 0.001, "W/(m2 sr um)"),
    _st_aux("emis", "ST_EMIS", "Emissivity", 0.0001, None),
    _st_aux("emsd", "ST_EMSD", "Emissivity standard deviation", 0.0001, None),
)


def decode_qa_pixel(qa: np.ndarray) -> dict[str, np.ndarray]:
    """Return the QA_PIXEL flags: one boolean array per bit, one uint8 array per confidence.

    Args:
        qa: QA_PIXEL values (uint16).

    Returns:
        ``fill``, ``dilated_cloud``, ``cirrus``, ``cloud``, ``cloud_shadow``, ``snow``,
        ``clear``, ``water`` (bool) and ``cloud_confidence``, ``cloud_shadow_confidence``,
        ``snow_confidence``, ``cirrus_confidence`` (0 none, 1 low, 2 medium, 3 high).
    """
    flags: dict[str, np.ndarray] = {k: bit_field(qa, b).astype(bool) for k, b in QA_BITS.items()}
    for name, start in QA_CONFIDENCE.items():
        flags[name] = bit_field(qa, start, 2).astype(np.uint8)
    return flags


def encode_qa_pixel(flags: dict[str, np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """Return QA_PIXEL values holding ``flags`` (the inverse of :func:`decode_qa_pixel`).

    Args:
        flags: any of the names of :func:`decode_qa_pixel`; missing ones are 0.
        shape: the output shape.
    """
    qa = np.zeros(shape, dtype=np.uint16)
    for name, bit in QA_BITS.items():
        if name in flags:
            qa |= (np.asarray(flags[name], dtype=np.uint16) & 1) << bit
    for name, start in QA_CONFIDENCE.items():
        if name in flags:
            qa |= (np.asarray(flags[name], dtype=np.uint16) & 3) << start
    return qa


def parse_mtl_txt(text: str) -> dict[str, Any]:
    """Parse a Landsat ``MTL.txt`` (``GROUP = …`` / ``KEY = value``) into nested dicts.

    Values stay strings (as in ``MTL.json``), quotes removed.
    """
    root: dict[str, Any] = {}
    stack = [root]
    for line in text.splitlines():
        match = re.match(r"\s*(\w+)\s*=\s*(.*?)\s*$", line)
        if not match:
            continue
        key, value = match.groups()
        if key == "GROUP":
            stack[-1][value] = {}
            stack.append(stack[-1][value])
        elif key == "END_GROUP":
            stack.pop()
        else:
            stack[-1][key] = value.strip('"')
    return root


class LandsatC2L2(Product):
    """Landsat 8-9 Collection 2 Level-2 conventions."""

    def decode_quality(self, qa: np.ndarray) -> dict[str, np.ndarray]:
        """Return the QA_PIXEL flags (see :func:`decode_qa_pixel`)."""
        return decode_qa_pixel(qa)

    def scale_offset_from_mtl(self, mtl: dict[str, Any], key: str) -> tuple[float, float]:
        """Return (scale, offset) of band ``key`` read from a parsed MTL (txt or json).

        Args:
            mtl: the parsed metadata (``LANDSAT_METADATA_FILE`` at the top).
            key: a reflectance band key or ``lwir11``.
        """
        meta = mtl.get("LANDSAT_METADATA_FILE", mtl)
        band_id = self.band(key).band_id
        if band_id.startswith("SR_B"):
            group = meta["LEVEL2_SURFACE_REFLECTANCE_PARAMETERS"]
            n = band_id[4:]
            return (float(group[f"REFLECTANCE_MULT_BAND_{n}"]),
                    float(group[f"REFLECTANCE_ADD_BAND_{n}"]))
        group = meta["LEVEL2_SURFACE_TEMPERATURE_PARAMETERS"]
        return (float(group["TEMPERATURE_MULT_BAND_ST_B10"]),
                float(group["TEMPERATURE_ADD_BAND_ST_B10"]))


LANDSAT_C2L2 = LandsatC2L2(
    id="landsat-c2-l2",
    title="Landsat 8-9 Collection 2 Level-2",
    bands={b.asset: b for b in _BANDS},
    rgb=RGBPreset(("red", "green", "blue"), ((0.0, 0.3),) * 3),
    quality="qa_pixel",
    assets=(*(b.asset for b in _BANDS), "ang", "mtl.txt", "mtl.xml", "mtl.json", "tilejson",
            "rendered_preview"),
    properties=("platform", "instruments", "eo:cloud_cover", "landsat:cloud_cover_land",
                "landsat:wrs_path", "landsat:wrs_row", "landsat:collection_category",
                "view:sun_azimuth", "view:sun_elevation", "proj:code", "gsd"),
)
