"""The product model: bands, RGB presets and the conversions every collection shares.

A :class:`Product` describes one STAC collection's conventions (asset keys, scale and offset,
nodata, quality decoding). Collections with special rules subclass it and override
:meth:`Product.scale_offset`, :meth:`Product.decode_quality` and the mask methods.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Band", "Product", "RGBPreset", "bit_field", "to_db"]


@dataclass(frozen=True)
class Band:
    """One band of a product.

    Attributes:
        asset: the STAC asset key that holds the band.
        band_id: the official band name (``SR_B4``, ``B04``, ``VV``); used in file names.
        common_name: the STAC ``eo:bands`` common name (``red``, ``nir08``) or None.
        description: a short human description.
        resolution: the native pixel size in metres.
        dtype: the stored data type (``uint16``, ``float32``...).
        scale: physical = DN · scale + offset.
        offset: see ``scale``.
        nodata: the stored value that marks no data, or None.
        index: the 1-based band index inside the asset's file.
        unit: the unit of the physical value (``1`` for reflectance, ``K``...).
        wavelength: the centre wavelength in micrometres (optical bands).
        kind: ``reflectance``, ``temperature``, ``backscatter``, ``quality`` or ``image``.
    """

    asset: str
    band_id: str
    description: str
    resolution: float
    dtype: str
    common_name: str | None = None
    scale: float = 1.0
    offset: float = 0.0
    nodata: float | None = None
    index: int = 1
    unit: str | None = None
    wavelength: float | None = None
    kind: str = "reflectance"


@dataclass(frozen=True)
class RGBPreset:
    """How to show a product as a quick-look. Iterating yields the three band keys.

    Attributes:
        bands: the three band keys shown as red, green and blue.
        ranges: the physical display range (min, max) of each channel.
        db: True when the values are shown in decibels (SAR backscatter).
    """

    bands: tuple[str, str, str]
    ranges: tuple[tuple[float, float], tuple[float, float], tuple[float, float]]
    db: bool = False

    def __iter__(self) -> Iterator[str]:
        return iter(self.bands)


def bit_field(qa: np.ndarray, start: int, width: int = 1) -> np.ndarray:
    """Return the unsigned integer held in bits ``start``…``start+width-1`` of ``qa``.

    Args:
        qa: an integer quality array.
        start: the lowest bit (0 = least significant).
        width: how many bits.
    """
    qa = np.asarray(qa).astype(np.uint32)
    return (qa >> start) & ((1 << width) - 1)


def to_db(linear: np.ndarray) -> np.ndarray:
    """Return ``10·log10(linear)`` as float32 (0 and negatives become NaN)."""
    linear = np.asarray(linear, dtype=np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(linear > 0, 10.0 * np.log10(linear), np.nan).astype(np.float32)


@dataclass(frozen=True)
class Product:
    """The conventions of one collection.

    Attributes:
        id: the STAC collection id (``landsat-c2-l2``).
        title: a human title.
        bands: band key → :class:`Band`; for satellite products the key is the asset key.
        rgb: the quick-look preset, or None.
        quality: the band key of the quality (QA / SCL) band, or None.
        assets: every asset key items of the real collection may carry (data and metadata).
        properties: item properties the real collection always sets (for documentation and
            checks), e.g. ``("eo:cloud_cover", "landsat:wrs_path")``.
    """

    id: str
    title: str
    bands: Mapping[str, Band] = field(default_factory=dict)
    rgb: RGBPreset | None = None
    quality: str | None = None
    assets: tuple[str, ...] = ()
    properties: tuple[str, ...] = ()

    def band(self, key: str) -> Band:
        """Return the band ``key``.

        Raises:
            KeyError: with the known keys when ``key`` is not a band of this product.
        """
        try:
            return self.bands[key]
        except KeyError:
            raise KeyError(f"{self.id} has no band {key!r}; known: {sorted(self.bands)}") from None

    def scale_offset(self, key: str, properties: Mapping[str, Any] | None = None
                     ) -> tuple[float, float]:
        """Return the (scale, offset) turning DNs of band ``key`` into physical values.

        Args:
            key: the band key.
            properties: the item properties (some products depend on them).
        """
        band = self.band(key)
        return band.scale, band.offset

    def to_physical(self, key: str, dn: np.ndarray,
                    properties: Mapping[str, Any] | None = None) -> np.ndarray:
        """Return band ``key`` in physical units as float32, NaN where the DN is nodata.

        Args:
            key: the band key.
            dn: the stored values.
            properties: the item properties (e.g. ``s2:processing_baseline``).
        """
        band = self.band(key)
        scale, offset = self.scale_offset(key, properties)
        values = np.asarray(dn)
        out = values.astype(np.float32) * np.float32(scale) + np.float32(offset)
        if band.nodata is not None and not np.isnan(band.nodata):
            out[values == band.nodata] = np.nan
        return out

    def decode_quality(self, qa: np.ndarray) -> dict[str, np.ndarray]:
        """Return the named boolean flags held in the quality band.

        Raises:
            NotImplementedError: for products without a quality band.
        """
        raise NotImplementedError(f"{self.id} has no quality band to decode")

    def cloud_mask(self, qa: np.ndarray) -> np.ndarray:
        """Return True where the quality band flags cloud (thick, thin or dilated)."""
        flags = self.decode_quality(qa)
        return flags["cloud"] | flags.get("cirrus", False) | flags.get("dilated_cloud", False)

    def shadow_mask(self, qa: np.ndarray) -> np.ndarray:
        """Return True where the quality band flags cloud shadow."""
        return self.decode_quality(qa)["cloud_shadow"]

    def water_mask(self, qa: np.ndarray) -> np.ndarray:
        """Return True where the quality band flags water."""
        return self.decode_quality(qa)["water"]
