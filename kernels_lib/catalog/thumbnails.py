"""Thumbnails of catalog items: PNG quicklooks from the COG overviews of local items.

A local item's quicklook is read through GDAL's decimated reads, which take the COG's
overviews, so a thumbnail of a 10,000-pixel scene reads a few hundred kilobytes. The bands
are the collection's RGB preset (:mod:`terralab.products`) in physical units, stretched over
the preset's display ranges (other items: the first three bands between their 2nd and 98th
percentile); nodata is transparent. Remote items (from a STAC API) use their own
preview asset instead (:func:`preview_href`).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile

from terralab.catalog.assets import asset_href, local_asset_path, open_local_asset
from terralab.home import terralab_home
from terralab.products import to_db
from terralab.raster_open import RasterRefusedError, open_checked

__all__ = ["ThumbnailError", "preview_href", "rgb_plan", "thumbnail"]

_PREVIEW_KEYS = ("thumbnail", "rendered_preview", "preview", "visual")


class ThumbnailError(ValueError):
    """No quicklook can be made for this item."""


def preview_href(item: dict[str, Any], *, home: Path | None = None) -> str | None:
    """Return the href of a remote item's own preview image, if it has one.

    Only a URL on the allowed catalog hosts (:mod:`terralab.catalog.asset_policy`) is
    returned, so the thumbnail route never redirects a user to an address an item made up.
    """
    from terralab.catalog.asset_policy import HrefRefusedError
    from terralab.catalog.assets import asset_policy

    assets = item.get("assets") or {}
    policy = asset_policy(home)
    for key in _PREVIEW_KEYS:
        href = str((assets.get(key) or {}).get("href", ""))
        if href.startswith(("http://", "https://")):
            try:
                policy.check_url(href, f"the preview of {item.get('id')!r}")
            except HrefRefusedError:
                continue
            return href
    return None


def _preset(item: dict[str, Any]) -> Any:
    """Return the collection's product and RGB preset when the item has its assets."""
    try:
        from terralab.products import get as get_product

        product = get_product(item.get("collection") or "")
    except (ImportError, KeyError):
        return None, None
    preset = product.rgb
    assets = item.get("assets") or {}
    if preset is None or not all(product.band(k).asset in assets for k in preset.bands):
        return None, None
    return product, preset


def rgb_plan(item: dict[str, Any]) -> list[tuple[str, int]]:
    """Return the (asset key, band index) pairs shown as red, green and blue.

    The collection's RGB preset when terralab knows the collection and the item has those
    assets; else the first data asset's first three bands (or its single band as grey).

    Raises:
        ThumbnailError: if the item has no raster asset to show.
    """
    product, preset = _preset(item)
    if preset is not None:
        return [(product.band(k).asset, product.band(k).index) for k in preset.bands]
    assets = item.get("assets") or {}
    for key, asset in assets.items():
        media = str(asset.get("type") or "")
        roles = asset.get("roles") or []
        if ("tiff" in media or str(asset.get("href", "")).lower().endswith((".tif", ".tiff"))) \
                and ("data" in roles or not roles):
            bands = asset.get("eo:bands") or asset.get("raster:bands") or []
            return [(key, 1), (key, 2), (key, 3)] if len(bands) >= 3 else [(key, 1)] * 3
    raise ThumbnailError(f"item {item.get('id')!r} has no raster asset for a quicklook")


def _stretch(band: np.ma.MaskedArray, limits: tuple[float, float] | None = None) -> np.ndarray:
    """Return ``band`` stretched to 1…255 between ``limits`` (default: 2nd…98th percentile)."""
    valid = band.compressed()
    valid = valid[np.isfinite(valid)]
    if valid.size == 0:
        return np.zeros(band.shape, dtype=np.uint8)
    low, high = limits if limits is not None else np.percentile(valid, (2, 98))
    scaled = (np.ma.filled(band.astype("float32"), low) - low) / max(high - low, 1e-9)
    return np.clip(scaled * 254 + 1, 1, 255).astype(np.uint8)


