"""Rule-based land cover from spectral indices: the multispectral baseline of ``land_cover``.

Each pixel is classified by a fixed decision list on surface (or top-of-atmosphere)
reflectance, first match wins, and given a code of the 10 terralab classes
(:mod:`terralab.landcover`; 0 = no data):

==  ===============================================================  =========================
 #  rule                                                             class
==  ===============================================================  =========================
 1  a band is missing                                                0 no data
 2  the QA / SCL band flags cloud, cirrus, cloud shadow or snow      10 unknown / cloud-snow
 3  no QA, SWIR known: bright and flat (VIS > 0.3, blue > 0.25,      10 unknown / cloud-snow
    SWIR1 > 0.2, NDVI < 0.2), or snow (NDSI > 0.4, NIR > 0.11,
    green > 0.15; Hall et al. 1995)
 4  MNDWI > 0 (Xu 2006) or NDWI > 0 (McFeeters 1996; it keeps       9 water
    rivers narrower than Sentinel-2's 20 m SWIR pixels), and
    NDVI < 0.1 and NIR < 0.15
 5  NDVI ≥ 0.6 and a dark canopy (SWIR2 ≤ 0.1; without SWIR:          2 forest
    VIS ≤ 0.06)
 6  NDVI ≥ 0.5                                                       1 cropland
 7  NDVI ≥ 0.2                                                       3 grass
 8  soil-red (``(red − blue) / (red + blue) ≥ 0.2``)                  8 bare land
 9  anything else: grey, flat, not vegetated                         4 building (built-up)
==  ===============================================================  =========================

An RGB image without NIR gets rules 1, 2, 8, 9 and one vegetation rule: GRVI = (green − red)
/ (green + red) ≥ 0.05 (Motohka et al. 2010) → grass; it has no water rule.

``VIS`` is the mean of blue, green and red; ``NDSI`` = ``MNDWI`` = (green − SWIR1) /
(green + SWIR1). What the rules cannot tell apart (and why the deep model exists):
building, road and structure are one spectral class (built-up, mapped to *building*);
excavated land is bare soil (mapped to *bare land*); cropland versus grass is only vigour
on one date (a winter field looks like grass or bare soil); without a QA band clouds are
found by brightness only where SWIR is known (on RGB/RGBN images bright roofs would pass
for clouds), and cloud shadows are not found at all.
"""

from __future__ import annotations

import numpy as np

from terralab.landcover import CLASSES, NODATA

__all__ = ["BANDS", "CLOUD_FLAG", "FILL_FLAG", "MERGED", "OUTPUT_CODES", "classify"]

BANDS = ("blue", "green", "red", "nir", "swir16", "swir22")
"""The bands the rules use, by common name, in the order :func:`classify` takes them."""

CLOUD_FLAG, FILL_FLAG = 1, 2
"""Values of the quality mask handed to :func:`classify` (0 = clear)."""

_CODE = {c.name: c.code for c in CLASSES}
OUTPUT_CODES = tuple(sorted({_CODE[n] for n in ("cropland", "forest", "grass", "building",
                                                "bare", "water", "unknown")}))
"""The class codes the baseline can output."""

MERGED = {"building": ("building", "road", "structure"), "bare": ("bare", "excavated")}
"""Classes the rules cannot tell apart: the code written → the classes it stands for."""


def _nd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    total = a + b
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total != 0, (a - b) / np.where(total == 0, 1.0, total), 0.0)


def classify(bands: dict[str, np.ndarray], quality: np.ndarray | None = None) -> np.ndarray:
    """Classify reflectance with the decision list of the module docs.

    Args:
        bands: ``blue``, ``green``, ``red`` (needed), ``nir``, ``swir16``, ``swir22``
            (optional) as 2-D reflectance arrays (NaN = no data).
        quality: the quality mask (0 clear, :data:`CLOUD_FLAG`, :data:`FILL_FLAG`) or None.

    Returns:
        ``uint8`` class codes of :mod:`terralab.landcover` (0 = no data).
    """
    blue, green, red = (np.asarray(bands[k], dtype="float32") for k in ("blue", "green", "red"))
    nir = bands.get("nir")
    swir1, swir2 = bands.get("swir16"), bands.get("swir22")
    used = [blue, green, red, *(b for b in (nir, swir1, swir2) if b is not None)]
    valid = np.logical_and.reduce([np.isfinite(b) for b in used])
    visible = (blue + green + red) / 3
    out = np.full(blue.shape, _CODE["bare"], dtype="uint8")
    grey = _nd(red, blue) < 0.2
    out[grey] = _CODE["building"]
    if nir is not None:
        ndvi = _nd(nir, red)
        canopy_dark = (swir2 <= 0.1) if swir2 is not None else (visible <= 0.06)
        out[ndvi >= 0.2] = _CODE["grass"]
        out[ndvi >= 0.5] = _CODE["cropland"]
        out[(ndvi >= 0.6) & canopy_dark] = _CODE["forest"]
        wet = _nd(green, nir)  # NDWI: at the visible bands' resolution (10 m on Sentinel-2)
        if swir1 is not None:  # MNDWI: better against built-up, but 20 m on Sentinel-2
            wet = np.maximum(wet, _nd(green, swir1))
        out[(wet > 0) & (ndvi < 0.1) & (nir < 0.15)] = _CODE["water"]
        if quality is None and swir1 is not None:
            ndsi = _nd(green, swir1)
            cloud = (visible > 0.3) & (blue > 0.25) & (swir1 > 0.2) & (ndvi < 0.2)
            snow = (ndsi > 0.4) & (nir > 0.11) & (green > 0.15)
            out[cloud | snow] = _CODE["unknown"]
    else:  # RGB only: the green-red vegetation index (GRVI > 0: green leaves)
        out[_nd(green, red) >= 0.05] = _CODE["grass"]
    if quality is not None:
        out[quality == CLOUD_FLAG] = _CODE["unknown"]
        valid &= quality != FILL_FLAG
    out[~valid] = NODATA
    return out
