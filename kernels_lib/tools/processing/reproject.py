"""Reprojection into another CRS, Chinese CRSs included (PRODUCT.md §5).

The target CRS may be any EPSG code (``4490``, ``"EPSG:4549"``), a WKT or a PROJ string:
CGCS2000 (EPSG:4490) and its Gauss-Krüger zones (3-degree EPSG:4513–4554, e.g. EPSG:4549 =
CM 120E; 6-degree EPSG:4491–4512), Xian 1980 (e.g. EPSG:2385, 3-degree CM 120E) and
Beijing 1954 (e.g. EPSG:2437, EPSG:21460) projected CRSs, Web Mercator (EPSG:3857) and UTM
(EPSG:326xx) all work; datum shifts are PROJ's (through GDAL), as in ``gdalwarp``.

The output grid is the one ``gdalwarp`` picks: square pixels, about as many as the input has,
or ``resolution`` in the target CRS's units (degrees for a geographic CRS such as EPSG:4490).
Warping is lazy and block by block (:mod:`terralab.tools.warp`): memory follows the chunk
size. The input's nodata value is kept and pixels outside the input are nodata; an integer
image without a nodata value gets ``nodata`` (default 0, what gdalwarp writes outside).
"""

from __future__ import annotations

from typing import Any

from pydantic import field_validator

from terralab.tools.base import (
    RunContext,
    Tool,
    ToolInfo,
    ToolOutput,
    ToolParams,
    param,
    raster_input,
)
from terralab.tools.warp import (
    ResamplingName,
    default_grid,
    open_source,
    parse_crs,
    warp,
)

__all__ = ["Reproject"]


class Reproject(Tool):
    """Reproject an image into another coordinate reference system."""

    info = ToolInfo(
        name="reproject", title="Reproject", title_zh="投影转换",
        description_zh=("将影像转换到另一坐标参考系（支持 CGCS2000、高斯-克吕格分带、西安 1980、"
                        "北京 1954 等）。"),
        description="Warp an image into another coordinate reference system (EPSG code, WKT "
                    "or PROJ string), Chinese CRSs included: CGCS2000, its Gauss-Krüger "
                    "zones, Xian 1980, Beijing 1954. 将影像转换到另一坐标参考系（支持 CGCS2000、"
                    "高斯-克吕格分带、西安 1980、北京 1954 等）。")

    class Params(ToolParams):
        """The reprojection's parameters."""

        image: Any = raster_input(help="The image to reproject", help_zh="要转换投影的影像")
        crs: str = param(
            help="Target CRS: an EPSG code (EPSG:4490 CGCS2000, EPSG:4549 CGCS2000 3-degree "
                 "Gauss-Krüger CM 120E, EPSG:2385 Xian 1980, EPSG:2437 Beijing 1954, "
                 "EPSG:3857, EPSG:32650 …), a WKT or a PROJ string",
            help_zh="目标坐标系：EPSG 代码（如 EPSG:4490 国家 2000 大地坐标系、EPSG:4549 "
                    "CGCS2000 三度带 120°E、EPSG:2385 西安 1980、EPSG:2437 北京 1954、"
                    "EPSG:3857、EPSG:32650 等），或 WKT、PROJ 字符串")
        resolution: float | None = param(
            None, gt=0,
            help="Output pixel size in the target CRS's units (degrees for EPSG:4490); "
                 "default: about as many pixels as the input",
            help_zh="输出像元大小，单位为目标坐标系的单位（EPSG:4490 为度）；默认保持与输入"
                    "相近的像元数")
        resampling: ResamplingName = param(
            "nearest",
            help="Resampling method: nearest for classes, bilinear or cubic for images",
            help_zh="重采样方法：分类数据用最近邻（nearest），影像用双线性（bilinear）或"
                    "三次卷积（cubic）")
        nodata: float | None = param(
            None,
            help="Nodata value of the output when the image has none (default 0 for "
                 "integers, NaN for floats); the image's own nodata value is kept",
            help_zh="输入影像没有无效值时输出使用的无效值（整数默认 0，浮点默认 NaN）；"
                    "输入已有的无效值保持不变", advanced=True)

        @field_validator("crs", mode="before")
        @classmethod
        def _known_crs(cls, value: Any) -> str:
            """Accept an int as an EPSG code and refuse a CRS PROJ does not know."""
            parse_crs(value)
            text = str(value).strip()
            return f"EPSG:{text}" if text.isdigit() else text

    def run(self, params: Any, context: RunContext) -> ToolOutput:
        """Warp the image onto the target CRS's grid, lazily."""
        data, path = open_source(params.image, context)
        crs = parse_crs(params.crs)
        grid = default_grid(data, crs, params.resolution)
        context.progress(10, f"reprojecting to {crs.to_string()}: {grid.width}×{grid.height}")
        out = warp(data, grid, resampling=params.resampling, nodata=params.nodata,
                   path=path)
        names = out.attrs.get("long_name")
        bands = tuple(str(n) for n in names) if isinstance(names, list | tuple) else None
        res = (grid.transform.a, -grid.transform.e)
        return ToolOutput(raster=out, name="reprojected", nodata=out.rio.nodata,
                          band_names=bands,
                          extra={"crs": crs.to_string(), "resolution": res,
                                 "size": (grid.width, grid.height),
                                 "resampling": params.resampling})
