"""In-memory rasters on the map: an ``xarray.DataArray`` written to the user's tile cache.

The tile endpoint runs in the Jupyter server, not in the kernel, so it cannot read kernel
memory. :func:`cache_array` writes the array as a tiled, compressed GeoTIFF with overviews
under ``<TERRALAB_HOME>/users/<user>/.terralab-cache/`` and returns its path relative to the
user's folder; the map then shows it with ``path=`` like any other file.

Why a file rather than an ``ImageOverlay`` of a rendered PNG: a file works for arrays of any
size (lazy dask arrays are written window by window and only the visible tiles are rendered),
it keeps band choice, stretch and colormap in one place (the tile endpoint), it stays out of
the notebook's widget state (a PNG overlay would be embedded in it), and the tile endpoint
reprojects to Web Mercator correctly for any CRS. The cost is disk space in the user's own
folder, like their notebooks and downloads: it is not a my-data item, so the storage quota
(which counts my-data items) does not see it; :func:`clear_cache` empties the folder.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from terralab.home import user_dir
from terralab.identity import current_user

__all__ = ["CACHE_FOLDER", "cache_array", "clear_cache"]

CACHE_FOLDER = ".terralab-cache"
_OVERVIEW_MIN = 512  # build overviews for arrays wider or taller than this
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _with_crs(data: Any) -> Any:
    """Return ``data`` with a CRS: its own, else WGS84 when its x/y look like lon/lat."""
    import rioxarray  # noqa: F401  (registers the .rio accessor)

    if data.rio.crs is not None:
        return data
    x, y = data.rio.x_dim, data.rio.y_dim
    xs, ys = np.asarray(data[x]), np.asarray(data[y])
    if xs.size and ys.size and np.all(np.abs(xs) <= 180) and np.all(np.abs(ys) <= 90):
        return data.rio.write_crs("EPSG:4326")
    raise ValueError("the array has no CRS and its coordinates are not longitude/latitude; "
                     "set one first, e.g. data.rio.write_crs('EPSG:32650')")


def cache_array(data: Any, *, name: str | None = None, user: str | None = None,
                home: Path | None = None) -> str:
    """Write a DataArray into the user's tile cache and return its path in the user's folder.

    Args:
        data: a 2-D ``(y, x)`` or 3-D ``(band, y, x)`` DataArray with spatial coordinates
            (and a CRS, or lon/lat coordinates taken as WGS84).
        name: a name to start the file name with (default: the array's name).
        user: whose folder (default: the current user).
        home: the terralab data folder.

    Returns:
        ``.terralab-cache/<name>-<random>.tif``, for the tile endpoint's ``path=``.

    Raises:
        ValueError: for an array with other dimensions, or with no usable CRS.
    """
    if data.ndim == 2:
        data = data.expand_dims(band=[1])
    elif data.ndim != 3:
        raise ValueError(f"show a 2-D (y, x) or 3-D (band, y, x) array, not {data.dims}")
    data = _with_crs(data)
    band_dim = next(d for d in data.dims if d not in (data.rio.x_dim, data.rio.y_dim))
    data = data.transpose(band_dim, data.rio.y_dim, data.rio.x_dim)
    if np.issubdtype(data.dtype, np.floating) and data.rio.nodata is None:
        data = data.rio.write_nodata(np.nan, encoded=False)
    folder = user_dir(user or current_user(), home=home) / CACHE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    stem = _SAFE.sub("-", str(name or data.name or "array")).strip("-.")[:40] or "array"
    target = folder / f"{stem}-{uuid.uuid4().hex[:8]}.tif"
    data.rio.to_raster(target, tiled=True, blockxsize=256, blockysize=256, compress="DEFLATE",
                       photometric="MINISBLACK", windowed=True)
    _add_overviews(target)
    return f"{CACHE_FOLDER}/{target.name}"


def _add_overviews(path: Path) -> None:
    """Add power-of-two overviews until the smallest level fits in one 256-pixel tile."""
    import rasterio
    from rasterio.enums import Resampling

    with rasterio.open(path, "r+") as dst:
        size, factors = max(dst.width, dst.height), []
        factor = 2
        while size > _OVERVIEW_MIN and size / factor >= 128:
            factors.append(factor)
            factor *= 2
        if factors:
            dst.build_overviews(factors, Resampling.average)


def clear_cache(*, user: str | None = None, home: Path | None = None) -> int:
    """Delete the user's tile cache; return how many files were removed."""
    folder = user_dir(user or current_user(), home=home) / CACHE_FOLDER
    if not folder.is_dir():
        return 0
    count = sum(1 for entry in folder.iterdir() if entry.is_file())
    shutil.rmtree(folder)
    return count
