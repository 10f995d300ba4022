"""Clip: keep the pixels of an image that fall inside polygons, the rest becomes nodata.

The polygons come from a vector layer (all of its polygons, or those an attribute filter
``where`` picks) or from a drawn area / GeoJSON in EPSG:4326; they are reprojected to the
image's CRS. A pixel is kept when its centre lies inside a polygon (``all_touched=True``: when
the polygon touches it at all) — the rule of GDAL's rasterizer, so the result matches
``rasterio.mask.mask`` (and ``gdalwarp -cutline`` without resampling) on the same inputs.

With ``crop`` (the default) the result is cut to the polygons' bounds, snapped outwards to the
image's pixel grid (same grid, no resampling); without it the full grid is kept.

Outside the polygons is nodata: the image's own nodata when it has one, else the ``nodata``
parameter, else a value chosen by type — NaN for floating-point images, 0 for unsigned
integers (as GDAL and rasterio do), the type's minimum for signed integers. The value used is
written as the result's nodata and reported in the run's notes.

The work stays lazy: the polygons are rasterized block by block, on each chunk's own window
(``dask.array.map_blocks``), so no full-size mask is ever held in memory.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import numpy as np
import shapely
from affine import Affine
from pandas.api.types import is_numeric_dtype

from terralab.tools.base import (
    RunContext,
    Tool,
    ToolInfo,
    ToolOutput,
    ToolParams,
    param,
    raster_input,
    vector_input,
)
from terralab.tools.inputs import InputError

__all__ = ["Clip", "choose_nodata", "filter_features", "polygons_of"]

_CLAUSE = re.compile(r"^\s*([^\s=!<>]+)\s*(not\s+in|in|==|!=|<>|<=|>=|=|<|>)\s*(.+?)\s*$",
                     flags=re.IGNORECASE)


def _literal(text: str) -> Any:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _coerce(value: Any, column: Any, name: str) -> Any:
    """A filter value in the column's type (numbers for numeric columns, else text)."""
    if is_numeric_dtype(column.dtype):
        if isinstance(value, str):
            raise InputError(f"where: column {name!r} holds numbers, not {value!r}")
        return value
    return str(value)


def filter_features(frame: Any, where: str | dict[str, Any] | None) -> Any:
    """Keep the features of ``frame`` that match ``where``.

    Args:
        frame: a GeoDataFrame.
        where: None (all features); a mapping ``{column: value or [values]}`` (every column
            must match); or text clauses joined by ``and``: ``column = value``, ``!=``, ``<``,
            ``<=``, ``>``, ``>=``, ``column in (a, b)``, ``column not in (a, b)``. Text values
            may be quoted (``kind = 'building'``). Nothing is evaluated as code.

    Raises:
        InputError: for an unknown column or a clause that cannot be read.
    """
    if not where:
        return frame
    if isinstance(where, dict):
        clauses = [(k, "in" if isinstance(v, list | tuple | set) else "=", v)
                   for k, v in where.items()]
    else:
        clauses = []
        for part in re.split(r"\s+and\s+", where.strip(), flags=re.IGNORECASE):
            found = _CLAUSE.match(part)
            if found is None:
                raise InputError(f"where: cannot read {part!r} (write e.g. kind = 'building' "
                                 "or id in (1, 2))")
            name, op, raw = found.groups()
            op = " ".join(op.lower().split())
            if op in ("in", "not in"):
                value: Any = [_literal(v) for v in raw.strip().strip("()").split(",") if v]
            else:
                value = _literal(raw)
            clauses.append((name, op, value))
    keep = np.ones(len(frame), dtype=bool)
    for name, op, value in clauses:
        if name not in frame.columns or name == frame.geometry.name:
            columns = [c for c in frame.columns if c != frame.geometry.name]
            raise InputError(f"where: no attribute {name!r}; the layer has: "
                             f"{', '.join(map(str, columns)) or 'none'}")
        column = frame[name]
        if op in ("in", "not in"):
            values = [_coerce(v, column, name) for v in value]
            series = column if is_numeric_dtype(column.dtype) else column.astype(str)
            test = series.isin(values)
            keep &= np.asarray(test if op == "in" else ~test, dtype=bool)
            continue
        value = _coerce(value, column, name)
        series = column if is_numeric_dtype(column.dtype) else column.astype(str)
        test = {"=": series == value, "==": series == value, "!=": series != value,
                "<>": series != value, "<": series < value, "<=": series <= value,
                ">": series > value, ">=": series >= value}[op]
        keep &= np.asarray(test, dtype=bool)
    return frame[keep]


