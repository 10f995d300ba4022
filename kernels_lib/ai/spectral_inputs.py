"""Reflectance bands and a cloud / snow mask for the land-cover baseline, from any image.

- A Landsat C2L2 or Sentinel-2 L2A item: the bands by common name through the product
  conventions (scale and offset applied), the QA_PIXEL / SCL band decoded into a mask
  (cloud, dilated cloud, cirrus, cloud shadow, snow, saturated → "unknown"; fill → no data);
  bands on a coarser grid (Sentinel-2's 20 m SWIR and SCL) are warped lazily onto the 10 m
  grid of the red band (bilinear, nearest for SCL).
- A file or DataArray: bands by name (``band_map``, the file's band names, Sentinel-2
  stacks ``B1…B12``); a file that names no bands is read as R, G, B (3 bands, or 4 with an
  alpha band) or R, G, B, NIR (4 bands), which the notes say. Its values become reflectance
  by ``scale`` and ``offset``; without a scale: 8-bit ÷ 255, other integers ÷ 10000,
  floats as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from terralab.ai.spectral_rules import BANDS, CLOUD_FLAG, FILL_FLAG
from terralab.raster_open import open_checked
from terralab.tools.grid import Grid
from terralab.tools.inputs import InputError, resolve_raster

__all__ = ["SpectralImage", "open_spectral", "quality_mask"]

_REQUIRED = ("blue", "green", "red")
_ALIASES = {"nir": ("nir", "nir08")}


@dataclass
class SpectralImage:
    """What the rules read.

    Attributes:
        bands: common name → ``(y, x)`` float32 reflectance, lazy, all on one grid.
        quality: ``(y, x)`` uint8 mask (0 clear, cloud/snow, fill) or None.
        notes: what was assumed, for the user.
    """

    bands: dict[str, xr.DataArray]
    quality: xr.DataArray | None = None
    notes: dict[str, Any] = field(default_factory=dict)


def quality_mask(product: Any, values: np.ndarray) -> np.ndarray:
    """The uint8 mask of a QA_PIXEL / SCL block: cloud-like → 1, fill → 2, else 0."""
    flags = product.decode_quality(values)
    unknown = np.zeros(values.shape, dtype=bool)
    for name in ("cloud", "cirrus", "dilated_cloud", "cloud_shadow", "snow",
                 "saturated_defective"):
        if name in flags:
            unknown |= np.asarray(flags[name], dtype=bool)
    fill = np.asarray(flags.get("fill", flags.get("no_data", False)), dtype=bool)
    out = np.where(unknown, CLOUD_FLAG, 0).astype("uint8")
    out[np.broadcast_to(fill, out.shape)] = FILL_FLAG
    return out


def _on_grid(band: xr.DataArray, grid: Grid, resampling: str, chunk: int) -> xr.DataArray:
    if not Grid.of(band).differences(grid):
        return band
    from terralab.tools.warp import warp

    return warp(band, grid, resampling=resampling, chunks=chunk).isel(band=0, drop=True)


def _from_item(ref: Any, item: dict[str, Any], context: Any, chunk: int) -> SpectralImage:
    from terralab.products import for_item

    product = for_item(item)
    keys: dict[str, str] = {}
    for name in BANDS:
        for alias in _ALIASES.get(name, (name,)):
            key = alias if alias in product.bands else next(
                (k for k, b in product.bands.items() if b.common_name == alias), None)
            if key is not None:
                keys[name] = key
                break
    missing = [name for name in _REQUIRED if name not in keys]
    if missing:
        raise InputError(f"land_cover needs blue, green and red bands; {ref!r} "
                         f"({product.id}) has no {', '.join(missing)}")
    opened = context.open_bands(ref, list(keys.values()), chunks=chunk)
    grid = Grid.of(opened[keys["red"]])
    bands = {name: _on_grid(opened[key], grid, "bilinear", chunk) for name, key in keys.items()}
    notes: dict[str, Any] = {"product": product.id,
                             "bands": {name: key for name, key in keys.items()}}
    quality = None
    if product.quality:
        raw = context.open_bands(ref, [product.quality], chunks=chunk)[product.quality]
        raw = _on_grid(raw, grid, "nearest", chunk)
        quality = xr.apply_ufunc(lambda v: quality_mask(product, v), raw, dask="parallelized",
                                 output_dtypes=["uint8"])
        notes["quality"] = f"{product.quality}: cloud, cirrus, cloud shadow and snow → unknown"
    return SpectralImage(bands=bands, quality=quality, notes=notes)


def _scale_of(dtype: np.dtype, scale: float | None) -> float:
    if scale is not None:
        return float(scale)
    if dtype == np.uint8:
        return 1.0 / 255.0
    return 1e-4 if np.issubdtype(dtype, np.integer) else 1.0


def _positional(count: int, has_alpha: bool) -> tuple[str, ...]:
    if count == 3 or (count == 4 and has_alpha):
        return ("red", "green", "blue")
    if count == 4:
        return ("red", "green", "blue", "nir")
    raise InputError(f"the image has {count} bands and does not name them; say which is which "
                     'with band_map, e.g. {"blue": 2, "green": 3, "red": 4, "nir": 8, '
                     '"swir16": 11, "swir22": 12}')


def _alpha_index(ref: Any, context: Any) -> int | None:
    source = resolve_raster(ref, user=context.user, home=context.home,
                            restricted=context.restricted)
    if source.path is None:
        return None
    from rasterio.enums import ColorInterp

    with open_checked(source.path, source.label) as src:
        interp = list(src.colorinterp)
    return interp.index(ColorInterp.alpha) if ColorInterp.alpha in interp else None


def _from_file(ref: Any, context: Any, band_map: dict[str, int] | None, scale: float | None,
               offset: float, chunk: int) -> SpectralImage:
    raw = context.open_raster(ref, chunks=chunk)
    factor = _scale_of(np.dtype(raw.dtype), scale)
    notes: dict[str, Any] = {"scale": factor, "offset": offset}
    if scale is None:
        notes["scale_note"] = (f"values of type {raw.dtype} taken as reflectance × "
                               f"{1 / factor:g}; pass scale= if they are not")
    bands: dict[str, xr.DataArray] = {}
    try:
        for name in BANDS:
            try:
                bands[name] = context.open_bands(ref, [name], band_map=band_map,
                                                 chunks=chunk)[name]
            except InputError as error:
                if name in _REQUIRED or "no band named" not in str(error):
                    raise
    except InputError as error:
        if "no band named" not in str(error) or band_map:
            raise
        alpha = _alpha_index(ref, context)
        names = _positional(int(raw.sizes["band"]), alpha is not None)
        notes["band_order"] = (f"the image does not name its bands: read as "
                               f"{', '.join(names)} (override with band_map)")
        positions = {name: i + 1 for i, name in enumerate(names)}
        bands = context.open_bands(ref, list(names), band_map=positions, chunks=chunk)
    bands = {k: (v * np.float32(factor) + np.float32(offset)).astype("float32")
             for k, v in bands.items()}
    notes["bands"] = sorted(bands, key=BANDS.index)
    return SpectralImage(bands=bands, notes=notes)


def open_spectral(ref: Any, context: Any, *, band_map: dict[str, int] | None = None,
                  scale: float | None = None, offset: float = 0.0,
                  chunk: int = 1024) -> SpectralImage:
    """Open the bands and the quality mask the land-cover rules need.

    Args:
        ref: the image (an item id, a file, a DataArray).
        context: the tool's run context.
        band_map: band numbers by common name, for a file.
        scale: reflectance = value × scale + offset, for a file (default: by data type).
        offset: see ``scale``.
        chunk: the chunk size in pixels.

    Raises:
        InputError: when blue, green or red cannot be found.
    """
    source = resolve_raster(ref, user=context.user, home=context.home,
                            restricted=context.restricted)
    if source.item is not None and source.path is None:
        image = _from_item(ref, source.item, context, chunk)
        if scale is not None or offset:
            image.notes["scale_note"] = ("scale and offset are ignored for a catalog item: its "
                                         "product conventions give reflectance")
        return image
    return _from_file(ref, context, band_map, scale, offset, chunk)
