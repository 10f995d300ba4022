"""Write arrays as Cloud-Optimized GeoTIFFs with overviews on a demo grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rasterio.crs import CRS
from rasterio.enums import ColorInterp
from rasterio.io import MemoryFile
from rasterio.shutil import copy as rio_copy

from terralab.demo.grid import EPSG, Grid

__all__ = ["write_cog"]

# band names shown as colours (the Sentinel-2 TCI is B04, B03, B02)
_COLOUR = {"red": ColorInterp.red, "green": ColorInterp.green, "blue": ColorInterp.blue,
           "b04": ColorInterp.red, "b03": ColorInterp.green, "b02": ColorInterp.blue}


def _blocksize(side: int) -> int:
    """Return a tile size small enough that the raster gets at least one overview."""
    size = 256
    while size > 16 and size >= side:
        size //= 2
    return size


def write_cog(path: Path, data: np.ndarray, grid: Grid, *, nodata: float | None = None,
              categorical: bool = False, descriptions: tuple[str, ...] = (),
              tags: dict[str, str] | None = None) -> Path:
    """Write ``data`` (rows, cols) or (bands, rows, cols) as a DEFLATE COG with overviews.

    Args:
        path: the output file.
        data: the pixels on ``grid``.
        grid: the pixel grid (EPSG:32651).
        nodata: the nodata value to declare.
        categorical: overviews by nearest neighbour (classes, bit flags), else by average.
        descriptions: one description per band.
        tags: GDAL metadata items.

    Returns:
        ``path``.
    """
    if data.ndim == 2:
        data = data[None]
    profile = {"driver": "GTiff", "count": data.shape[0], "height": data.shape[1],
               "width": data.shape[2], "dtype": data.dtype.name, "crs": CRS.from_epsg(EPSG),
               "transform": grid.transform, "nodata": nodata}
    with MemoryFile() as memory, memory.open(**profile) as tmp:
        tmp.write(data)
        for index, text in enumerate(descriptions, start=1):
            tmp.set_band_description(index, text)
        if len(descriptions) > 1:
            # name the colours; any other band (e.g. NIR) is no alpha band, whatever GDAL
            # would otherwise assume for a 4-band RGB image
            tmp.colorinterp = [_COLOUR.get(text.lower(), ColorInterp.undefined)
                               for text in descriptions]
        if tags:
            tmp.update_tags(**tags)
        rio_copy(tmp, path, driver="COG", compress="DEFLATE", predictor="YES", level=1,
                 blocksize=_blocksize(max(data.shape[1:])), num_threads="ALL_CPUS",
                 overview_resampling="nearest" if categorical else "average")
    return path