def polygons_of(frame: Any, crs: Any) -> np.ndarray:
    """The valid polygonal parts of ``frame``'s features, in ``crs`` (an array of geometries).

    Raises:
        InputError: when there is no polygon.
    """
    if frame.crs is None:
        raise InputError("the area has no CRS")
    geoms = frame.geometry.to_crs(crs).values
    out = []
    for geom in np.asarray(geoms, dtype=object):
        if geom is None or geom.is_empty:
            continue
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        parts = shapely.get_parts(geom) if geom.geom_type == "GeometryCollection" else [geom]
        out += [p for p in parts if p.geom_type in ("Polygon", "MultiPolygon") and p.area > 0]
    if not out:
        raise InputError("the area holds no polygon (points and lines cannot clip)")
    return np.asarray(out, dtype=object)


def choose_nodata(dtype: np.dtype, current: float | None, wanted: float | None) -> float:
    """The nodata value of the result (see the module's docs).

    Raises:
        InputError: for a ``wanted`` value the image's type cannot hold.
    """
    dtype = np.dtype(dtype)
    value = wanted if wanted is not None else current
    if value is None:
        if np.issubdtype(dtype, np.floating):
            return float("nan")
        if np.issubdtype(dtype, np.signedinteger):
            return int(np.iinfo(dtype).min)
        return 0
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        if np.isnan(value) or value != int(value) or not info.min <= value <= info.max:
            raise InputError(f"nodata {value} does not fit the image's type {dtype} "
                             f"({info.min}…{info.max})")
        return int(value)
    return float(value)


def _footprint(transform: Affine, width: int, height: int) -> shapely.Polygon:
    corners = [transform @ (0, 0), transform @ (width, 0), transform @ (width, height),
               transform @ (0, height)]
    return shapely.Polygon(corners)


def _mask_block(block: np.ndarray, *, geoms: np.ndarray, transform: Affine,
                all_touched: bool, nodata: float, old_nodata: float | None,
                block_info: Any = None) -> np.ndarray:
    """Set the pixels of one chunk outside the polygons to nodata (the chunk's own window)."""
    from rasterio.features import geometry_mask

    (_, _), (y0, y1), (x0, x1) = block_info[0]["array-location"]
    height, width = y1 - y0, x1 - x0
    window = transform @ Affine.translation(x0, y0)
    hits = geoms[shapely.intersects(geoms, _footprint(window, width, height))]
    fill = np.asarray(nodata).astype(block.dtype)
    if len(hits) == 0:
        return np.full(block.shape, fill, dtype=block.dtype)
    inside = ~geometry_mask(list(hits), out_shape=(height, width), transform=window,
                            all_touched=all_touched)
    keep = np.broadcast_to(inside, block.shape)
    if old_nodata is not None and not np.isnan(old_nodata):
        keep = keep & (block != old_nodata)
    return np.where(keep, block, fill).astype(block.dtype, copy=False)


