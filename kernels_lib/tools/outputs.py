"""Writing a tool's output: rasters streamed block by block, vectors as GeoPackage.

A raster output is a lazy DataArray; it is computed chunk by chunk while it is written
(dask ``store`` under a lock), so a tool's peak memory follows the chunk size, not the raster
size. The written GeoTIFF then goes through the same publishing as an upload
(:func:`terralab.mydata.results.publish_result`): COG with overviews, statistics, thumbnail.

The lock follows the active scheduler: a ``threading.Lock`` on dask's local schedulers; a
``distributed.Lock`` (one per file, held on the scheduler) when a ``distributed`` client is the
default (:func:`terralab.compute.client`), whose workers then write the windows themselves.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

from terralab.tools.base import ToolOutput

__all__ = ["write_output"]


def _write_lock(target: Path) -> Any:
    """The lock for writing ``target``: distributed when a distributed client is the default."""
    if "distributed" in sys.modules:  # never imported on the threaded path
        import dask
        from distributed import Lock, default_client

        try:
            client = default_client()
        except ValueError:
            client = None
        if client is not None and dask.base.get_scheduler() == client.get:
            return Lock(f"terralab-write-{target}")
    return threading.Lock()


def _write_raster(output: ToolOutput, target: Path) -> Path:
    data = output.raster
    if "band" not in data.dims:
        data = data.expand_dims(band=[1])
    data = data.transpose("band", "y", "x")
    if output.nodata is not None:
        data = data.rio.write_nodata(output.nodata, encoded=False)
    elif np.issubdtype(data.dtype, np.floating) and data.rio.nodata is None:
        data = data.rio.write_nodata(np.nan, encoded=False)
    # MINISBLACK: GDAL would otherwise mark the 4th band of a 4-band uint8 result as alpha.
    # interleave=band: dask writes one band at a time; with pixel interleaving every tile
    # would be decompressed and recompressed once per band (measured 3.7× slower, 2.9× larger
    # in benchmarks/processing.py). NUM_THREADS: compress on every core.
    options = {"tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "DEFLATE",
               "BIGTIFF": "IF_SAFER", "photometric": "MINISBLACK", "interleave": "band",
               "NUM_THREADS": "ALL_CPUS"}
    if output.band_names:
        data.attrs["long_name"] = tuple(output.band_names)
    path = target.absolute()  # the workers of a distributed cluster have another cwd
    data.rio.to_raster(path, lock=_write_lock(path), windowed=True, **options)
    return target


def write_output(output: ToolOutput, folder: Path) -> Path:
    """Write ``output`` into ``folder`` and return the file (GeoTIFF, GeoPackage or as is)."""
    folder.mkdir(parents=True, exist_ok=True)
    if output.raster is not None:
        return _write_raster(output, folder / f"{output.name}.tif")
    if output.vector is not None:
        target = folder / f"{output.name}.gpkg"
        output.vector.to_file(target, driver="GPKG", layer=output.name)
        return target
    assert output.file is not None
    return Path(output.file)
