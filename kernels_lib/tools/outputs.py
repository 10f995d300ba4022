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
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from dask.callbacks import Callback

from terralab.raster_budget import apply_raster_budget
from terralab.raster_codecs import gtiff_options
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
    options = {"tiled": True, "blockxsize": 512, "blockysize": 512, "BIGTIFF": "IF_SAFER",
               "photometric": "MINISBLACK", "interleave": "band",
               **gtiff_options(data.dtype)}  # the codec and predictor of this kind of output
    if output.band_names:
        data.attrs["long_name"] = tuple(output.band_names)
    path = target.absolute()  # the workers of a distributed cluster have another cwd
    data.rio.to_raster(path, lock=_write_lock(path), windowed=True, **options)
    return target


class _Progress(Callback):
    """Reports the share of a dask computation done (local schedulers), twice a second.

    The report may raise (a cancelled job): the computation stops at the next task.
    """

    def __init__(self, report: Callable[[float], None]) -> None:
        super().__init__()
        self.report = report
        self.total = 1
        self.done = 0
        self.last = 0.0

    def _start_state(self, dsk: Any, state: dict[str, Any]) -> None:
        self.total = max(1, sum(len(state[key]) for key in ("ready", "waiting", "running")))

    def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        self.done += 1
        now = time.monotonic()
        if now - self.last > 0.5:
            self.last = now
            self.report(min(1.0, self.done / self.total))


def write_output(output: ToolOutput, folder: Path, *,
                 progress: Callable[[float], None] | None = None) -> Path:
    """Write ``output`` into ``folder`` and return the file (GeoTIFF, GeoPackage or as is).

    Args:
        output: what the tool made.
        folder: where to write it.
        progress: called with the share done (0…1) while a raster is computed and written.
    """
    apply_raster_budget()
    folder.mkdir(parents=True, exist_ok=True)
    if output.raster is not None:
        if progress is None:
            return _write_raster(output, folder / f"{output.name}.tif")
        with _Progress(progress):
            return _write_raster(output, folder / f"{output.name}.tif")
    if output.vector is not None:
        target = folder / f"{output.name}.gpkg"
        output.vector.to_file(target, driver="GPKG", layer=output.name)
        return target
    assert output.file is not None
    return Path(output.file)
