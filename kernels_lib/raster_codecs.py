"""How terralab compresses the rasters it writes: tool results and published COGs.

One choice per kind of output, from the settings (``raster`` section,
:class:`terralab.settings.RasterSettings`; the hub's ``c.TerralabHub.raster_codec`` and
``raster_float_max_error``):

- **integers** (class maps, masks, counts, 8- and 16-bit imagery): the codec (DEFLATE by
  default, which every GIS reads; ZSTD compresses about as well and decodes faster, for GDAL
  2.3 and newer) with the horizontal-differencing predictor (``PREDICTOR=2``); lossless;
- **floats** (indices, reflectances, backscatter): the same codec with the floating-point
  predictor (``PREDICTOR=3``), lossless; or, where the deployment or the user allows an error
  (``float_max_error``, e.g. ``0.001`` for an NDVI), LERC with that stated maximum error,
  followed by the codec (``LERC_DEFLATE`` / ``LERC_ZSTD``): every pixel stays within the
  error of its value.

Every write compresses on all cores (``NUM_THREADS=ALL_CPUS``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from terralab.settings import settings

__all__ = ["cog_options", "gtiff_options"]


def _choice(dtype: Any) -> tuple[str, int | None, float | None]:
    """(GDAL's COMPRESS, the predictor or None, LERC's MAX_Z_ERROR or None) for ``dtype``."""
    section = settings().raster
    codec = section.codec.upper()
    if np.dtype(dtype).kind == "f":
        if section.float_max_error is not None:
            return f"LERC_{codec}", None, float(section.float_max_error)
        return codec, 3, None
    return codec, 2, None


def gtiff_options(dtype: Any) -> dict[str, Any]:
    """Compression options of GDAL's GTiff driver for a raster of ``dtype``."""
    compress, predictor, max_error = _choice(dtype)
    options: dict[str, Any] = {"compress": compress, "NUM_THREADS": "ALL_CPUS"}
    if predictor is not None:
        options["predictor"] = predictor
    if max_error is not None:
        options["MAX_Z_ERROR"] = max_error
    return options


def cog_options(dtype: Any) -> dict[str, Any]:
    """Compression options of GDAL's COG driver for a raster of ``dtype``."""
    compress, predictor, max_error = _choice(dtype)
    options: dict[str, Any] = {"compress": compress, "num_threads": "ALL_CPUS"}
    if predictor is not None:
        options["predictor"] = "YES"  # the COG driver picks 2 or 3 from the data type
    if max_error is not None:
        options["MAX_Z_ERROR"] = max_error
    return options
