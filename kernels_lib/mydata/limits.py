"""The rules an upload must meet (PRODUCT.md §2), as one configurable value.

Defaults are the platform's: rasters of 3 (RGB) or 4 (BGRA / RGBN) bands, 8 or 16 bit,
1024 to 100,000 pixels a side, at most 5 GB, on WGS84, CGCS2000, Xian 1980 or Beijing 1954
(geographic or projected); zipped shapefiles of at most 5 GB. A deployment changes them with
``c.TerralabHub.upload_limits`` (the settings' ``uploads``, :mod:`terralab.settings`), a bare
kernel with environment variables:

========================================  ==================================================
``TERRALAB_UPLOAD_MAX_BYTES``             largest file, bytes (5 GiB)
``TERRALAB_UPLOAD_MIN_SIDE``              smallest width and height, pixels (1024)
``TERRALAB_UPLOAD_MAX_SIDE``              largest width and height, pixels (100000)
``TERRALAB_UPLOAD_BAND_COUNTS``           allowed band counts, comma-separated (3,4)
``TERRALAB_UPLOAD_DTYPES``                allowed sample types (uint8,uint16)
``TERRALAB_UPLOAD_CRS``                   ``platform`` (the four datums) or ``any``
``TERRALAB_UPLOAD_ZIP_MAX_ENTRIES``       most members in a zip (1000)
``TERRALAB_UPLOAD_ZIP_MAX_UNPACKED``      most bytes a zip may unpack to (4 × max bytes)
``TERRALAB_UPLOAD_ZIP_MAX_RATIO``         largest compression ratio of one member (200)
``TERRALAB_UPLOAD_REFUSED_DRAIN_BYTES``   largest body of a refused upload the hub service
                                          reads and drops before answering (64 MiB)
========================================  ==================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from terralab.settings import UploadSettings, settings_of

__all__ = ["UploadLimits"]

_GiB = 1024**3


@dataclass(frozen=True)
class UploadLimits:
    """The upload rules.

    Attributes:
        max_bytes: the largest uploaded file, in bytes.
        min_side: the smallest raster width and height, in pixels.
        max_side: the largest raster width and height, in pixels.
        band_counts: the raster band counts accepted.
        dtypes: the raster sample types accepted (numpy names).
        crs: ``"platform"``: WGS84, CGCS2000, Xian 1980, Beijing 1954 and projections on
            them; ``"any"``: any georeferenced CRS (a site that takes other data).
        zip_max_entries: the most members a zip may hold.
        zip_max_unpacked: the most bytes a zip's members may add up to, unpacked.
        zip_max_ratio: the largest uncompressed/compressed ratio of one zip member.
        refused_drain_bytes: the hub service answers a refused ``PUT`` (unknown upload,
            wrong length, not signed in) only after reading and dropping its body, up to
            this size, so that the proxy in front keeps its connections (answering early
            made configurable-http-proxy answer 503 to other users); a larger body is
            refused at once with ``Connection: close``.
    """

    max_bytes: int = 5 * _GiB
    min_side: int = 1024
    max_side: int = 100_000
    band_counts: tuple[int, ...] = (3, 4)
    dtypes: tuple[str, ...] = ("uint8", "uint16")
    crs: str = "platform"
    zip_max_entries: int = 1000
    zip_max_unpacked: int = 20 * _GiB
    zip_max_ratio: float = 200.0
    refused_drain_bytes: int = 64 * 1024**2

    def __post_init__(self) -> None:
        if self.crs not in ("platform", "any"):
            raise ValueError(f"UploadLimits.crs must be 'platform' or 'any', not {self.crs!r}")
        if not 0 < self.min_side <= self.max_side:
            raise ValueError("UploadLimits: need 0 < min_side <= max_side")

    def with_(self, **changes: Any) -> UploadLimits:
        """Return a copy with some rules changed."""
        return replace(self, **changes)

    @classmethod
    def from_settings(cls, uploads: UploadSettings) -> UploadLimits:
        """Return the limits with the settings' changes applied (None keeps a default).

        A ``max_bytes`` without ``zip_max_unpacked`` makes that 4 × ``max_bytes``.
        """
        values: dict[str, Any] = {
            key: tuple(value) if isinstance(value, list) else value
            for key, value in uploads.model_dump().items() if value is not None}
        if "max_bytes" in values and "zip_max_unpacked" not in values:
            values["zip_max_unpacked"] = 4 * values["max_bytes"]
        return cls(**values)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> UploadLimits:
        """Return the limits configured (:func:`terralab.settings.settings`'s ``uploads``).

        Args:
            environ: another process's environment to read instead.

        Raises:
            ValueError: for a variable that is not a valid value (the message names it).
        """
        return cls.from_settings(settings_of(environ).uploads)
