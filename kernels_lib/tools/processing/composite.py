"""Band composite: ordered single-band rasters stacked into one multiband raster.

Each input adds its bands, in the order given (usually one band each: a Sentinel-2 ``B04``
file, an index result …). Inputs must lie on the same pixel grid: the same CRS, resolution and
extent, checked from their georeferencing, never from their array shapes alone. When one does
not, ``align="refuse"`` (the default) stops with a message naming the input and what differs,
and ``align="reproject"`` warps it onto the first input's grid (``resampling``).

The output's type is the widest of the inputs' types; its nodata is the first input's (each
input's own nodata pixels are written with it).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import xarray as xr

from terralab.tools.base import RunContext, Tool, ToolInfo, ToolOutput, ToolParams, param
from terralab.tools.grid import check_nodata, on_grid, open_source
from terralab.tools.inputs import InputError

__all__ = ["BandComposite"]


class BandComposite(Tool):
    """Stack ordered single-band rasters into one multiband raster."""

    info = ToolInfo(
        name="band_composite", title="Band composite", title_zh="波段合成",
        description_zh="将单波段影像（如哨兵二号 B04、B03、B02）按顺序合成为一幅多波段影像。",
        inputs=("rasters",),
        description="Stack single-band images (for example Sentinel-2 B04, B03, B02) into one "
                    "multiband image, in the order given. The images must share a grid, or be "
                    "reprojected onto the first one's.")

    class Params(ToolParams):
        """Parameters of the band composite."""

        images: list[Any] = param(
            ..., min_length=1,
            help="The bands, in output order (files, my-data or catalog items; "
                 '{"item": id, "asset": "B04"} picks an asset)',
            help_zh='按输出顺序排列的波段（文件、我的数据或目录影像；{"item": id, "asset": "B04"} '
                    "指定资产）",
            json_schema_extra={"terralab:input": "rasters"})
        band_names: list[str] | None = param(
            None, help="Names of the output bands; default: the inputs' own band names",
            help_zh="输出波段名称；默认使用各输入自身的波段名")
        align: Literal["refuse", "reproject"] = param(
            "refuse",
            help="When an input is not on the first input's grid: refuse (explain what "
                 "differs) or reproject it onto that grid",
            help_zh="输入与第一个输入的网格不一致时：refuse 拒绝并说明差异，reproject 重投影到"
                    "第一个输入的网格")
        resampling: Literal["nearest", "bilinear", "cubic", "average", "mode"] = param(
            "nearest", help="Resampling used with align=reproject",
            help_zh="align=reproject 时使用的重采样方法", advanced=True)

    def run(self, params: Any, context: RunContext) -> ToolOutput:
        """Stack ``params.images`` lazily."""
        sources = [open_source(ref, context, position=i)
                   for i, ref in enumerate(params.images, start=1)]
        grid = sources[0].grid
        for source in sources[1:]:
            differences = grid.differences(source.grid)
            if differences and params.align == "refuse":
                raise InputError(
                    f"{source.label} is not on the grid of {sources[0].label}: "
                    f"{'; '.join(differences)}. Pass align=\"reproject\" to warp it onto "
                    "the first image's grid.")
        total = sum(s.count for s in sources)
        names = list(params.band_names) if params.band_names is not None else [
            n for s in sources for n in s.band_names]
        if len(names) != total:
            raise InputError(f"{len(names)} band names for {total} bands")
        dtype = np.result_type(*(s.dtype for s in sources))
        nodata = next((s.nodata for s in sources if s.nodata is not None), None)
        notes: dict[str, Any] = {}
        if nodata is None and any(s.alpha is not None or grid.differences(s.grid)
                                  for s in sources):
            nodata = float("nan") if np.issubdtype(dtype, np.floating) else 0.0
            notes["nodata"] = f"the inputs have no nodata value; pixels without data are {nodata}"
        if nodata is not None:
            nodata = check_nodata(nodata, dtype)
        parts = []
        for source in sources:
            layer = on_grid(source, grid, resampling=params.resampling)
            data = layer.data.astype(dtype)
            if nodata is not None:
                data = xr.where(layer.valid, data, np.asarray(nodata, dtype=dtype))
            parts.append(data.drop_vars("spatial_ref", errors="ignore"))
        stacked = xr.concat(parts, dim="band", join="override", coords="minimal",
                            compat="override")
        stacked = stacked.assign_coords(band=np.arange(1, total + 1))
        stacked = stacked.rio.write_crs(grid.crs).rio.write_transform(grid.transform)
        notes |= {"bands": names, "grid": {"crs": grid.crs.to_string(),
                                          "resolution": list(grid.res),
                                          "width": grid.width, "height": grid.height}}
        return ToolOutput(raster=stacked, name="composite", nodata=nodata, extra=notes,
                          band_names=tuple(names) if all(names) else None)
