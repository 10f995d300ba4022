"""Sentinel-2 Level-2A (``sentinel-2-l2a``): MSI bottom-of-atmosphere reflectance and SCL.

Conventions from the Sentinel-2 L2A product specification:

- ``B01…B12``, ``B8A``: uint16, reflectance = (DN + BOA_ADD_OFFSET) / 10000, nodata 0.
  BOA_ADD_OFFSET is −1000 from processing baseline 04.00 (January 2022) and 0 before;
  :meth:`Sentinel2L2A.scale_offset` picks it from the item's ``s2:processing_baseline``
  (an item without that property is taken as ≥ 04.00, like today's archive).
- ``SCL`` (20 m, uint8) scene classes: 0 no data, 1 saturated/defective, 2 dark area /
  cast shadow, 3 cloud shadow, 4 vegetation, 5 not vegetated, 6 water, 7 unclassified,
  8 cloud medium probability, 9 cloud high probability, 10 thin cirrus, 11 snow/ice.
- ``eo:cloud_cover`` is ESA's cloudy-pixel percentage: classes 8, 9 and 10.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from terralab.products._base import Band, Product, RGBPreset

__all__ = ["SCL_CLASSES", "SENTINEL2_L2A", "Sentinel2L2A", "boa_add_offset", "decode_scl"]

#: SCL class value → flag name.
SCL_CLASSES: dict[int, str] = {
    0: "no_data", 1: "saturated_defective", 2: "dark_area", 3: "cloud_shadow",
    4: "vegetation", 5: "not_vegetated", 6: "water", 7: "unclassified",
    8: "cloud_medium_probability", 9: "cloud_high_probability", 10: "thin_cirrus",
    11: "snow_ice",
}

# (band id, common name, resolution, centre wavelength µm, description)
_MSI = (
    ("B01", "coastal", 60, 0.443, "Coastal aerosol"),
    ("B02", "blue", 10, 0.49, "Blue"),
    ("B03", "green", 10, 0.56, "Green"),
    ("B04", "red", 10, 0.665, "Red"),
    ("B05", "rededge", 20, 0.704, "Vegetation red edge 1"),
    ("B06", "rededge", 20, 0.74, "Vegetation red edge 2"),
    ("B07", "rededge", 20, 0.783, "Vegetation red edge 3"),
    ("B08", "nir", 10, 0.842, "NIR"),
    ("B8A", "rededge", 20, 0.865, "Vegetation red edge 4 (narrow NIR)"),
    ("B09", None, 60, 0.945, "Water vapour"),
    ("B11", "swir16", 20, 1.61, "SWIR 1.6"),
    ("B12", "swir22", 20, 2.19, "SWIR 2.2"),
)

_BANDS = (
    *(Band(asset=b, band_id=b, common_name=c, description=d, resolution=float(r),
           dtype="uint16", scale=1e-4, offset=-0.1, nodata=0, unit="1", wavelength=w)
      for b, c, r, w, d in _MSI),
    Band(asset="SCL", band_id="SCL", description="Scene classification map", resolution=20.0,
         dtype="uint8", nodata=0, kind="quality"),
    Band(asset="AOT", band_id="AOT", description="Aerosol optical thickness", resolution=10.0,
         dtype="uint16", scale=0.001, nodata=0, kind="auxiliary"),
    Band(asset="WVP", band_id="WVP", description="Water vapour (cm)", resolution=10.0,
         dtype="uint16", scale=0.001, nodata=0, unit="cm", kind="auxiliary"),
)


def boa_add_offset(properties: Mapping[str, Any] | None) -> int:
    """Return BOA_ADD_OFFSET (−1000 or 0) for an item's ``s2:processing_baseline``.

    Args:
        properties: the item properties; a missing baseline counts as ≥ 04.00.
    """
    baseline = (properties or {}).get("s2:processing_baseline")
    if baseline is None:
        return -1000
    return -1000 if float(baseline) >= 4.0 else 0


def decode_scl(scl: np.ndarray) -> dict[str, np.ndarray]:
    """Return one boolean array per SCL class, plus ``cloud`` (8 | 9) and ``cirrus`` (10).

    Args:
        scl: SCL values (uint8).
    """
    scl = np.asarray(scl)
    flags = {name: scl == value for value, name in SCL_CLASSES.items()}
    flags["cloud"] = flags["cloud_medium_probability"] | flags["cloud_high_probability"]
    flags["cirrus"] = flags["thin_cirrus"]
    flags["snow"] = flags["snow_ice"]
    return flags


class Sentinel2L2A(Product):
    """Sentinel-2 L2A conventions (BOA offset by processing baseline, SCL)."""

    def scale_offset(self, key: str, properties: Mapping[str, Any] | None = None
                     ) -> tuple[float, float]:
        """Return (scale, offset); reflectance bands take the offset from the baseline."""
        band = self.band(key)
        if band.kind != "reflectance":
            return band.scale, band.offset
        return band.scale, boa_add_offset(properties) * band.scale

    def decode_quality(self, qa: np.ndarray) -> dict[str, np.ndarray]:
        """Return the SCL flags (see :func:`decode_scl`)."""
        return decode_scl(qa)


SENTINEL2_L2A = Sentinel2L2A(
    id="sentinel-2-l2a",
    title="Sentinel-2 Level-2A",
    bands={b.asset: b for b in _BANDS},
    rgb=RGBPreset(("B04", "B03", "B02"), ((0.0, 0.3),) * 3),
    quality="SCL",
    assets=(*(b.asset for b in _BANDS), "visual", "preview", "safe-manifest", "granule-metadata",
            "inspire-metadata", "product-metadata", "datastrip-metadata", "tilejson",
            "rendered_preview"),
    properties=("platform", "instruments", "eo:cloud_cover", "s2:mgrs_tile",
                "s2:processing_baseline", "sat:orbit_state", "sat:relative_orbit", "proj:code"),
)
