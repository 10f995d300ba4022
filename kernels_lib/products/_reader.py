"""Lazy reading of one band of a STAC item as a dask-backed ``xarray.DataArray``."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import numpy as np
import pystac
import rioxarray
import xarray as xr

from terralab.products._base import Band, Product

__all__ = ["asset_href", "open_band"]


def asset_href(item: pystac.Item | Mapping[str, Any], key: str) -> str:
    """Return the absolute href of asset ``key`` of a pystac Item or a STAC item dict.

    Relative hrefs of a dict are resolved against its ``self`` link.

    Raises:
        KeyError: with the item's asset keys when it has no asset ``key``.
    """
    assets = item.assets if isinstance(item, pystac.Item) else item.get("assets", {})
    if key not in assets:
        item_id = item.id if isinstance(item, pystac.Item) else item.get("id")
        raise KeyError(f"item {item_id!r} has no asset {key!r}; assets: {sorted(assets)}")
    if isinstance(item, pystac.Item):
        href = item.assets[key].get_absolute_href()
        if href is None:
            raise KeyError(f"asset {key!r} of item {item.id!r} has a relative href and no base")
        return href
    href = assets[key]["href"]
    if urlparse(href).scheme or Path(href).is_absolute():
        return href
    base = next((link["href"] for link in item.get("links", []) if link.get("rel") == "self"),
                None)
    if base is None:
        raise KeyError(f"asset {key!r} has a relative href and the item has no self link")
    if not urlparse(base).scheme:
        return str((Path(base).parent / href).resolve())
    return urljoin(base, href)


def _generic_band(item: pystac.Item | Mapping[str, Any], key: str) -> Band:
    """Describe asset ``key`` of an item of an unregistered collection from its metadata."""
    asset = item.assets[key].to_dict() if isinstance(item, pystac.Item) else item["assets"][key]
    raster = (asset.get("raster:bands") or [{}])[0]
    return Band(asset=key, band_id=key, description=asset.get("title", key), resolution=0.0,
                dtype=raster.get("data_type", ""), scale=raster.get("scale", 1.0),
                offset=raster.get("offset", 0.0), nodata=raster.get("nodata"), index=0,
                kind="image")


def open_band(item: pystac.Item | Mapping[str, Any], key: str, *, product: Product | None = None,
              chunks: int | dict[str, int] | bool | None = 1024, raw: bool = False
              ) -> xr.DataArray:
    """Open band ``key`` of ``item`` lazily, in physical units.

    Scale and offset of the product are applied (Sentinel-2's from the item's processing
    baseline) and nodata becomes NaN (float32). Quality bands and ``raw=True`` give the
    stored integers unchanged. For an unregistered collection, ``key`` is an asset key and
    every band of that asset is returned (a ``band`` dimension).

    Args:
        item: a pystac Item or a STAC item dict whose hrefs can be resolved.
        key: the band key (for satellite products: the STAC asset key).
        product: the product conventions; default: looked up from the item's collection.
        chunks: dask chunks (see ``rioxarray.open_rasterio``). Without dask installed the
            file is opened lazily without chunks and read on first computation.
        raw: return the stored values without conversion.

    Returns:
        A 2-D (y, x) DataArray named ``key``; 3-D (band, y, x) for a generic asset.
    """
    if product is None:
        from terralab.products import for_item

        product = for_item(item)
    generic = not product.bands  # the fallback: bands come from the item itself
    band = _generic_band(item, key) if generic else product.band(key)
    properties = item.properties if isinstance(item, pystac.Item) else item.get("properties", {})
    if importlib.util.find_spec("dask") is None:
        chunks = None
    data = rioxarray.open_rasterio(asset_href(item, band.asset), chunks=chunks)
    if not generic:
        data = data.sel(band=band.index, drop=True)
    data.name = key
    if raw or band.kind == "quality":
        return data
    nodata = band.nodata if band.nodata is not None else data.rio.nodata
    scale, offset = (band.scale, band.offset) if generic else product.scale_offset(key, properties)
    out = data.astype(np.float32) * np.float32(scale) + np.float32(offset)
    if nodata is not None and not np.isnan(nodata):
        out = out.where(data != nodata)
    out = out.astype(np.float32)
    out.attrs = {k: v for k, v in data.attrs.items() if k not in ("scale_factor", "add_offset",
                                                                  "_FillValue")}
    out.attrs["units"] = band.unit or ""
    out.name = key
    return out.rio.write_nodata(np.nan, encoded=False)
