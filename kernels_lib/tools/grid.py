"""Putting several rasters on one pixel grid, lazily (for the mosaic and band composite tools).

A :class:`Grid` is a CRS, an affine transform and a size. :func:`union_grid` builds the grid
covering several inputs; :func:`open_source` reads what an input is (its grid, nodata, alpha
band, band names) without reading pixels; :func:`on_grid` gives the input's bands on a grid as
a lazy ``(band, y, x)`` DataArray plus a lazy validity mask.

Files that are already on the grid are used as opened; files on another grid are warped chunk by
chunk through a :class:`rasterio.vrt.WarpedVRT` (with an alpha band telling which output pixels
the file covers), so memory follows the chunk size. DataArrays given directly (the output of
another tool) that are not on the grid are reprojected with ``rio.reproject_match``, which reads
them whole.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr
from affine import Affine
from rasterio.crs import CRS

from terralab.raster_open import open_checked
from terralab.tools.inputs import InputError, resolve_raster

__all__ = ["MAX_SIDE", "Grid", "Layer", "Source", "check_nodata", "on_grid", "open_source",
           "union_grid"]

MAX_SIDE = 200_000
"""The largest output side in pixels; beyond it the caller must choose a coarser resolution."""

_TOLERANCE = 1e-6  # in pixels: grids closer than this are the same grid


@dataclass(frozen=True)
class Grid:
    """A north-up pixel grid: the one grid of every tool (mosaic, composite, warps, frames).

    Attributes:
        crs: the coordinate reference system.
        transform: the affine transform of the top-left corner (no rotation).
        width: columns.
        height: rows.
    """

    crs: CRS
    transform: Affine
    width: int
    height: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "width", int(self.width))
        object.__setattr__(self, "height", int(self.height))

    @classmethod
    def of(cls, data: xr.DataArray) -> Grid:
        """The grid of a rioxarray DataArray."""
        return cls(CRS.from_user_input(data.rio.crs), data.rio.transform(recalc=True),
                   int(data.rio.width), int(data.rio.height))

    @property
    def res(self) -> tuple[float, float]:
        """The pixel size (x, y), positive, in CRS units."""
        return abs(self.transform.a), abs(self.transform.e)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)``."""
        left, top = self.transform.c, self.transform.f
        return (left, top + self.height * self.transform.e,
                left + self.width * self.transform.a, top)

    def coords(self) -> dict[str, np.ndarray]:
        """The pixel-centre coordinates ``{"y": …, "x": …}``."""
        t = self.transform
        return {"y": t.f + (np.arange(self.height) + 0.5) * t.e,
                "x": t.c + (np.arange(self.width) + 0.5) * t.a}

    def differences(self, other: Grid) -> list[str]:
        """How ``other`` differs from this grid, in words (empty when they are the same)."""
        found = []
        if other.crs != self.crs:
            found.append(f"CRS {_crs_name(other.crs)} instead of {_crs_name(self.crs)}")
        if not _close(other.res, self.res, min(self.res)):
            found.append(f"resolution {_pair(other.res)} instead of {_pair(self.res)}")
        if not _close(other.bounds, self.bounds, min(self.res)) or (
                other.width, other.height) != (self.width, self.height):
            found.append(f"extent {_box(other.bounds)} ({other.width}×{other.height} pixels) "
                         f"instead of {_box(self.bounds)} ({self.width}×{self.height} pixels)")
        return found

    def fitted(self, longest: int) -> Grid:
        """The same extent with the longer side at most ``longest`` pixels."""
        scale = min(1.0, longest / max(self.width, self.height))
        width = max(1, round(self.width * scale))
        height = max(1, round(self.height * scale))
        return Grid(self.crs, self.transform @ Affine.scale(self.width / width,
                                                            self.height / height), width, height)

    def footprint_wgs84(self) -> dict[str, Any]:
        """The grid's outline in lon/lat as a GeoJSON polygon (densified bounds)."""
        from rasterio.warp import transform_bounds

        west, south, east, north = transform_bounds(self.crs, "EPSG:4326", *self.bounds,
                                                    densify_pts=21)
        ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
        return {"type": "Polygon", "coordinates": [ring]}

    def same_extent(self, other: Grid) -> bool:
        """Whether ``other`` covers the same area in the same CRS (to a tenth of a pixel)."""
        if self.crs != other.crs:
            return False
        tolerance = 0.1 * min(self.res)
        return all(abs(a - b) <= tolerance for a, b in zip(self.bounds, other.bounds,
                                                             strict=True))

    def check(self) -> None:
        """Refuse rotated grids and sizes beyond :data:`MAX_SIDE`.

        Raises:
            InputError: with what to change.
        """
        if self.transform.b or self.transform.d:
            raise InputError("rotated rasters are not supported; warp them north-up first")
        if self.width > MAX_SIDE or self.height > MAX_SIDE:
            raise InputError(f"the output would be {self.width}×{self.height} pixels; choose a "
                             "coarser resolution")


