"""Product conventions: one module per collection, one frozen registry.

Each collection's rules (asset keys, scale and offset, nodata, quality bits, RGB preset)
live in one module, following the official product guides, so real downloads and the demo
files go through the same code::

    import terralab.products as tp

    landsat = tp.get("landsat-c2-l2")
    reflectance = landsat.to_physical("red", dn)           # DN · 2.75e-5 − 0.2, NaN at 0
    clouds = landsat.cloud_mask(qa)                         # QA_PIXEL bits 1, 2, 3
    red = tp.open_band(item, "red")                         # lazy, dask, physical units

Registered: ``landsat-c2-l2`` (:mod:`~terralab.products.landsat_c2l2`), ``sentinel-2-l2a``
(:mod:`~terralab.products.sentinel2_l2a`), ``sentinel-1-grd``
(:mod:`~terralab.products.sentinel1_grd`), ``demo-aerial``; items of other collections
fall back to :data:`~terralab.products.generic.GENERIC`.
"""

from __future__ import annotations

from typing import Any

from terralab.products._base import Band, Product, RGBPreset, bit_field, to_db
from terralab.products._reader import asset_href, open_band
from terralab.products._registry import ProductRegistry
from terralab.products.generic import DEMO_AERIAL, GENERIC
from terralab.products.landsat_c2l2 import LANDSAT_C2L2
from terralab.products.sentinel1_grd import SENTINEL1_GRD
from terralab.products.sentinel2_l2a import SENTINEL2_L2A

__all__ = [
    "Band",
    "Product",
    "ProductRegistry",
    "RGBPreset",
    "asset_href",
    "bit_field",
    "default_registry",
    "for_item",
    "get",
    "list_products",
    "open_band",
    "register",
    "to_db",
]

_registry = ProductRegistry.of((LANDSAT_C2L2, SENTINEL2_L2A, SENTINEL1_GRD, DEMO_AERIAL),
                               fallback=GENERIC)


def default_registry() -> ProductRegistry:
    """Return the current default registry (immutable)."""
    return _registry


def get(collection_id: str) -> Product:
    """Return the product of ``collection_id``.

    Raises:
        KeyError: with the known ids when the collection is not registered.
    """
    return _registry.get(collection_id)


def list_products() -> list[str]:
    """Return the registered collection ids, sorted."""
    return _registry.list()


def for_item(item: Any) -> Product:
    """Return the product of a STAC item (pystac.Item or dict); GENERIC for unknown ones."""
    return _registry.for_item(item)


def register(product: Product, *, overwrite: bool = False) -> None:
    """Add ``product`` to the default registry.

    Raises:
        ValueError: when its id is registered and ``overwrite`` is False.
    """
    global _registry
    _registry = _registry.register(product, overwrite=overwrite)
