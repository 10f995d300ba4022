"""The memory a process may spend on rasters: GDAL's block cache and Dask's chunks.

Left alone, GDAL keeps up to 5 % of the machine's memory of decoded blocks in every process
(1.2 GB on a 24 GB machine): publishing a 16,000² upload then peaks at 1.8 GB where it needs
0.4 GB, and a lab runs many such processes (the hub service, the workers, users' kernels).
terralab sets both budgets itself, from the settings (``raster`` section,
:class:`terralab.settings.RasterSettings`; the hub's ``c.TerralabHub.raster_gdal_cache`` and
``raster_dask_chunk``):

- ``gdal_cache`` (256 MiB): GDAL's block cache of the process (``GDAL_CACHEMAX``);
- ``dask_chunk`` (128 MiB): Dask's ``array.chunk-size``, the size of the chunks lazy arrays
  are cut into when their chunks are left to Dask.

:func:`apply_raster_budget` sets them once per process; the code that reads, writes or
publishes rasters calls it first (:func:`terralab.raster_open.open_checked`, tool outputs,
publishing). With a bounded cache, memory stays flat whatever the image size: the windows
and blocks in flight, not the image, decide it.
"""

from __future__ import annotations

import threading

from terralab.settings import settings

__all__ = ["apply_raster_budget", "raster_budget"]

_LOCK = threading.Lock()
_APPLIED: list[tuple[int, int]] = []


def raster_budget() -> tuple[int, int]:
    """The budgets of this process from the settings: (GDAL cache bytes, Dask chunk bytes)."""
    section = settings().raster
    return section.gdal_cache, section.dask_chunk


def apply_raster_budget(*, force: bool = False) -> tuple[int, int]:
    """Set GDAL's cache and Dask's chunk size from the settings, once per process.

    Args:
        force: Set them again (after the settings changed, e.g. in a test).

    Returns:
        The budgets in force: (GDAL cache bytes, Dask chunk bytes).
    """
    if _APPLIED and not force:  # every raster open passes here: no lock once set
        return _APPLIED[0]
    with _LOCK:
        if _APPLIED and not force:
            return _APPLIED[0]
        import dask
        from rasterio.env import set_gdal_config

        cache, chunk = raster_budget()
        set_gdal_config("GDAL_CACHEMAX", int(cache))  # bytes (rasterio sets it directly)
        dask.config.set({"array.chunk-size": f"{int(chunk)}B"})
        _APPLIED[:] = [(cache, chunk)]
        return cache, chunk