def _crs_name(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_string()[:60]


def _close(a: tuple[float, ...], b: tuple[float, ...], pixel: float) -> bool:
    return all(abs(x - y) <= _TOLERANCE * pixel for x, y in zip(a, b, strict=True))


def _pair(res: tuple[float, float]) -> str:
    return f"{res[0]:g}" if res[0] == res[1] else f"{res[0]:g}×{res[1]:g}"


def _box(bounds: tuple[float, float, float, float]) -> str:
    return "(" + ", ".join(f"{v:.10g}" for v in bounds) + ")"


@dataclass(frozen=True)
class Source:
    """One raster input, described without reading its pixels.

    Attributes:
        label: how to name it in messages (``image 2 ('b.tif')``).
        grid: its own grid.
        count: its number of data bands (an alpha band not counted).
        dtype: its data type.
        nodata: its nodata value, or None.
        band_names: its band names where known ("" where not).
        path: the file to read, or None for a DataArray.
        data: the lazily opened ``(band, y, x)`` DataArray (all bands, alpha included).
        alpha: the 0-based index of its alpha band, or None.
    """

    label: str
    grid: Grid
    count: int
    dtype: np.dtype
    nodata: float | None
    band_names: tuple[str, ...]
    path: Path | None
    data: xr.DataArray
    alpha: int | None = None


def open_source(ref: Any, context: Any, *, position: int, chunks: int = 1024) -> Source:
    """Describe the raster input ``ref`` (the ``position``-th input, from 1) for ``context``.

    Raises:
        InputError: for an input that cannot be used (no CRS, a rotated grid …).
    """
    source = resolve_raster(ref, user=context.user, home=context.home,
                            restricted=context.restricted)
    label = f"image {position} ({source.label})"
    data = context.open_raster(ref, chunks=chunks)
    if data.rio.crs is None:
        raise InputError(f"{label} has no CRS")
    alpha = None
    names = tuple(source.band_names)
    if source.path is not None:
        from rasterio.enums import ColorInterp

        with open_checked(source.path, label) as src:
            interp = list(src.colorinterp)
            if ColorInterp.alpha in interp and src.count > 1:
                alpha = interp.index(ColorInterp.alpha)
            if not any(names):
                names = tuple(d or "" for d in src.descriptions)
    if len(names) != data.sizes["band"]:
        names = ("",) * data.sizes["band"]
    names = tuple(n for i, n in enumerate(names) if i != alpha)
    count = len(names)
    if count == 1 and not names[0] and source.path is not None:
        asset = ref.get("asset") if isinstance(ref, dict) else None
        names = (str(asset or source.path.stem),)
    grid = Grid.of(data)
    try:
        grid.check()
    except InputError as error:
        raise InputError(f"{label}: {error}") from None
    nodata = data.rio.nodata
    return Source(label=label, grid=grid, count=count, dtype=np.dtype(data.dtype),
                  nodata=None if nodata is None else float(nodata), band_names=names,
                  path=source.path, data=data, alpha=alpha)


def union_grid(grids: list[Grid], *, crs: Any = None, resolution: float | None = None) -> Grid:
    """The grid covering all ``grids``.

    The CRS is ``crs`` or the first grid's; the pixel size is ``resolution`` (in the CRS's
    units) or the finest among the grids already in that CRS (estimated from the others when
    none is). The grid is aligned on the first grid that has that CRS and pixel size, so inputs
    already on it are copied, not resampled.

    Raises:
        InputError: for an unknown CRS or an output too large.
    """
    from rasterio.errors import CRSError
    from rasterio.warp import calculate_default_transform, transform_bounds

    try:
        target = CRS.from_user_input(crs) if crs else grids[0].crs
    except CRSError as error:
        raise InputError(f"unknown CRS {crs!r}: {error}") from None
    if resolution is not None:
        res = (float(resolution), float(resolution))
    else:
        same = [g.res for g in grids if g.crs == target]
        if not same:
            for g in grids:
                transform, _, _ = calculate_default_transform(g.crs, target, g.width, g.height,
                                                              *g.bounds)
                same.append((abs(transform.a), abs(transform.e)))
        res = (min(r[0] for r in same), min(r[1] for r in same))
    boxes = [g.bounds if g.crs == target else transform_bounds(g.crs, target, *g.bounds,
                                                               densify_pts=21) for g in grids]
    left, bottom = min(b[0] for b in boxes), min(b[1] for b in boxes)
    right, top = max(b[2] for b in boxes), max(b[3] for b in boxes)
    anchor = next(((g.transform.c, g.transform.f) for g in grids
                   if g.crs == target and _close(g.res, res, min(res))), (0.0, 0.0))
    col0 = math.floor((left - anchor[0]) / res[0] + _TOLERANCE)
    col1 = math.ceil((right - anchor[0]) / res[0] - _TOLERANCE)
    row0 = math.floor((anchor[1] - top) / res[1] + _TOLERANCE)
    row1 = math.ceil((anchor[1] - bottom) / res[1] - _TOLERANCE)
    grid = Grid(target, Affine(res[0], 0.0, anchor[0] + col0 * res[0],
                               0.0, -res[1], anchor[1] - row0 * res[1]),
                max(col1 - col0, 1), max(row1 - row0, 1))
    grid.check()
    return grid


@dataclass(frozen=True)
class Layer:
    """An input on the common grid.

    Attributes:
        data: ``(band, y, x)``, lazy, the input's values (its alpha band removed).
        valid: ``(band, y, x)`` bool, lazy: covered, alpha ≠ 0, not nodata, not NaN.
    """

    data: xr.DataArray
    valid: xr.DataArray


class _WarpedReader:
    """An array-like reading windows of a file warped onto a grid (for ``da.from_array``)."""

    def __init__(self, path: Path, grid: Grid, resampling: str, count: int, dtype: np.dtype,
                 has_alpha: bool) -> None:
        self.path, self.grid, self.resampling = path, grid, resampling
        self.has_alpha = has_alpha
        self.dtype = dtype
        self.shape = (count, grid.height, grid.width)  # the data bands, then alpha
        self.ndim = 3

    def __getitem__(self, key: tuple[slice, ...]) -> np.ndarray:
        from rasterio.enums import Resampling
        from rasterio.vrt import WarpedVRT
        from rasterio.windows import Window

        bands, rows, cols = (k.indices(n) for k, n in zip(key, self.shape, strict=True))
        window = Window(cols[0], rows[0], cols[1] - cols[0], rows[1] - rows[0])
        with open_checked(self.path, Path(self.path).name) as src, WarpedVRT(
                src, crs=self.grid.crs, transform=self.grid.transform, width=self.grid.width,
                height=self.grid.height, resampling=Resampling[self.resampling],
                add_alpha=not self.has_alpha) as vrt:
            order = [i for i, c in enumerate(vrt.colorinterp) if c.name != "alpha"]
            order.append(next(i for i, c in enumerate(vrt.colorinterp) if c.name == "alpha"))
            out = vrt.read([i + 1 for i in order], window=window)
        return out[slice(*bands)]


def _template(grid: Grid, data: np.ndarray | da.Array, bands: list[int]) -> xr.DataArray:
    arr = xr.DataArray(data, dims=("band", "y", "x"), coords={"band": bands, **grid.coords()})
    return arr.rio.write_crs(grid.crs).rio.write_transform(grid.transform)


def on_grid(source: Source, grid: Grid, *, resampling: str = "nearest",
            chunks: int = 1024) -> Layer:
    """Put ``source``'s data bands on ``grid`` (lazily for files).

    Args:
        source: the input (:func:`open_source`).
        grid: the target grid.
        resampling: a :class:`rasterio.enums.Resampling` name, used when it must be warped.
        chunks: the chunk side in pixels.
    """
    bands = list(range(1, source.count + 1))
    if not source.grid.differences(grid):
        data = source.data.assign_coords(band=np.arange(1, source.data.sizes["band"] + 1),
                                         **grid.coords())
        alpha = None
        if source.alpha is not None:
            alpha = data.isel(band=source.alpha) != 0
            data = data.drop_isel(band=source.alpha).assign_coords(band=bands)
        valid = xr.ones_like(data, dtype=bool) if alpha is None else alpha.expand_dims(
            band=bands)
    elif source.path is not None:
        reader = _WarpedReader(source.path, grid, resampling, source.count + 1, source.dtype,
                               source.alpha is not None)
        stack = da.from_array(reader, chunks=(-1, chunks, chunks), lock=False,
                              name=f"warp-{uuid.uuid4().hex}", meta=np.empty((0, 0, 0),
                                                                             source.dtype))
        data = _template(grid, stack[:-1], bands)
        valid = (_template(grid, stack[-1:], [0]).isel(band=0) != 0).expand_dims(band=bands)
    else:
        template = _template(grid, da.zeros((1, grid.height, grid.width), dtype="uint8",
                                            chunks=(1, chunks, chunks)), [1])
        frame = source.data
        floating = frame.astype("float64")
        if source.nodata is not None and not math.isnan(source.nodata):
            floating = floating.where(frame != source.nodata)
        moved = floating.rio.write_nodata(np.nan, encoded=False).rio.reproject_match(
            template, resampling=_resampling(resampling), nodata=np.nan)
        moved = moved.assign_coords(band=bands, **grid.coords()).chunk(
            {"band": -1, "y": chunks, "x": chunks})
        valid = ~np.isnan(moved)
        fill = source.nodata if source.nodata is not None else 0
        data = moved.fillna(fill).astype(source.dtype)
        return Layer(data=data, valid=valid)
    if source.nodata is not None and not math.isnan(source.nodata):
        valid = valid & (data != source.nodata)
    if np.issubdtype(source.dtype, np.floating):
        valid = valid & ~np.isnan(data)
    return Layer(data=data, valid=valid)


def check_nodata(value: float, dtype: np.dtype) -> float:
    """Return ``value`` as a float if ``dtype`` can hold it.

    Raises:
        InputError: for NaN or an out-of-range or fractional value with an integer type.
    """
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        if math.isnan(value) or not info.min <= value <= info.max or value != int(value):
            raise InputError(f"nodata {value} does not fit the images' type {dtype} "
                             f"({info.min}…{info.max})")
    return float(value)


def _resampling(name: str) -> Any:
    from rasterio.enums import Resampling

    return Resampling[name]
