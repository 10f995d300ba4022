"""Mosaic: several rasters joined into one, on one grid covering them all, layer order chosen.

The images are given top to bottom. Where they overlap, ``method`` decides:

- ``first`` (default): the first image (top of the list) with a valid pixel wins;
- ``last``: the last image with a valid pixel wins;
- ``mean``, ``min``, ``max``: each band is the mean, minimum or maximum of the valid values.

A pixel is valid in an image when the image covers it, its alpha band (if any) is not 0 and at
least one band holds data (not the image's nodata, not NaN); ``first`` and ``last`` take whole
pixels, so bands of different images are never mixed. ``mean``, ``min`` and ``max`` leave out
each band's nodata and NaN values. Pixels no image covers get the output nodata.

The output grid has the first image's CRS (or ``crs``) and the finest pixel size among the
images in that CRS (or ``resolution``), aligned on the first image's pixels; images on another
grid are warped onto it chunk by chunk (``resampling``), so memory does not grow with the
raster size. All images must have the same number of bands.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import xarray as xr

from terralab.tools.base import RunContext, Tool, ToolInfo, ToolOutput, ToolParams, param
from terralab.tools.grid import (
    Layer,
    Source,
    check_nodata,
    on_grid,
    open_source,
    union_grid,
)
from terralab.tools.inputs import InputError

__all__ = ["Mosaic"]

RESAMPLING = Literal["nearest", "bilinear", "cubic", "average", "mode"]


class Mosaic(Tool):
    """Join several rasters into one, in the user's layer order."""

    info = ToolInfo(
        name="mosaic", title="Mosaic", title_zh="影像镶嵌", inputs=("rasters",),
        description_zh="将多幅影像拼接成一幅覆盖全部范围的影像，重叠处按所选规则取值。",
        description="Join several images into one covering them all. Images are listed top to "
                    "bottom; where they overlap the first valid pixel wins (or the last, the "
                    "mean, the minimum or the maximum). Images on other grids or CRSs are "
                    "reprojected; nodata never covers an image below.")

    class Params(ToolParams):
        """Parameters of the mosaic."""

        images: list[Any] = param(
            ..., min_length=1,
            help="The images, top to bottom (files, my-data or catalog items)",
            help_zh="参与镶嵌的影像，从上到下排列（文件、我的数据或目录中的影像）",
            json_schema_extra={"terralab:input": "rasters"})
        method: Literal["first", "last", "mean", "min", "max"] = param(
            "first",
            help="Where images overlap: first = the upper image wins, last = the lower image "
                 "wins, mean / min / max of the valid values",
            help_zh="重叠区取值：first 上层影像优先，last 下层影像优先，mean/min/max 取有效值的"
                    "均值、最小值或最大值")
        crs: str | None = param(
            None, help="Output CRS (EPSG code, WKT or PROJ); default: the first image's",
            help_zh="输出坐标系（EPSG 代码、WKT 或 PROJ）；默认与第一幅影像相同")
        resolution: float | None = param(
            None, gt=0,
            help="Output pixel size in the output CRS's units; default: the finest of the "
                 "images",
            help_zh="输出像元大小（输出坐标系单位）；默认取各影像中最精细的分辨率")
        resampling: RESAMPLING = param(
            "nearest", help="Resampling for images that must be reprojected",
            help_zh="需要重投影的影像所用的重采样方法", advanced=True)
        nodata: float | None = param(
            None,
            help="Value of pixels no image covers; default: the first image's nodata (0 for "
                 "integers, NaN for decimals when it has none)",
            help_zh="无影像覆盖处的值；默认取第一幅影像的无效值（若无：整数为 0，浮点为 NaN）",
            advanced=True)

    def run(self, params: Any, context: RunContext) -> ToolOutput:
        """Mosaic ``params.images`` lazily."""
        sources = [open_source(ref, context, position=i)
                   for i, ref in enumerate(params.images, start=1)]
        _check_bands(sources)
        context.progress(5, "computing the output grid")
        grid = union_grid([s.grid for s in sources], crs=params.crs,
                          resolution=params.resolution)
        layers = [on_grid(s, grid, resampling=params.resampling) for s in sources]
        dtype = np.result_type(*(s.dtype for s in sources))
        if params.method == "mean":
            dtype = np.result_type(dtype, np.float32)
        nodata = _output_nodata(params.nodata, sources, dtype)
        if params.method in ("first", "last"):
            result = _pick(layers, dtype, nodata, last=params.method == "last")
        else:
            result = _reduce(layers, params.method, dtype, nodata)
        result = result.transpose("band", "y", "x").rio.write_crs(grid.crs)
        result = result.rio.write_transform(grid.transform)
        names = sources[0].band_names
        notes = {"grid": {"crs": grid.crs.to_string(), "resolution": list(grid.res),
                          "width": grid.width, "height": grid.height},
                 "images": len(sources), "method": params.method}
        if params.nodata is None and sources[0].nodata is None:
            notes["nodata"] = f"the first image has no nodata value; uncovered pixels are {nodata}"
        return ToolOutput(raster=result, name="mosaic", nodata=nodata, extra=notes,
                          band_names=names if all(names) else None)


def _check_bands(sources: list[Source]) -> None:
    first = sources[0]
    for source in sources[1:]:
        if source.count != first.count:
            raise InputError(f"all images must have the same number of bands: {first.label} "
                             f"has {first.count}, {source.label} has {source.count}")


def _output_nodata(given: float | None, sources: list[Source], dtype: np.dtype) -> float:
    """The output's nodata: given, else the first image's, else 0 / NaN; it must fit ``dtype``."""
    if given is None:
        given = sources[0].nodata
    if given is None:
        return float("nan") if np.issubdtype(dtype, np.floating) else 0.0
    return check_nodata(given, dtype)


def _pick(layers: list[Layer], dtype: np.dtype, nodata: float, *, last: bool) -> xr.DataArray:
    """Whole pixels of the first (or last) layer holding data there."""
    result = xr.full_like(layers[0].data, nodata, dtype=dtype)
    for layer in layers if last else reversed(layers):
        result = xr.where(layer.valid.any("band"), layer.data.astype(dtype), result)
    return result


def _reduce(layers: list[Layer], method: str, dtype: np.dtype, nodata: float) -> xr.DataArray:
    """Per band mean, minimum or maximum of the valid values."""
    work = np.result_type(dtype, np.float32)
    if method == "mean":
        total = sum(xr.where(layer.valid, layer.data.astype(work), 0) for layer in layers)
        count = sum(layer.valid.astype("uint16") for layer in layers)
        result = xr.where(count > 0, total / count.where(count > 0, 1), np.nan)
    else:
        stacked = xr.concat([layer.data.astype(work).where(layer.valid) for layer in layers],
                            dim="layer", join="override")
        result = stacked.min("layer", skipna=True) if method == "min" else stacked.max(
            "layer", skipna=True)
    filled = result.fillna(nodata) if not np.isnan(nodata) else result
    return filled.astype(dtype)
