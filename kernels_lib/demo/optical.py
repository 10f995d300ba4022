"""Render optical surface reflectance of a class map under a scene's clouds."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from terralab.demo.clouds import CloudMasks
from terralab.demo.spectra import NOISE, cloud_reflectance, reflectance_lut

__all__ = ["SHADOW_DEPTH", "render_reflectance"]

SHADOW_DEPTH = 0.7  # the share of direct light a full cloud shadow removes


def render_reflectance(classes: np.ndarray, wavelength: float, when: datetime,
                       clouds: CloudMasks, rng: np.random.Generator) -> np.ndarray:
    """Return the reflectance (float32) a sensor sees at ``wavelength`` µm.

    Surface reflectance of each class with multiplicative texture noise, darkened in cloud
    shadow, mixed with the cloud-top spectrum by the cloud and cirrus opacities.

    Args:
        classes: the class map on the sensor grid.
        wavelength: the band's centre wavelength in µm.
        when: the acquisition time (crop phenology).
        clouds: the scene's clouds on the same grid.
        rng: the random generator of the texture.
    """
    surface = reflectance_lut(wavelength, when)[classes]
    surface *= 1 + NOISE * rng.standard_normal(classes.shape, dtype=np.float32)
    surface *= 1 - SHADOW_DEPTH * clouds.darkening
    top = np.float32(cloud_reflectance(wavelength))
    seen = (1 - clouds.opacity) * surface + clouds.opacity * top
    return (1 - clouds.cirrus_opacity) * seen + clouds.cirrus_opacity * top