@contextmanager
def _checked(path: str, label: str) -> Iterator[Any]:
    """Open a file through the raster allow-list (:mod:`terralab.raster_open`)."""
    try:
        with open_checked(path, label) as dataset:
            yield dataset
    except RasterRefusedError as error:
        raise ThumbnailError(str(error)) from None


def _render(item: dict[str, Any], size: int, owner: str | None, home: Path) -> bytes:
    """Read the RGB preset at thumbnail size and encode it as a PNG."""
    plan = rgb_plan(item)
    product, preset = _preset(item)
    shape: tuple[int, int] | None = None
    bands, alpha = [], None
    for channel, (key, index) in enumerate(plan):
        if local_asset_path(item, key, owner=owner, home=home) is None:
            raise ThumbnailError(f"asset {key!r} of {item.get('id')!r} is not local")
        with open_local_asset(item, key, owner=owner, home=home) as (_, through_fd), \
                _checked(through_fd, f"asset {key!r} of {item.get('id')!r}") as src:
            if shape is None:
                scale = size / max(src.width, src.height)
                shape = (max(1, round(src.height * scale)), max(1, round(src.width * scale)))
            band = src.read(min(index, src.count), out_shape=shape, masked=True,
                            resampling=Resampling.nearest if preset else Resampling.average)
        limits = None
        if preset is not None:
            band_key = preset.bands[channel]
            values = product.to_physical(band_key, band.data, item.get("properties"))
            values = to_db(values) if preset.db else values
            band = np.ma.masked_array(values, np.ma.getmaskarray(band))
            limits = preset.ranges[channel]
        band = np.ma.masked_invalid(band)
        mask = np.ma.getmaskarray(band)
        alpha = mask if alpha is None else alpha | mask
        bands.append(_stretch(band, limits))
    assert shape is not None and alpha is not None
    rgba = np.stack([*bands, np.where(alpha, 0, 255).astype(np.uint8)])
    with warnings.catch_warnings(), MemoryFile() as memory:
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # a PNG has no georeference
        with memory.open(driver="PNG", width=shape[1], height=shape[0], count=4,
                         dtype="uint8") as png:
            png.write(rgba)
        return memory.read()


def thumbnail(item: dict[str, Any], *, size: int = 256, owner: str | None = None,
              home: Path | None = None) -> bytes:
    """Return a PNG quicklook of a local ``item``, cached under ``catalog/thumbnails``.

    Args:
        item: the STAC item dict (local asset hrefs).
        size: the longer side in pixels (16…1024).
        owner: the owner of a user's own item; None for a public item.
        home: the terralab data folder.

    Raises:
        ThumbnailError: for a remote item (use :func:`preview_href`) or one without rasters.
        AssetAccessError: if a file is missing or may not be read by the caller.
    """
    if not 16 <= size <= 1024:
        raise ThumbnailError(f"thumbnail size must be 16…1024 pixels, not {size}")
    home = home or terralab_home()
    # named by a digest of whose item it is and what it shows: nothing an item says (its id,
    # its collection) ever becomes part of a path
    plan = rgb_plan(item)
    key = json.dumps([owner, item.get("collection"), item["id"],
                      [asset_href(item, k) for k, _ in plan]])
    digest = hashlib.sha256(key.encode()).hexdigest()
    cache = home / "catalog" / "thumbnails" / digest[:2] / f"{digest}-{size}.png"
    try:
        newest = max(p.stat().st_mtime for k, _ in plan
                     if (p := local_asset_path(item, k, owner=owner, home=home)))
    except (ValueError, TypeError):
        newest = None
    if newest is not None and cache.is_file() and cache.stat().st_mtime >= newest:
        return cache.read_bytes()
    data = _render(item, size, owner, home)
    cache.parent.mkdir(parents=True, exist_ok=True)
    temp = cache.with_suffix(".tmp")
    temp.write_bytes(data)
    temp.replace(cache)
    return data