class Clip(Tool):
    """Clip an image by polygons (a vector layer or a drawn area)."""

    info = ToolInfo(
        name="clip", title="Clip", title_zh="裁剪", inputs=("raster", "vector"),
        description_zh="保留影像中位于多边形（矢量图层或绘制区域）内的部分，范围外设为无数据。",
        description="Keep the part of an image inside polygons — a vector layer's polygons "
                    "(all, or those matching an attribute filter) or a drawn area; outside "
                    "becomes nodata, and the image can be cropped to the polygons' bounds.")

    class Params(ToolParams):
        """The clip's parameters."""

        image: Any = raster_input(help="The image to clip", help_zh="要裁剪的影像")
        area: Any = vector_input(
            help="The polygons: a vector layer (all its polygons), or a drawn area / GeoJSON "
                 "in EPSG:4326",
            help_zh="裁剪范围:矢量图层(全部多边形)或绘制的范围 / EPSG:4326 的 GeoJSON")
        where: str | dict[str, Any] | None = param(
            None, help="Only the layer's features matching this attribute filter, e.g. "
                       "kind = 'building' or id in (1, 2) (clauses joined by and)",
            help_zh="属性筛选:只用符合条件的要素,例如 kind = 'building' 或 id in (1, 2)"
                    "(多个条件用 and 连接)", advanced=True)
        crop: bool = param(True, help="Crop the result to the polygons' bounds (else keep the "
                                      "image's full grid)",
                           help_zh="将结果裁切到多边形外接范围(否则保留整幅影像的网格)")
        all_touched: bool = param(
            False, help="Keep every pixel the polygons touch (default: pixels whose centre is "
                        "inside)",
            help_zh="保留多边形接触到的所有像元(默认:仅中心点在多边形内的像元)", advanced=True)
        nodata: float | None = param(
            None, help="Value for the pixels outside (default: the image's nodata, else NaN "
                       "for floats, 0 for unsigned integers, the minimum for signed integers)",
            help_zh="范围外像元的取值(默认:影像自身的无效值;没有时浮点型为 NaN,无符号整型为 0,"
                    "有符号整型为最小值)", advanced=True)

    def run(self, params: Any, context: RunContext) -> ToolOutput:
        """Clip ``params.image`` by ``params.area`` lazily."""
        from rasterio.errors import WindowError
        from rasterio.features import geometry_window

        data = context.open_raster(params.image).transpose("band", "y", "x")
        crs = data.rio.crs
        if crs is None:
            raise InputError("the image has no CRS")
        frame = filter_features(context.open_vector(params.area), params.where)
        if len(frame) == 0:
            raise InputError(f"no feature of the area matches where={params.where!r}")
        geoms = polygons_of(frame, crs)
        transform = data.rio.transform()
        height, width = data.sizes["y"], data.sizes["x"]
        geoms = geoms[shapely.intersects(geoms, _footprint(transform, width, height))]
        if len(geoms) == 0:
            raise InputError("no polygon of the area overlaps the image (check that they "
                             "cover the same place)")
        context.progress(10, "clipping")
        if params.crop:
            grid = SimpleNamespace(transform=transform, width=width, height=height)
            try:
                window = geometry_window(grid, list(geoms))
            except WindowError:
                raise InputError("no polygon of the area overlaps the image") from None
            row, col = int(window.row_off), int(window.col_off)
            rows, cols = int(window.height), int(window.width)
            if rows <= 0 or cols <= 0:
                raise InputError("the polygons only touch the image's edge")
            data = data.isel(y=slice(row, row + rows), x=slice(col, col + cols))
            transform = transform @ Affine.translation(col, row)
            data = data.rio.write_transform(transform)
        old = data.rio.nodata
        if old is None and data.rio.encoded_nodata is not None:
            old = float("nan")
        nodata = choose_nodata(data.dtype, old, params.nodata)
        array = data.data
        if not hasattr(array, "dask"):
            array = data.chunk({"band": 1, "y": 1024, "x": 1024}).data
        clipped = array.map_blocks(
            _mask_block, geoms=geoms, transform=transform, all_touched=params.all_touched,
            nodata=nodata, old_nodata=old if old != nodata else None, dtype=data.dtype)
        result = data.copy(data=clipped).rio.write_nodata(nodata, encoded=False)
        result.attrs.pop("_FillValue", None)
        names = tuple(str(n) for n in np.atleast_1d(data.attrs.get("long_name", ())))
        return ToolOutput(
            raster=result, name="clip",
            band_names=names if len(names) == result.sizes["band"] else None,
            nodata=nodata,
            extra={"polygons": len(geoms), "crop": params.crop,
                   "width": int(result.sizes["x"]), "height": int(result.sizes["y"]),
                   "nodata": "nan" if np.isnan(nodata) else nodata})
