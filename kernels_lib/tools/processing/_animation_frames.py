"""Frames of the animation tool: inputs read onto one grid, one colour scale, date labels.

Private helper of :mod:`terralab.tools.processing.animation` (its name starts with ``_``, so
the registry does not look for a tool here).

- :class:`Grid` is where every frame is drawn: the first input's CRS and extent, decimated so
  that its longer side is at most ``max_size`` pixels.
- :class:`FrameSource` is one input. A file (or an item's file) is read with GDAL straight onto
  the grid: a decimated read (overviews are used) when it shares the first input's CRS and
  extent, else through a ``WarpedVRT`` (any CRS). A DataArray is first thinned by striding so
  that at most about twice the grid's size is ever loaded, then warped onto the grid.
- :func:`percentile_scale`, :func:`colourise` and :func:`draw_label` turn values into RGB.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePath
from typing import Any

import numpy as np
from affine import Affine
from rasterio.enums import ColorInterp, Resampling
from rasterio.vrt import WarpedVRT
from rasterio.warp import reproject

from terralab.mydata.items import COLLECTION
from terralab.raster_open import open_checked
from terralab.tools.grid import Grid
from terralab.tools.inputs import InputError, RasterSource

__all__ = ["FrameSource", "Grid", "band_samples", "colour_table", "colourise", "date_in_name",
           "draw_label", "percentile_scale"]

_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})"
                   r"(?:[-_.]?(0[1-9]|1[0-2])(?:[-_.]?(0[1-9]|[12]\d|3[01]))?)?(?!\d)")
_SAMPLES_PER_BAND = 16384  # values a frame keeps per band for the percentiles


def date_in_name(name: str) -> str | None:
    """A date found in a file name: ``2009``, ``2014-07`` or ``2014-07-20`` (from 20140720)."""
    match = _DATE.search(PurePath(name).name)
    if match is None:
        return None
    return "-".join(part for part in match.groups() if part)


@dataclass
class FrameSource:
    """One input of the animation, resolved.

    Attributes:
        label: the default label (a date when one is known, else the input's name).
        grid: the input's own grid.
        count: its number of bands.
        band_names: its band names, lower case, when known.
        path: the file to read (None for a DataArray).
        data: the DataArray given directly.
        nodata: the nodata value.
    """

    label: str
    grid: Grid
    count: int
    band_names: tuple[str, ...]
    path: Path | None = None
    data: Any = None
    nodata: float | None = None

    @classmethod
    def of(cls, source: RasterSource, ref: Any) -> FrameSource:
        """Describe a resolved input (see :func:`terralab.tools.inputs.resolve_raster`)."""
        names = tuple(str(n).lower() for n in source.band_names)
        label = _default_label(source, ref)
        if source.data is not None:
            data = source.data if "band" in source.data.dims else source.data.expand_dims(
                band=[1])
            data = data.transpose("band", "y", "x")
            grid = Grid(data.rio.crs, data.rio.transform(), data.sizes["x"], data.sizes["y"])
            return cls(label, grid, data.sizes["band"], names, data=data, nodata=data.rio.nodata)
        if source.path is None:
            raise InputError(f"{source.label} has several image assets; choose one with "
                             '{"item": id, "asset": key}')
        with open_checked(source.path, source.label) as dataset:
            if dataset.crs is None:
                raise InputError(f"{source.label} is not georeferenced")
            grid = Grid(dataset.crs, dataset.transform, dataset.width, dataset.height)
            if not any(names):
                names = tuple((d or "").lower() for d in dataset.descriptions)
            if not any(names):
                colours = {ColorInterp.red: "red", ColorInterp.green: "green",
                           ColorInterp.blue: "blue"}
                names = tuple(colours.get(c, "") for c in dataset.colorinterp)
            return cls(label, grid, dataset.count, names, path=source.path,
                       nodata=dataset.nodata)

    def default_bands(self) -> list[int]:
        """Red, green, blue when the bands are named so, else the first three, else band 1."""
        if {"red", "green", "blue"} <= set(self.band_names):
            return [self.band_names.index(c) + 1 for c in ("red", "green", "blue")]
        return [1, 2, 3] if self.count >= 3 else [1]

    def read(self, bands: list[int], grid: Grid) -> np.ma.MaskedArray:
        """Read ``bands`` onto ``grid`` as float32, nodata masked: ``(bands, height, width)``."""
        if self.data is not None:
            return self._read_array(bands, grid)
        shape = (len(bands), grid.height, grid.width)
        with open_checked(self.path, self.label) as dataset:
            if self.grid.same_extent(grid):
                values = dataset.read(bands, out_shape=shape, masked=True,
                                      resampling=Resampling.average)
            else:
                with WarpedVRT(dataset, crs=grid.crs, transform=grid.transform,
                               width=grid.width, height=grid.height,
                               resampling=Resampling.bilinear,
                               add_alpha=dataset.nodata is None
                               and ColorInterp.alpha not in dataset.colorinterp) as vrt:
                    values = vrt.read(bands, masked=True)
        return _finite(values.astype("float32"))

    def _read_array(self, bands: list[int], grid: Grid) -> np.ma.MaskedArray:
        step = max(1, math.floor(max(self.grid.width, self.grid.height)
                                 / (2 * max(grid.width, grid.height))))
        thin = self.data.isel(band=[b - 1 for b in bands], x=slice(None, None, step),
                              y=slice(None, None, step))
        values = np.asarray(thin.values, dtype="float32")
        if self.nodata is not None and not math.isnan(self.nodata):
            values[values == np.float32(self.nodata)] = np.nan
        target = np.full((len(bands), grid.height, grid.width), np.nan, dtype="float32")
        reproject(values, target, src_transform=self.grid.transform @ Affine.scale(step),
                  src_crs=self.grid.crs, src_nodata=np.nan, dst_transform=grid.transform,
                  dst_crs=grid.crs, dst_nodata=np.nan, resampling=Resampling.bilinear)
        return _finite(np.ma.MaskedArray(target))


def _finite(values: np.ma.MaskedArray) -> np.ma.MaskedArray:
    return np.ma.masked_where(np.ma.getmaskarray(values) | ~np.isfinite(values.data), values)


def _default_label(source: RasterSource, ref: Any) -> str:
    """The input's date, else its name.

    A catalog item gives its acquisition date (``properties.datetime``). An item of my data
    is dated by the date in its file name or title (``2009.tif``), else its ``datetime``
    (when it was added); a file or a DataArray read from a file by a date in the file name.
    """
    item = source.item or {}
    props = item.get("properties") or {}
    when = str(props.get("datetime") or props.get("start_datetime") or "")[:10]
    if when and item.get("collection") != COLLECTION:
        return when
    names = [str(props.get(key) or "") for key in ("terralab:source_name", "title")]
    names += [str(source.path or ""), str(item.get("id") or "")]
    if isinstance(ref, str | Path):
        names.append(str(ref))
    if source.data is not None:
        names.append(str(source.data.encoding.get("source") or ""))
    for name in names:
        found = date_in_name(name) if name else None
        if found:
            return found
    if when:
        return when
    if props.get("title"):
        return str(props["title"])
    if source.path is not None and not item:
        return source.path.stem
    return source.label.strip("'")


def percentile_scale(samples: list[np.ndarray]) -> tuple[float, float]:
    """The 2nd and 98th percentiles of the valid values of all frames (one band)."""
    values = np.concatenate(samples) if samples else np.empty(0, "float32")
    if not values.size:
        return 0.0, 1.0
    low, high = (float(v) for v in np.percentile(values, (2, 98)))
    return (low, high) if high > low else (low, low + 1.0)


def band_samples(frame: np.ma.MaskedArray) -> list[np.ndarray]:
    """At most 16,384 valid values of each band of a (decimated) frame."""
    out = []
    for band in frame:
        values = band.compressed()
        out.append(values[:: max(1, values.size // _SAMPLES_PER_BAND)])
    return out


@lru_cache(maxsize=16)
def colour_table(name: str | None) -> np.ndarray:
    """A 256×3 uint8 colour table: rio-tiler's colormap ``name``, or grey for None."""
    if name is None:
        return np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    from rio_tiler.colormap import cmap

    table = cmap.get(name)
    return np.array([table[i][:3] for i in range(256)], dtype=np.uint8)


def colourise(frame: np.ma.MaskedArray, scale: list[tuple[float, float]],
              colormap: str | None) -> np.ndarray:
    """Stretch a frame with the fixed ``scale`` (one pair per band) into RGB ``(h, w, 3)``.

    One band goes through the colour table; nodata is black.
    """
    channels = []
    for band, (low, high) in zip(frame, scale, strict=True):
        stretched = (band.filled(low) - low) / (high - low)
        channels.append(np.clip(np.round(stretched * 255), 0, 255).astype(np.uint8))
    single = len(channels) == 1
    rgb = colour_table(colormap)[channels[0]] if single else np.stack(channels, axis=-1)
    rgb[np.ma.getmaskarray(frame).any(axis=0)] = 0
    return rgb


def draw_label(rgb: np.ndarray, text: str, corner: str) -> np.ndarray:
    """Draw ``text`` in a black box at ``corner`` of an RGB frame (white text, readable)."""
    if not text:
        return rgb
    from PIL import Image, ImageDraw, ImageFont

    height, width = rgb.shape[:2]
    size = int(np.clip(round(min(height, 2 * width) / 16), 10, 64))
    font = ImageFont.load_default(size=size)
    image = Image.fromarray(rgb)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    pad = max(2, size // 4)
    box_w, box_h = right - left + 2 * pad, bottom - top + 2 * pad
    x = pad if corner.endswith("left") else max(0, width - box_w - pad)
    y = pad if corner.startswith("top") else max(0, height - box_h - pad)
    draw.rectangle((x, y, x + box_w - 1, y + box_h - 1), fill=(0, 0, 0))
    draw.text((x + pad - left, y + pad - top), text, font=font, fill=(255, 255, 255))
    return np.asarray(image)
