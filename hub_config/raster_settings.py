"""The memory budget of rasters, as traitlets of the terralab hub.

:class:`RasterSettings` is mixed into :class:`terralab.hub.settings.TerralabHub`, so a site
sets ``c.TerralabHub.raster_gdal_cache = "512MiB"`` like any JupyterHub option. The values go
into the ``raster`` section of the settings document (:mod:`terralab.settings`), read by the
hub service, the workers and users' servers (:mod:`terralab.raster_budget`).
"""

from __future__ import annotations

from typing import Any

from traitlets import HasTraits, TraitError, Unicode, validate

from terralab.sizes import parse_size

__all__ = ["RasterSettings"]


class RasterSettings(HasTraits):
    """GDAL's block cache and Dask's chunk size in every process of the lab."""

    raster_gdal_cache = Unicode(
        "256MiB",
        config=True,
        help="""GDAL's block cache in each process that reads or writes rasters (the hub
        service, each worker, each user's kernel), e.g. "256MiB". GDAL alone would take 5 %
        of the machine's memory in every process.""",
    )

    raster_dask_chunk = Unicode(
        "128MiB",
        config=True,
        help="""The size of the chunks Dask cuts lazy rasters into when a tool leaves the
        chunking to Dask, e.g. "128MiB".""",
    )

    @validate("raster_gdal_cache", "raster_dask_chunk")
    def _check_size(self, proposal: dict[str, Any]) -> str:
        try:
            parse_size(proposal["value"])
        except ValueError as error:
            raise TraitError(f"{proposal['trait'].name}: {error}") from None
        return proposal["value"]

    def raster_settings(self) -> dict[str, int]:
        """The ``raster`` section of the settings document."""
        return {"gdal_cache": parse_size(self.raster_gdal_cache),
                "dask_chunk": parse_size(self.raster_dask_chunk)}
