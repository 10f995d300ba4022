"""Spectral indices: NDVI, RVI, NDWI, MNDWI, EVI, SAVI, NDBI, NBR (PRODUCT.md §5).

Bands are picked by their common names (``nir``, ``red``, ``green``, ``blue``, ``swir16``,
``swir22``) through the collection's conventions, so the same call works on a Landsat or
Sentinel-2 item (scale and offset applied: reflectance) and on a 4-band aerial upload (its band
names, or ``band_map={"nir": 4, "red": 1}``). For a plain file of digital numbers, ``scale``
and ``offset`` turn them into reflectance first; the normalised-difference indices do not
need it, but EVI and SAVI assume reflectance (their constants do).

Formulas (NaN where the denominator is 0 or a band has no data):

=======  ==========================================================================
NDVI     (nir − red) / (nir + red)
RVI      nir / red
NDWI     (green − nir) / (green + nir)                           (McFeeters 1996)
MNDWI    (green − swir16) / (green + swir16)                     (Xu 2006)
EVI      2.5 (nir − red) / (nir + 6 red − 7.5 blue + 1)
SAVI     (1 + L) (nir − red) / (nir + red + L)                   (L = ``savi_l``)
NDBI     (swir16 − nir) / (swir16 + nir)
NBR      (nir − swir22) / (nir + swir22)
=======  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import numpy as np
import xarray as xr

from terralab.tools.base import (
    RunContext,
    Tool,
    ToolInfo,
    ToolOutput,
    ToolParams,
    param,
    raster_input,
)

__all__ = ["INDICES", "Index", "compute_index"]


def _ratio(top: xr.DataArray, bottom: xr.DataArray) -> xr.DataArray:
    return xr.where(bottom != 0, top / bottom.where(bottom != 0), np.nan)


def _nd(a: xr.DataArray, b: xr.DataArray) -> xr.DataArray:
    return _ratio(a - b, a + b)


INDICES: dict[str, tuple[tuple[str, ...], Callable[..., xr.DataArray]]] = {
    "ndvi": (("nir", "red"), lambda b, soil: _nd(b["nir"], b["red"])),
    "rvi": (("nir", "red"), lambda b, soil: _ratio(b["nir"], b["red"])),
    "ndwi": (("green", "nir"), lambda b, soil: _nd(b["green"], b["nir"])),
    "mndwi": (("green", "swir16"), lambda b, soil: _nd(b["green"], b["swir16"])),
    "evi": (("nir", "red", "blue"), lambda b, soil: _ratio(
        2.5 * (b["nir"] - b["red"]), b["nir"] + 6 * b["red"] - 7.5 * b["blue"] + 1)),
    "savi": (("nir", "red"), lambda b, soil: _ratio(
        (1 + soil) * (b["nir"] - b["red"]), b["nir"] + b["red"] + soil)),
    "ndbi": (("swir16", "nir"), lambda b, soil: _nd(b["swir16"], b["nir"])),
    "nbr": (("nir", "swir22"), lambda b, soil: _nd(b["nir"], b["swir22"])),
}
"""Index name → (the bands it needs, by common name; its formula)."""


def compute_index(name: str, bands: dict[str, xr.DataArray], *,
                  savi_l: float = 0.5) -> xr.DataArray:
    """Compute index ``name`` lazily from bands in physical units; float32, NaN = no data."""
    needed, formula = INDICES[name]
    values = formula({k: bands[k] for k in needed}, savi_l).astype("float32")
    values.name = name
    return values.rio.write_crs(bands[needed[0]].rio.crs)


class Index(Tool):
    """A spectral index of one image."""

    info = ToolInfo(
        name="index", title="Spectral index", title_zh="指数计算",
        description_zh=("计算 NDVI、NDWI、EVI 等光谱指数，自动识别 Landsat、"
                        "哨兵二号和航空影像的波段。"),
        description="NDVI, RVI, NDWI, MNDWI, EVI, SAVI, NDBI or NBR of an image; bands are "
                    "found by name for Landsat, Sentinel-2 and 4-band aerial images.")

    class Params(ToolParams):
        """Parameters of the index tool."""

        image: Any = raster_input(help="The image: a catalog or my-data item, or a file",
                                  help_zh="影像：目录或我的数据中的条目，或文件")
        index: Literal["ndvi", "rvi", "ndwi", "mndwi", "evi", "savi", "ndbi", "nbr"] = param(
            "ndvi", help="Which index", help_zh="指数类型")
        band_map: dict[str, int] | None = param(
            None, help='Band numbers by name when the file does not say them, e.g. '
                       '{"nir": 4, "red": 1}',
            help_zh='文件未注明波段时按名称指定波段序号，如 {"nir": 4, "red": 1}', advanced=True)
        scale: float = param(1.0, help="Multiply a plain file's values by this first "
                                       "(digital numbers to reflectance)",
                             help_zh="先将普通文件的数值乘以此系数（DN 转反射率）", advanced=True)
        offset: float = param(0.0, help="Then add this", help_zh="再加上此偏移", advanced=True)
        savi_l: float = param(0.5, help="SAVI soil brightness factor L",
                              help_zh="SAVI 土壤调节系数 L", ge=0, le=1, advanced=True)

    @classmethod
    def required_bands(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        """The bands the chosen index reads (any image will do with a ``band_map``)."""
        if params.get("band_map"):
            return ()
        return INDICES.get(str(params.get("index") or "ndvi"), ((), None))[0]

    def run(self, params: Any, context: RunContext) -> ToolOutput:
        """Open the bands the index needs and compute it lazily."""
        needed, _ = INDICES[params.index]
        bands = context.open_bands(params.image, list(needed), band_map=params.band_map)
        if params.scale != 1.0 or params.offset != 0.0:
            bands = {k: v * params.scale + params.offset for k, v in bands.items()}
        _check_same_grid(bands, params.index)
        result = compute_index(params.index, bands, savi_l=params.savi_l)
        return ToolOutput(raster=result, name=params.index, band_names=(params.index,),
                          nodata=float("nan"))


def _check_same_grid(bands: dict[str, xr.DataArray], name: str) -> None:
    """Bands of different sizes (e.g. 20 m SWIR with 10 m NIR) are put on the finest grid."""
    shapes = {k: (v.rio.shape, v.rio.transform()) for k, v in bands.items()}
    if len({s for s, _ in shapes.values()}) == 1:
        return
    finest = min(bands, key=lambda k: abs(bands[k].rio.resolution()[0]))
    for key in bands:
        if key != finest:
            from rasterio.enums import Resampling

            bands[key] = bands[key].rio.reproject_match(bands[finest],
                                                        resampling=Resampling.bilinear)
