"""Sentinel-1 GRD, IW mode (``sentinel-1-grd``): σ⁰ backscatter, VV and VH.

terralab handles GRD items as *calibrated, terrain-corrected* σ⁰ (what the demo writes and
what common preprocessing chains such as SNAP or RTC produce): linear power, float32, one
file per polarisation under the asset keys ``vv`` and ``vh``. Stored 0 is nodata (outside
the swath: σ⁰ is never exactly 0 where there is signal); :meth:`Product.to_physical` turns it
into NaN. Decibels: ``dB = 10·log10(σ⁰)`` (:func:`terralab.products.to_db`). Raw GRD
measurement files (uint16 amplitude DN in slant geometry) need calibration first and are
not read by this module. SAR has no cloud mask: :meth:`Sentinel1GRD.decode_quality` raises.
"""

from __future__ import annotations

import numpy as np

from terralab.products._base import Band, Product, RGBPreset, to_db

__all__ = ["SENTINEL1_GRD", "Sentinel1GRD", "from_db"]


def from_db(db: np.ndarray) -> np.ndarray:
    """Return linear power ``10**(dB/10)`` as float32."""
    return np.power(10.0, np.asarray(db, dtype=np.float32) / 10.0).astype(np.float32)


class Sentinel1GRD(Product):
    """Sentinel-1 GRD σ⁰ conventions."""

    to_db = staticmethod(to_db)
    from_db = staticmethod(from_db)


_BANDS = tuple(
    Band(asset=pol.lower(), band_id=pol, description=f"σ⁰ {pol} ({title}), linear power",
         resolution=10.0, dtype="float32", nodata=0.0, unit="1", kind="backscatter")
    for pol, title in (("VV", "vertical transmit, vertical receive"),
                       ("VH", "vertical transmit, horizontal receive"),
                       ("HH", "horizontal transmit, horizontal receive"),
                       ("HV", "horizontal transmit, vertical receive"))
)

SENTINEL1_GRD = Sentinel1GRD(
    id="sentinel-1-grd",
    title="Sentinel-1 GRD (IW, σ⁰)",
    bands={b.asset: b for b in _BANDS},
    rgb=RGBPreset(("vv", "vh", "vv"), ((-25.0, 0.0), (-30.0, -5.0), (-25.0, 0.0)), db=True),
    quality=None,
    assets=(*(b.asset for b in _BANDS), "thumbnail", "safe-manifest", "tilejson",
            "rendered_preview"),
    properties=("platform", "constellation", "sar:instrument_mode", "sar:polarizations",
                "sar:product_type", "sat:orbit_state", "sat:relative_orbit", "proj:code"),
)
