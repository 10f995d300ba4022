"""Resampling to another pixel size in the same CRS and extent (PRODUCT.md §5).

Give either ``resolution`` (the new pixel size, in the image's CRS units) or ``factor`` (the
pixel size is multiplied by it: 2 halves the width and height, 0.5 doubles them). The grid
keeps the image's CRS and upper-left corner; its size is the extent divided by the new pixel
size, rounded (at least one pixel), as ``gdalwarp -tr`` does, so the extent changes by less
than half a new pixel. Methods are GDAL's: ``nearest``, ``bilinear``, ``cubic``,
``cubic_spline``, ``lanczos`` and, over the input pixels each output pixel covers,
``average``, ``mode`` (most frequent), ``min``, ``max``, ``med`` (median), ``q1``, ``q3``,
``sum`` and ``rms``. Nodata pixels are left out; the output keeps the input's dtype and
nodata value. Warping is lazy and block by block (:mod:`terralab.tools.warp`).
"""

from __future__ import annotations

from typing import Any

import xarray as xr
from affine import Affine
from pydantic import model_validator

from terralab.tools.base import (
    RunContext,
    Tool,
    ToolInfo,
    ToolOutput,
    ToolParams,
    param,
    raster_input,
)
from terralab.tools.warp import Grid, ResamplingName, open_source, warp

__all__ = ["Resample", "resample_grid"]


def resample_grid(data: xr.DataArray, *, resolution: float | None = None,
                  factor: float | None = None) -> Grid:
    """The grid of ``data`` with square-or-scaled pixels of the new size.

    Args:
        data: a raster with a CRS and a north-up transform.
        resolution: the new pixel size in the CRS's units.
        factor: multiply the pixel size by this instead.

    Raises:
        ValueError: with neither or both given, or for a rotated image.
    """
    if (resolution is None) == (factor is None):
        raise ValueError("give resolution or factor, not both")
    transform = data.rio.transform(recalc=True)
    if transform.b or transform.d:
        raise ValueError("the image is rotated; reproject it first")
    xres, yres = abs(transform.a), abs(transform.e)
    new_x, new_y = (resolution, resolution) if resolution is not None else (
        xres * factor, yres * factor)
    width = max(1, round(data.rio.width * xres / new_x))
    height = max(1, round(data.rio.height * yres / new_y))
    scaled = Affine(new_x if transform.a > 0 else -new_x, 0.0, transform.c,
                    0.0, new_y if transform.e > 0 else -new_y, transform.f)
    return Grid(data.rio.crs, scaled, width, height)


class Resample(Tool):
    """Resample an image to another pixel size, in the same CRS and extent."""

    info = ToolInfo(
        name="resample", title="Resample", title_zh="重采样",
        description_zh="在同一坐标系和范围内改变影像像元大小（变细或变粗）。",
        description="Change an image's pixel size (finer or coarser) in the same CRS and "
                    "extent, with GDAL's methods: nearest, bilinear, cubic, average, mode, "
                    "min, max, median … 在同一坐标系和范围内改变影像像元大小。")

    class Params(ToolParams):
        """The resampling's parameters."""

        image: Any = raster_input(help="The image to resample", help_zh="要重采样的影像")
        resolution: float | None = param(
            None, gt=0,
            help="New pixel size in the image's CRS units (metres for UTM); or give factor",
            help_zh="新的像元大小，单位为影像坐标系的单位（UTM 为米）；或填写倍数")
        factor: float | None = param(
            None, gt=0,
            help="Multiply the pixel size by this: 2 = half the width and height (coarser), "
                 "0.5 = twice (finer); instead of resolution",
            help_zh="像元大小乘以该倍数：2 表示宽高减半（更粗），0.5 表示宽高加倍（更细）；"
                    "与像元大小二选一")
        resampling: ResamplingName = param(
            "nearest",
            help="Method: nearest, bilinear, cubic, average, mode (most frequent), min, max, "
                 "med (median) …",
            help_zh="方法：最近邻 nearest、双线性 bilinear、三次卷积 cubic、均值 average、"
                    "众数 mode、最小值 min、最大值 max、中值 med 等")

        @model_validator(mode="after")
        def _one_size(self) -> Any:
            """Exactly one of resolution and factor."""
            if (self.resolution is None) == (self.factor is None):
                raise ValueError("give either resolution or factor (exactly one)")
            return self

    def run(self, params: Any, context: RunContext) -> ToolOutput:
        """Warp the image onto the resized grid, lazily."""
        data, path = open_source(params.image, context)
        grid = resample_grid(data, resolution=params.resolution, factor=params.factor)
        context.progress(10, f"resampling to {grid.width}×{grid.height}")
        out = warp(data, grid, resampling=params.resampling, path=path)
        names = out.attrs.get("long_name")
        bands = tuple(str(n) for n in names) if isinstance(names, list | tuple) else None
        return ToolOutput(raster=out, name="resampled", nodata=out.rio.nodata,
                          band_names=bands,
                          extra={"resolution": (grid.transform.a, -grid.transform.e),
                                 "size": (grid.width, grid.height),
                                 "resampling": params.resampling})
