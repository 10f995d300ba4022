"""Opening the SAR input of :mod:`terralab.ai.tools.sar_water`, and refusing what is not SAR.

A reference may be a Sentinel-1 GRD item of the catalog (its ``vv`` / ``vh`` assets, linear
σ⁰ by the product conventions), or a GeoTIFF / DataArray holding VV and/or VH (HH / HV for
GF-3 or other HH-polarised data) σ⁰ in linear power or dB. Bands are found by explicit
number, else by band name (``VV``, ``sigma0_VH`` …), else band 1 = VV, band 2 = VH for a
one- or two-band file. Optical data — an optical catalog product, an 8-bit image, bands named
like optical bands, or more than two unnamed bands — is refused with a clear message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from terralab.raster_open import open_checked
from terralab.tools.inputs import InputError, resolve_raster

__all__ = ["SarInput", "detect_units", "open_sar"]

_COPOL = re.compile(r"(^|[^a-z])(vv|hh)([^a-z]|$)")
_CROSSPOL = re.compile(r"(^|[^a-z])(vh|hv)([^a-z]|$)")
_OPTICAL = re.compile(r"^(b\d{1,2}a?|red|green|blue|nir\d*|swir\d*|coastal|rededge\d*|pan)$")
_KEYS = {"vv": ("vv", "hh"), "vh": ("vh", "hv")}


@dataclass(frozen=True)
class SarInput:
    """A SAR input, opened.

    Attributes:
        data: ``(band, y, x)`` float32, NaN = nodata, the bands in the order asked for.
        units: ``"db"`` or ``"linear"``.
        label: how to name the input in messages.
        polarisations: the bands' polarisations (``("vv", "vh")``, ``("vv",)`` …; ``vv``
            stands for the co-polarised band, HH included).
    """

    data: xr.DataArray
    units: str
    label: str
    polarisations: tuple[str, ...]


def _optical(label: str, reason: str) -> InputError:
    return InputError(f"sar_water needs SAR backscatter (VV/VH σ⁰); {label} looks like an "
                      f"optical image ({reason}). Use a Sentinel-1 GRD or GF-3 SAR image.")


def _sample(array: da.Array | np.ndarray, blocks: int = 4, limit: int = 1_000_000
            ) -> np.ndarray:
    """Finite values from at most ``blocks``² chunks spread over the image (not the whole)."""
    if isinstance(array, da.Array):
        ny, nx = array.numblocks[-2:]
        rows = np.unique(np.linspace(0, ny - 1, min(ny, blocks)).round().astype(int))
        cols = np.unique(np.linspace(0, nx - 1, min(nx, blocks)).round().astype(int))
        per_block = int(np.prod(array.chunksize))  # values in one (full) chunk
        step = max(1, int(np.ceil(np.sqrt(len(rows) * len(cols) * per_block / limit))))
        picked = da.compute(*[array.blocks[..., r, c][..., ::step, ::step]
                              for r in rows for c in cols])
        values = np.concatenate([np.ravel(p) for p in picked])
    else:
        values = np.ravel(np.asarray(array))
    values = values[np.isfinite(values)]
    return values[:: max(1, values.size // limit)]


def detect_units(array: da.Array | np.ndarray, label: str) -> str:
    """``"db"`` when most values are negative, ``"linear"`` when most lie in 0…1.

    Raises:
        InputError: for values that are neither (digital numbers, amplitude, reflectance
            in integers …) or no valid value.
    """
    values = _sample(array)
    if values.size == 0:
        raise InputError(f"{label} holds no valid value in the parts sampled")
    if np.mean(values < 0) > 0.5:
        return "db"
    median = float(np.median(values))
    if np.all(values >= 0) and median < 1.0:
        return "linear"
    raise InputError(
        f"{label} does not look like calibrated σ⁰: values are mostly positive with a median "
        f"of {median:.4g} (linear σ⁰ is mostly below 1, dB mostly negative). Calibrate it "
        "to σ⁰ first (digital numbers or amplitude), or say units=\"linear\" or \"db\".")


def _resolve(available: dict[str, Any], polarisation: str, label: str) -> tuple[str, ...]:
    """The polarisations to read for ``polarisation`` (``auto``: both when both exist)."""
    if polarisation == "auto":
        both = tuple(n for n in ("vv", "vh") if available.get(n) is not None)
        if not both:
            raise InputError(f"{label} has neither a VV/HH nor a VH/HV band")
        return both
    wanted = ("vv", "vh") if polarisation == "vv+vh" else (polarisation,)
    for name in wanted:
        if available.get(name) is None:
            pols = "/".join(_KEYS[name]).upper()
            raise InputError(f"{label} has no {pols} band; give its band number "
                             f"({name}_band) or choose another polarisation")
    return wanted


def _from_item(ref: Any, source: Any, context: Any, polarisation: str,
               chunk: int) -> tuple[xr.DataArray, tuple[str, ...]] | None:
    from terralab.products import for_item

    product = for_item(source.item)
    if not product.bands:
        return None  # a generic item (an upload, a result): read its file
    backscatter = [k for k, b in product.bands.items() if b.kind == "backscatter"]
    if not backscatter:
        raise _optical(source.label, f"{product.id} is an optical product")
    assets = source.item.get("assets") or {}
    available = {name: next((k for k in _KEYS[name] if k in backscatter and k in assets), None)
                 for name in _KEYS}
    wanted = _resolve(available, polarisation, source.label)
    keys = [available[name] for name in wanted]
    bands = context.open_bands(ref, keys, chunks=chunk)
    layers = [bands[k].drop_vars("band", errors="ignore") for k in keys]
    data = xr.concat(layers, dim="band").assign_coords(band=list(range(1, len(keys) + 1)))
    crs, transform = layers[0].rio.crs, layers[0].rio.transform()
    return data.rio.write_crs(crs).rio.write_transform(transform), wanted


def _band_names(data: xr.DataArray, source: Any) -> tuple[str, ...]:
    names = tuple(str(n) for n in np.atleast_1d(data.attrs.get("long_name", ())))
    if not names and source.path is not None:

        with open_checked(source.path, source.label) as src:
            names = tuple(d or "" for d in src.descriptions)
    return names if len(names) == data.sizes["band"] else ()


def _pick_bands(data: xr.DataArray, names: tuple[str, ...], label: str, polarisation: str,
                explicit: dict[str, int | None]) -> tuple[list[int], tuple[str, ...]]:
    count = data.sizes["band"]
    lowered = [n.lower() for n in names]
    found = {"vv": next((i + 1 for i, n in enumerate(lowered) if _COPOL.search(n)), None),
             "vh": next((i + 1 for i, n in enumerate(lowered) if _CROSSPOL.search(n)), None)}
    if not any(explicit.values()) and not any(found.values()):
        optical = [n for n in lowered if _OPTICAL.match(n)]
        if optical:
            raise _optical(label, f"its bands are named {', '.join(names)}")
        if count > 2:
            raise _optical(label, f"{count} bands, none named VV or VH; for a SAR file say "
                                  "which band is which with vv_band / vh_band")
        found = {"vv": 1, "vh": 2 if count == 2 else None}
    available = {name: explicit[name] or found[name] for name in _KEYS}
    if any(explicit.values()):  # the user said which bands: no guessing of the others
        available = {name: explicit[name] for name in _KEYS}
    wanted = _resolve(available, polarisation, label)
    picked = []
    for name in wanted:
        index = available[name]
        if not 1 <= index <= count:
            raise InputError(f"{label} has {count} band{'s' if count > 1 else ''}, "
                             f"not band {index}")
        picked.append(index)
    return picked, wanted


def open_sar(ref: Any, context: Any, *, polarisation: str = "auto",
             vv_band: int | None = None, vh_band: int | None = None, units: str = "auto",
             chunk: int = 1024) -> SarInput:
    """Open the bands of a SAR input that ``polarisation`` needs.

    Args:
        ref: the input reference (item id, path, DataArray).
        context: the tool's :class:`~terralab.tools.base.RunContext`.
        polarisation: ``"vv"``, ``"vh"``, ``"vv+vh"``, or ``"auto"`` (VV and VH when both
            exist, else the one there is).
        vv_band: VV's (HH's) band number in a file, or None.
        vh_band: VH's (HV's) band number in a file, or None.
        units: ``"auto"``, ``"db"`` or ``"linear"``.
        chunk: the dask chunk size.

    Raises:
        InputError: optical data, missing bands, values that are not σ⁰.
    """
    source = resolve_raster(ref, user=context.user, home=context.home,
                            restricted=context.restricted)
    found = None
    if source.item is not None:
        found = _from_item(ref, source, context, polarisation, chunk)
        if found is not None:
            data, wanted = found
            units = "linear" if units == "auto" else units  # the product's convention
    if found is None:
        data = context.open_raster(ref, chunks=chunk)
        if np.dtype(data.dtype) == np.uint8:
            raise _optical(source.label, f"8-bit values in {data.sizes['band']} band"
                                         f"{'s' if data.sizes['band'] > 1 else ''}")
        names = _band_names(data, source)
        picked, wanted = _pick_bands(data, names, source.label, polarisation,
                                     {"vv": vv_band, "vh": vh_band})
        nodata = data.rio.nodata
        crs, transform = data.rio.crs, data.rio.transform()
        data = data.isel(band=[i - 1 for i in picked]).astype("float32")
        if nodata is not None and not np.isnan(nodata):
            data = data.where(data != nodata)
        data = data.assign_coords(band=list(range(1, len(picked) + 1)))
        data = data.rio.write_crs(crs).rio.write_transform(transform)
    if units == "auto":
        units = detect_units(data.data, source.label)
    return SarInput(data=data, units=units, label=source.label, polarisations=wanted)
