"""The memory budget of rasters, as traitlets of the terralab hub.

:class:`RasterSettings` is mixed into :class:`terralab.hub.settings.TerralabHub`, so a site
sets ``c.TerralabHub.raster_gdal_cache = "512MiB"`` like any JupyterHub option. The values go
into the ``raster`` section of the settings document (:mod:`terralab.settings`), read by the
hub service, the workers and users' servers (:mod:`terralab.raster_budget`).
"""

from __future__ import annotations

from typing import Any

from traitlets import CaselessStrEnum, Float, HasTraits, TraitError, Unicode, validate

from terralab.sizes import parse_size

__all__ = ["RasterSettings"]


class RasterSettings(HasTraits):
    """The memory and compression of rasters in every process of the lab.

    GDAL's block cache and Dask's chunk size (:mod:`terralab.raster_budget`), and how the
    rasters the lab writes are compressed (:mod:`terralab.raster_codecs`).
    """

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

    raster_codec = CaselessStrEnum(
        ["deflate", "zstd"],
        default_value="deflate",
        config=True,
        help="""How tool results and published COGs are compressed, losslessly with a
        predictor: "deflate" (read by every GIS) or "zstd" (faster to decode).""",
    )

    raster_float_max_error = Float(
        None,
        allow_none=True,
        config=True,
        help="""The error allowed in floating-point results (e.g. 0.001 for an index): they
        are then compressed with LERC at this maximum error. None (default): lossless.""",
    )

    @validate("raster_float_max_error")
    def _check_error(self, proposal: dict[str, Any]) -> float | None:
        value = proposal["value"]
        if value is not None and value <= 0:
            raise TraitError(f"raster_float_max_error: give an error > 0, not {value}")
        return value

    @validate("raster_gdal_cache", "raster_dask_chunk")
    def _check_size(self, proposal: dict[str, Any]) -> str:
        try:
            parse_size(proposal["value"])
        except ValueError as error:
            raise TraitError(f"{proposal['trait'].name}: {error}") from None
        return proposal["value"]

    def raster_settings(self) -> dict[str, Any]:
        """The ``raster`` section of the settings document."""
        return {"gdal_cache": parse_size(self.raster_gdal_cache),
                "dask_chunk": parse_size(self.raster_dask_chunk),
                "codec": self.raster_codec.lower(),
                "float_max_error": self.raster_float_max_error}
