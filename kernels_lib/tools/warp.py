"""Lazy warping of rasters onto a new grid, shared by the reproject and resample tools.

:func:`warp` builds the output as a dask array whose every block is made by GDAL's warper
(``rasterio.warp.reproject``) from only the source pixels that block needs: the block's
outline is carried into the source CRS, widened by the resampling kernel, and the source
chunks under it are handed to the task. Nothing is read before the result is computed, and
the memory of one task follows the chunk size, never the raster size; the input may be any
lazy (or in-memory) ``(band, y, x)`` DataArray, a file opened with ``rioxarray`` included.

Integer rasters without a nodata value get ``0`` as nodata in the output (what ``gdalwarp``
writes outside the source), floats get NaN; a nodata value of the source is kept.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import dask.array as da
import numpy as np
import xarray as xr
from affine import Affine
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.errors import CRSError

from terralab.raster_open import open_checked
from terralab.tools.grid import Grid

__all__ = ["RESAMPLING_METHODS", "Grid", "ResamplingName", "default_grid", "open_source",
           "output_nodata", "parse_crs", "warp"]

ResamplingName = Literal["nearest", "bilinear", "cubic", "cubic_spline", "lanczos", "average",
                         "mode", "min", "max", "med", "q1", "q3", "sum", "rms"]
"""GDAL's resampling methods by name (the tools' ``resampling`` parameter)."""

RESAMPLING_METHODS: tuple[str, ...] = ResamplingName.__args__  # type: ignore[attr-defined]

_RADIUS = {"nearest": 1, "bilinear": 2, "cubic": 3, "cubic_spline": 3, "lanczos": 4}
_EDGE_POINTS = 21
_MIN_CHUNK = 32


def parse_crs(value: Any) -> CRS:
    """Read a CRS given as an EPSG code (``4490``, ``"EPSG:4549"``), WKT or a PROJ string.

    Raises:
        ValueError: for anything GDAL and PROJ do not know, with what to give instead.
    """
    if isinstance(value, CRS):
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a CRS: {value!r}")
    text = str(value).strip()
    if isinstance(value, int) or text.isdigit():
        text = f"EPSG:{int(text)}"
    try:
        crs = CRS.from_user_input(text)
    except (CRSError, ValueError) as error:
        raise ValueError(
            f"unknown CRS {text!r} ({str(error).splitlines()[0]}); give an EPSG code such as "
            "EPSG:4490 (CGCS2000), EPSG:4549 (CGCS2000 / 3-degree Gauss-Kruger CM 120E), "
            "EPSG:32650 (UTM 50N) or EPSG:3857, a WKT or a PROJ string") from None
    return crs


def output_nodata(data: xr.DataArray, nodata: float | None = None) -> tuple[Any, Any]:
    """The source's nodata value and the one to write (``(src_nodata, dst_nodata)``).

    Args:
        data: the source raster.
        nodata: the nodata value asked for the output when the source has none.
    """
    source = data.rio.nodata
    if source is None and np.issubdtype(data.dtype, np.floating):
        source = np.nan  # NaN marks missing values in float data read masked
    if source is not None:
        return source, source
    if nodata is not None:
        return None, nodata
    return None, (np.nan if np.issubdtype(data.dtype, np.floating) else 0)


def open_source(ref: Any, context: Any) -> tuple[xr.DataArray, Path | None]:
    """Open a raster input lazily, with the file it comes from (None for a DataArray).

    Args:
        ref: the tool's raster input.
        context: the tool's :class:`~terralab.tools.base.RunContext`.
    """
    from terralab.tools.inputs import resolve_raster

    data = context.open_raster(ref)
    if isinstance(ref, xr.DataArray):
        return data, None
    source = resolve_raster(ref, user=context.user, home=context.home,
                            restricted=context.restricted)
    return data, source.path


def default_grid(data: xr.DataArray, crs: CRS, resolution: float | None = None) -> Grid:
    """The grid ``gdalwarp`` would choose for ``data`` in ``crs`` (square pixels).

    Args:
        data: the source raster with a CRS.
        crs: the target CRS.
        resolution: the pixel size in the target CRS's units (default: about as many pixels
            as the source has).

    Raises:
        ValueError: when the image cannot be placed in ``crs`` (outside its domain).
    """
    from rasterio.warp import calculate_default_transform

    try:
        transform, width, height = calculate_default_transform(
            data.rio.crs, crs, data.rio.width, data.rio.height, *data.rio.bounds(),
            resolution=resolution)
    except Exception as error:  # GDAL's own errors have no common base worth naming
        raise ValueError(f"cannot place the image in {crs.to_string()}: {error}") from None
    if not width or not height:
        raise ValueError(f"the image has no extent in {crs.to_string()}")
    return Grid(crs, transform, width, height)


def _to_source(points: tuple[np.ndarray, np.ndarray], dst_crs: CRS,
               src_crs: CRS) -> tuple[np.ndarray, np.ndarray]:
    """Carry points into the source CRS with GDAL (points it cannot carry are dropped)."""
    from rasterio.warp import transform

    xs, ys = points
    if dst_crs == src_crs:
        return xs, ys
    try:
        out_x, out_y = transform(dst_crs, src_crs, xs.tolist(), ys.tolist())
    except Exception:  # some points outside the projection's domain: carry them one by one
        out_x, out_y = [], []
        for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
            try:
                (px,), (py,) = transform(dst_crs, src_crs, [x], [y])
            except Exception:  # outside the domain: no source pixel
                continue
            out_x.append(px)
            out_y.append(py)
    out = np.asarray(out_x, dtype="float64"), np.asarray(out_y, dtype="float64")
    keep = np.isfinite(out[0]) & np.isfinite(out[1])
    return out[0][keep], out[1][keep]


def _source_window(grid: Grid, rows: tuple[int, int], cols: tuple[int, int], src_crs: CRS,
                   src_transform: Affine, src_shape: tuple[int, int],
                   resampling: str) -> tuple[int, int, int, int] | None:
    """Source rows and columns ``(r0, r1, c0, c1)`` an output block needs (None: none)."""
    (r0, r1), (c0, c1) = rows, cols
    edge = np.linspace(0.0, 1.0, _EDGE_POINTS)
    px = np.concatenate([c0 + (c1 - c0) * edge, np.full(_EDGE_POINTS, c1),
                         c0 + (c1 - c0) * edge, np.full(_EDGE_POINTS, c0)])
    py = np.concatenate([np.full(_EDGE_POINTS, r0), r0 + (r1 - r0) * edge,
                         np.full(_EDGE_POINTS, r1), r0 + (r1 - r0) * edge])
    xs, ys = grid.transform @ (px, py)
    sx, sy = _to_source((np.asarray(xs), np.asarray(ys)), grid.crs, src_crs)
    if sx.size == 0:
        return None
    cols_f, rows_f = ~src_transform @ (sx, sy)
    ratio = max((np.ptp(cols_f) + 1) / max(c1 - c0, 1), (np.ptp(rows_f) + 1) / max(r1 - r0, 1),
                1.0)
    pad = math.ceil(_RADIUS.get(resampling, 2) * ratio) + 2
    height, width = src_shape
    top = max(math.floor(rows_f.min()) - pad, 0)
    bottom = min(math.ceil(rows_f.max()) + pad, height)
    left = max(math.floor(cols_f.min()) - pad, 0)
    right = min(math.ceil(cols_f.max()) + pad, width)
    if top >= bottom or left >= right:
        return None
    return top, bottom, left, right


def _assemble(blocks: list[list[np.ndarray]], offset: tuple[int, int],
              window: tuple[int, int, int, int]) -> np.ndarray:
    """Copy the window out of the source chunks under it (chunks of shape ``(1, h, w)``)."""
    top, bottom, left, right = window
    source = np.empty((bottom - top, right - left), dtype=np.asarray(blocks[0][0]).dtype)
    y0 = offset[0]
    for row in blocks:
        x0 = offset[1]
        for block in row:
            chunk = np.asarray(block)[0]
            h, w = chunk.shape
            ys, ye = max(y0, top), min(y0 + h, bottom)
            xs, xe = max(x0, left), min(x0 + w, right)
            if ys < ye and xs < xe:
                source[ys - top:ye - top, xs - left:xe - left] = chunk[ys - y0:ye - y0,
                                                                       xs - x0:xe - x0]
            x0 += w
        y0 += h
    return source


def _read_window(path: str, band: int, window: tuple[int, int, int, int]) -> np.ndarray:
    """Read a window of one band of a file (1-based ``band``)."""
    from rasterio.windows import Window

    top, bottom, left, right = window
    with open_checked(path, Path(path).name) as src:
        return src.read(band, window=Window(left, top, right - left, bottom - top))


def _warp_block(source: np.ndarray, window: tuple[int, int, int, int], src_transform: Affine,
                src_crs: CRS, dst_transform: Affine, dst_crs: CRS, shape: tuple[int, int],
                dtype: str, resampling: str, src_nodata: Any, dst_nodata: Any) -> np.ndarray:
    """Warp one output block from the source window under it (a dask task)."""
    from rasterio.warp import reproject

    top, _, left, _ = window
    out = np.full(shape, dst_nodata, dtype=dtype)
    reproject(np.ascontiguousarray(source), out,
              src_transform=src_transform @ Affine.translation(left, top), src_crs=src_crs,
              src_nodata=src_nodata, dst_transform=dst_transform, dst_crs=dst_crs,
              dst_nodata=dst_nodata, resampling=Resampling[resampling], num_threads=1)
    return out[np.newaxis]


def _edges(sizes: tuple[int, ...]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(sizes)])


def _out_chunk(data: xr.DataArray, grid: Grid, chunks: int) -> int:
    """Output block side: smaller when one output pixel covers many source pixels."""
    ratio = math.sqrt(data.rio.width * data.rio.height / max(grid.width * grid.height, 1))
    return max(_MIN_CHUNK, min(chunks, int(chunks / max(ratio, 1.0))))


class _Source:
    """Where the warp tasks get source pixels: windows of a file, or chunks of a dask array."""

    def __init__(self, data: xr.DataArray, path: str | None, chunks: int) -> None:
        self.path = path
        array = data.data
        if not isinstance(array, da.Array):
            array = da.from_array(array, chunks=(1, chunks, chunks))
        self.array = array.rechunk({0: 1})
        self.rows, self.cols = _edges(self.array.chunks[1]), _edges(self.array.chunks[2])

    def task(self, band: int, window: tuple[int, int, int, int]) -> tuple[Any, ...]:
        """The (inlined) task giving ``window`` of ``band`` (0-based)."""
        if self.path is not None:
            return (_read_window, self.path, band + 1, window)
        top, bottom, left, right = window
        iy = range(int(np.searchsorted(self.rows, top, "right")) - 1,
                   int(np.searchsorted(self.rows, bottom, "left")))
        ix = range(int(np.searchsorted(self.cols, left, "right")) - 1,
                   int(np.searchsorted(self.cols, right, "left")))
        blocks = [[(self.array.name, band, y, x) for x in ix] for y in iy]
        return (_assemble, blocks, (int(self.rows[iy.start]), int(self.cols[ix.start])), window)


def warp(data: xr.DataArray, grid: Grid, *, resampling: str = "nearest",
         nodata: float | None = None, chunks: int = 1024,
         path: str | Path | None = None) -> xr.DataArray:
    """Warp ``data`` onto ``grid`` lazily.

    Args:
        data: a ``(band, y, x)`` (or ``(y, x)``) raster with a CRS; lazy or in memory.
        grid: the output grid.
        resampling: one of :data:`RESAMPLING_METHODS`.
        nodata: the output's nodata value when the source has none (see the module doc).
        chunks: the output block side in pixels (smaller when downsampling a lot).
        path: the file ``data`` was opened from, unchanged: each task then reads just its
            window from the file, so memory stays at a few blocks whatever dask's order.

    Returns:
        A lazy ``(band, y, x)`` DataArray on ``grid``, of the source's dtype, with the CRS,
        the nodata value and the band coordinates and attributes of the source.
    """
    if resampling not in RESAMPLING_METHODS:
        raise ValueError(f"unknown resampling {resampling!r}; one of {RESAMPLING_METHODS}")
    if "band" not in data.dims:
        data = data.expand_dims(band=[1])
    data = data.transpose("band", "y", "x")
    src_crs, src_transform = data.rio.crs, data.rio.transform(recalc=True)
    src_nodata, dst_nodata = output_nodata(data, nodata)
    source = _Source(data, None if path is None else str(path), chunks)
    bands, shape = data.sizes["band"], (data.sizes["y"], data.sizes["x"])
    side = _out_chunk(data, grid, chunks)
    out_rows = tuple(min(side, grid.height - i) for i in range(0, grid.height, side))
    out_cols = tuple(min(side, grid.width - j) for j in range(0, grid.width, side))
    name = "warp-" + tokenize(source.array.name, path, src_crs.to_wkt(), src_transform,
                              grid.crs.to_wkt(), grid.transform, grid.width, grid.height,
                              resampling, src_nodata, dst_nodata, side)
    graph: dict[Any, Any] = {}
    for i, (row0, rows) in enumerate(zip(_edges(out_rows)[:-1], out_rows, strict=True)):
        for j, (col0, cols) in enumerate(zip(_edges(out_cols)[:-1], out_cols, strict=True)):
            row0, col0 = int(row0), int(col0)
            window = _source_window(grid, (row0, row0 + rows), (col0, col0 + cols), src_crs,
                                    src_transform, shape, resampling)
            block_transform = grid.transform @ Affine.translation(col0, row0)
            for band in range(bands):
                graph[(name, band, i, j)] = (np.full, (1, rows, cols), dst_nodata, data.dtype) \
                    if window is None else (
                    _warp_block, source.task(band, window), window, src_transform, src_crs,
                    block_transform, grid.crs, (rows, cols), data.dtype.str, resampling,
                    src_nodata, dst_nodata)
    layers = HighLevelGraph.from_collections(
        name, graph, dependencies=[] if path is not None else [source.array])
    array = da.Array(layers, name, chunks=((1,) * bands, out_rows, out_cols), dtype=data.dtype)
    xs, _ = grid.transform @ (np.arange(grid.width) + 0.5, np.full(grid.width, 0.5))
    _, ys = grid.transform @ (np.full(grid.height, 0.5), np.arange(grid.height) + 0.5)
    out = xr.DataArray(array, dims=("band", "y", "x"),
                       coords={"band": data.coords["band"].values if "band" in data.coords
                               else np.arange(1, bands + 1),
                               "y": np.asarray(ys), "x": np.asarray(xs)},
                       attrs={k: v for k, v in data.attrs.items()
                              if k in ("long_name", "scale_factor", "add_offset", "units")},
                       name=data.name)
    out = out.rio.write_crs(grid.crs).rio.write_transform(grid.transform)
    return out.rio.write_nodata(dst_nodata, encoded=False)
