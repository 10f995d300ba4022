"""Per-class surface properties: optical reflectance, surface temperature, C-band σ⁰.

Typical values from spectral libraries and SAR literature, rounded; the generator renders
every sensor from these tables, and the tests check the files against them.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

__all__ = ["CLOUD_TOP", "NOISE", "SIGMA0_DB", "class_reflectance", "cloud_reflectance",
           "green_up", "reflectance_lut", "surface_temperature"]

#: Relative (1 σ) multiplicative texture noise of optical reflectance.
NOISE = 0.04
_NODES = np.array([0.44, 0.49, 0.56, 0.665, 0.705, 0.74, 0.783, 0.842, 0.865, 0.945, 1.61, 2.2])
_TABLE: dict[int, tuple[float, ...]] = {
    1: (0.04, 0.05, 0.09, 0.06, 0.12, 0.28, 0.34, 0.38, 0.39, 0.37, 0.24, 0.12),  # cropland
    2: (0.03, 0.03, 0.06, 0.03, 0.09, 0.25, 0.32, 0.35, 0.36, 0.34, 0.17, 0.07),  # forest
    3: (0.05, 0.06, 0.10, 0.08, 0.14, 0.25, 0.29, 0.31, 0.32, 0.30, 0.27, 0.15),  # grass
    4: (0.14, 0.15, 0.17, 0.19, 0.21, 0.22, 0.23, 0.24, 0.24, 0.24, 0.27, 0.24),  # building
    5: (0.10, 0.11, 0.12, 0.13, 0.14, 0.15, 0.15, 0.16, 0.16, 0.16, 0.19, 0.17),  # road
    6: (0.16, 0.17, 0.19, 0.20, 0.21, 0.22, 0.22, 0.23, 0.23, 0.23, 0.25, 0.22),  # structure
    7: (0.08, 0.10, 0.13, 0.17, 0.20, 0.22, 0.23, 0.24, 0.25, 0.25, 0.32, 0.28),  # excavated
    8: (0.10, 0.12, 0.16, 0.20, 0.23, 0.25, 0.27, 0.28, 0.28, 0.29, 0.35, 0.30),  # bare
    9: (0.06, 0.06, 0.07, 0.04, 0.03, 0.02, 0.015, 0.012, 0.01, 0.008, 0.005, 0.003),  # water
    10: (0.75, 0.75, 0.74, 0.72, 0.71, 0.70, 0.69, 0.68, 0.67, 0.62, 0.45, 0.28),  # cloud
}
#: Reflectance of a thick cloud top (the "unknown / cloud" spectrum).
CLOUD_TOP = _TABLE[10]
#: C-band σ⁰ in dB per class: (VV, VH).
SIGMA0_DB: dict[int, tuple[float, float]] = {
    1: (-10.0, -17.0), 2: (-7.5, -13.5), 3: (-11.0, -18.0), 4: (0.0, -7.0), 5: (-14.0, -21.0),
    6: (-3.0, -10.0), 7: (-12.0, -19.0), 8: (-13.0, -20.0), 9: (-23.0, -30.0),
}
# Surface temperature offsets (K) from the seasonal air temperature.
_TEMPERATURE = {1: 0.0, 2: -2.0, 3: 0.5, 4: 6.0, 5: 7.0, 6: 5.0, 7: 5.0, 8: 5.0, 9: -3.0}


def green_up(when: datetime) -> float:
    """Return the crop green-up (0.3 in winter … 1 in July) of the date."""
    return float(0.65 + 0.35 * np.sin(2 * np.pi * (when.timetuple().tm_yday - 100) / 365))


def class_reflectance(code: int, wavelength: float, when: datetime) -> float:
    """Return the surface reflectance of class ``code`` at ``wavelength`` µm on ``when``.

    Cropland mixes its green spectrum with bare soil by :func:`green_up`.
    """
    value = float(np.interp(wavelength, _NODES, _TABLE[code]))
    if code == 1:
        soil = 0.8 * float(np.interp(wavelength, _NODES, _TABLE[8]))
        g = green_up(when)
        value = g * value + (1 - g) * soil
    return value


def cloud_reflectance(wavelength: float) -> float:
    """Return the reflectance of a thick cloud at ``wavelength`` µm."""
    return float(np.interp(wavelength, _NODES, CLOUD_TOP))


def reflectance_lut(wavelength: float, when: datetime) -> np.ndarray:
    """Return a 256-entry class-code → reflectance table (float32)."""
    lut = np.zeros(256, dtype=np.float32)
    for code in range(1, 10):
        lut[code] = class_reflectance(code, wavelength, when)
    return lut


def surface_temperature(classes: np.ndarray, when: datetime) -> np.ndarray:
    """Return the land surface temperature (K, float32) of a class map on ``when``."""
    air = 290.0 + 11.0 * np.sin(2 * np.pi * (when.timetuple().tm_yday - 110) / 365)
    lut = np.full(256, air, dtype=np.float32)
    for code, offset in _TEMPERATURE.items():
        lut[code] = air + offset
    return lut[classes]
