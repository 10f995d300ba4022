"""Publishing of an uploaded raster: statistics, a Cloud-Optimized GeoTIFF and a thumbnail.

Every upload is published for viewing at once (PRODUCT.md §2). terralab:

1. checks the file (:func:`~terralab.mydata.raster_checks.inspect_raster`);
2. reads **every** pixel once, window by window (at most 1024×1024 pixels a window, fewer
   rows for strip-organised files, so memory never grows with the raster), computing per band
   the exact minimum, maximum, mean, standard deviation and share of valid pixels, and the
   2nd and 98th percentiles from a histogram (exact for 8- and 16-bit data). A block GDAL
   cannot read means a damaged or truncated upload, refused here rather than shown with holes;
3. writes ``data.tif``, a Cloud-Optimized GeoTIFF with 512-pixel tiles and overviews
   (compressed as :mod:`terralab.raster_codecs` says: DEFLATE with a predictor by default)
   (GDAL's COG driver, average resampling), keeping the CRS, geotransform, nodata, sample
   type; band descriptions are set to the band names and the statistics are stored as GDAL
   ``STATISTICS_*`` metadata, so map tiles can be stretched without another pass;
4. writes ``thumbnail.png``, an RGBA quicklook 256 pixels on its longer side, read from the
   COG's overviews, stretched between the 2nd and 98th percentiles, nodata transparent.

The caller owns the output folder (a staging folder it deletes when this raises).
"""

from __future__ import annotations

import math
import re
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import MaskFlags, Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.io import DatasetReader, MemoryFile
from rasterio.shutil import copy as rio_copy
from rasterio.windows import Window

from terralab.mydata.errors import UploadError
from terralab.mydata.limits import UploadLimits
from terralab.mydata.raster_checks import SAFE_GDAL_OPTIONS, RasterInfo, inspect_raster, open_raster
from terralab.raster_budget import apply_raster_budget
from terralab.raster_codecs import cog_options

__all__ = ["COG_NAME", "THUMBNAIL_NAME", "BandStats", "PublishedRaster", "check_raster",
           "publish_raster", "raster_statistics"]

COG_NAME = "data.tif"
THUMBNAIL_NAME = "thumbnail.png"
THUMBNAIL_SIDE = 256
WINDOW_SIDE = 1024
_STRIP_ROW_BYTES = 64 * 1024**2  # the strips one row of windows may keep in GDAL's cache
_SAMPLE_SIZE = 1_000_000  # values a band keeps for percentiles of non-integer data
_GDAL_TYPES = {"uint8": "Byte", "int8": "Int8", "uint16": "UInt16", "int16": "Int16",
               "uint32": "UInt32", "int32": "Int32", "uint64": "UInt64", "int64": "Int64",
               "float32": "Float32", "float64": "Float64"}
_COLOURS = {"red": "Red", "green": "Green", "blue": "Blue", "alpha": "Alpha"}
_COG_OPTIONS = {"overview_resampling": "average", "blocksize": 512, "BIGTIFF": "IF_SAFER",
                "overviews": "IGNORE_EXISTING"}  # compression: terralab.raster_codecs


@dataclass(frozen=True)
class BandStats:
    """Statistics of one band over its valid pixels.

    Attributes:
        minimum: the smallest valid value.
        maximum: the largest valid value.
        mean: the mean of the valid values.
        stddev: their population standard deviation.
        valid_percent: the share of pixels that are not nodata, 0…100.
        percentile_2: the 2nd percentile (from a histogram).
        percentile_98: the 98th percentile.
    """

    minimum: float
    maximum: float
    mean: float
    stddev: float
    valid_percent: float
    percentile_2: float
    percentile_98: float

    def as_stac(self) -> dict[str, float]:
        """Return the STAC raster extension's ``statistics`` (with rio-tiler's percentiles).

        Values that do not exist (a band without valid pixels) are left out.
        """
        values = {"minimum": self.minimum, "maximum": self.maximum, "mean": self.mean,
                  "stddev": self.stddev, "valid_percent": self.valid_percent,
                  "percentile_2": self.percentile_2, "percentile_98": self.percentile_98}
        return {key: value for key, value in values.items() if math.isfinite(value)}


@dataclass(frozen=True)
class PublishedRaster:
    """An upload, published.

    Attributes:
        cog: the Cloud-Optimized GeoTIFF (``folder/data.tif``).
        thumbnail: the RGBA PNG quicklook (``folder/thumbnail.png``).
        info: what the upload is.
        statistics: one :class:`BandStats` per band.
    """

    cog: Path
    thumbnail: Path
    info: RasterInfo
    statistics: tuple[BandStats, ...]


class _Histogram:
    """Exact statistics of integer data of at most 16 bits, from a bincount."""

    def __init__(self, dtype: np.dtype) -> None:
        self.offset = int(np.iinfo(dtype).min)
        self.counts = np.zeros(int(np.iinfo(dtype).max) - self.offset + 1, dtype=np.int64)

    def add(self, values: np.ndarray) -> None:
        """Count a 1-D array of valid values."""
        if self.offset:
            values = values.astype(np.int32) - self.offset
        self.counts += np.bincount(values, minlength=self.counts.size)

    def result(self, total: int) -> BandStats:
        """Return the statistics, ``total`` being the band's pixel count."""
        valid = int(self.counts.sum())
        if not valid:
            return _empty()
        present = np.flatnonzero(self.counts)
        values = present.astype(np.float64) + self.offset
        weights = self.counts[present].astype(np.float64)
        mean = float(np.dot(values, weights) / valid)
        variance = float(np.dot((values - mean) ** 2, weights) / valid)
        cumulative = np.cumsum(self.counts[present])
        low, high = (values[np.searchsorted(cumulative, q * valid / 100, side="left")]
                     for q in (2, 98))
        return BandStats(float(values[0]), float(values[-1]), mean, math.sqrt(variance),
                         100.0 * valid / total, float(low), float(high))


class _Moments:
    """Statistics of other data: exact moments (merged per window), sampled percentiles."""

    def __init__(self, step: int) -> None:
        self.step = step
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.low, self.high = math.inf, -math.inf
        self.samples: list[np.ndarray] = []

    def add(self, values: np.ndarray) -> None:
        """Merge a 1-D array of valid values (Chan et al.'s pairwise update)."""
        if not values.size:
            return
        values = values.astype(np.float64)
        count, mean = values.size, float(values.mean())
        m2 = float(((values - mean) ** 2).sum())
        delta, total = mean - self.mean, self.count + count
        self.mean += delta * count / total
        self.m2 += m2 + delta**2 * self.count * count / total
        self.count = total
        self.low = min(self.low, float(values.min()))
        self.high = max(self.high, float(values.max()))
        self.samples.append(values[:: self.step].copy())

    def result(self, total: int) -> BandStats:
        """Return the statistics, ``total`` being the band's pixel count."""
        if not self.count:
            return _empty()
        low, high = np.percentile(np.concatenate(self.samples), (2, 98))
        return BandStats(self.low, self.high, self.mean, math.sqrt(self.m2 / self.count),
                         100.0 * self.count / total, float(low), float(high))


def _empty() -> BandStats:
    """Return the statistics of a band without a valid pixel."""
    return BandStats(math.nan, math.nan, math.nan, math.nan, 0.0, math.nan, math.nan)


def _windows(dataset: DatasetReader) -> Iterator[Window]:
    """Yield bounded windows covering the raster, row of windows by row of windows.

    Windows are at most :data:`WINDOW_SIDE` pixels a side. For a strip-organised file (one
    block spans the width) the windows get fewer rows, so that the strips a row of windows
    touches (which GDAL decodes whole and caches) stay under 64 MB whatever the width.
    """
    block_rows, block_cols = dataset.block_shapes[0]
    rows = WINDOW_SIDE
    if block_cols >= dataset.width:
        row_bytes = dataset.width * dataset.count * np.dtype(dataset.dtypes[0]).itemsize
        rows = max(1, min(WINDOW_SIDE, _STRIP_ROW_BYTES // row_bytes))
        if block_rows <= rows:
            rows -= rows % block_rows
    for row in range(0, dataset.height, rows):
        for col in range(0, dataset.width, WINDOW_SIDE):
            yield Window(col, row, min(WINDOW_SIDE, dataset.width - col),
                         min(rows, dataset.height - row))


def _valid(dataset: DatasetReader, data: np.ndarray, window: Window) -> np.ndarray | None:
    """Return where ``data`` is valid (bands, rows, cols), or None when all of it is."""
    nodata = dataset.nodata
    valid: np.ndarray | None = None
    if nodata is not None and not math.isnan(nodata):
        valid = data != float(nodata)
    elif nodata is None and _mask_flags(dataset) & {MaskFlags.per_dataset, MaskFlags.alpha}:
        valid = dataset.read_masks(window=window) != 0
    if data.dtype.kind == "f":
        valid = np.isfinite(data) if valid is None else valid & np.isfinite(data)
    return valid


def _mask_flags(dataset: DatasetReader) -> set[MaskFlags]:
    """Return the mask flags of all bands together."""
    return {flag for band in dataset.mask_flag_enums for flag in band}


def raster_statistics(dataset: DatasetReader, *, label: str = "the raster",
                      progress: Callable[[float], None] | None = None
                      ) -> tuple[BandStats, ...]:
    """Read every pixel of an open raster, window by window, and return each band's statistics.

    Nodata pixels (the nodata value, a mask or alpha band, NaN) are left out.

    Args:
        dataset: the open raster.
        label: how to call it in messages.
        progress: ``progress(fraction_done)`` after each window (it may raise to stop).

    Raises:
        UploadError: ``rule="truncated"`` if a block cannot be read.
    """
    dtype = np.dtype(dataset.dtypes[0])
    total = dataset.width * dataset.height
    exact = dtype.kind in "ui" and dtype.itemsize <= 2
    step = max(1, total // _SAMPLE_SIZE)
    bands = [_Histogram(dtype) if exact else _Moments(step) for _ in range(dataset.count)]
    for window in _windows(dataset):
        if progress is not None:
            progress(min(1.0, (window.row_off * dataset.width + window.col_off
                               + window.width * window.height) / max(1, total)))
        try:
            data = dataset.read(window=window)
            valid = _valid(dataset, data, window)
        except RasterioError:
            raise UploadError(f"{label} is damaged or truncated: the block at row "
                              f"{window.row_off:,}, column {window.col_off:,} cannot be read",
                              rule="truncated") from None
        for index, band in enumerate(bands):
            values = data[index] if valid is None else data[index][valid[index]]
            band.add(values.ravel())
    return tuple(band.result(total) for band in bands)


def _vrt(path: Path, info: RasterInfo, stats: tuple[BandStats, ...], mask: bool) -> bytes:
    """Return a VRT of the upload that names its bands and carries their statistics."""
    root = ET.Element("VRTDataset", rasterXSize=str(info.width), rasterYSize=str(info.height))
    ET.SubElement(root, "SRS").text = info.crs.to_wkt()
    ET.SubElement(root, "GeoTransform").text = ", ".join(repr(v) for v in info.transform.to_gdal())
    gdal_type = _GDAL_TYPES[info.dtype]
    for number, (name, band) in enumerate(zip(info.band_names, stats, strict=True), start=1):
        element = ET.SubElement(root, "VRTRasterBand", dataType=gdal_type, band=str(number))
        ET.SubElement(element, "Description").text = name
        ET.SubElement(element, "ColorInterp").text = _COLOURS.get(name, "Undefined")
        if info.nodata is not None:
            ET.SubElement(element, "NoDataValue").text = repr(float(info.nodata))
        metadata = ET.SubElement(element, "Metadata")
        for key, value in band.as_stac().items():
            key = "VALID_PERCENT" if key == "valid_percent" else key.upper()
            ET.SubElement(metadata, "MDI", key=f"STATISTICS_{key}").text = repr(value)
        source = ET.SubElement(element, "SimpleSource")
        ET.SubElement(source, "SourceFilename", relativeToVRT="0").text = str(path.resolve())
        ET.SubElement(source, "SourceBand").text = str(number)
    if mask:
        band = ET.SubElement(ET.SubElement(root, "MaskBand"), "VRTRasterBand", dataType="Byte")
        source = ET.SubElement(band, "SimpleSource")
        ET.SubElement(source, "SourceFilename", relativeToVRT="0").text = str(path.resolve())
        ET.SubElement(source, "SourceBand").text = "mask,1"
    return ET.tostring(root)


def _thumbnail(cog: Path, info: RasterInfo, stats: tuple[BandStats, ...], target: Path) -> Path:
    """Write the RGBA PNG quicklook of ``cog`` (decimated read: the overviews are used)."""
    names = list(info.band_names)
    if {"red", "green", "blue"} <= set(names):
        indexes = [names.index(colour) + 1 for colour in ("red", "green", "blue")]
    else:
        indexes = [1, 2, 3] if info.count >= 3 else [1, 1, 1]
    scale = THUMBNAIL_SIDE / max(info.width, info.height)
    shape = (max(1, round(info.height * scale)), max(1, round(info.width * scale)))
    with rasterio.Env(**SAFE_GDAL_OPTIONS), rasterio.open(cog) as dataset:
        data = dataset.read(indexes, out_shape=(3, *shape), masked=True,
                            resampling=Resampling.average)
    channels = []
    for channel, index in zip(data, indexes, strict=True):
        band = stats[index - 1]
        low, high = band.percentile_2, band.percentile_98
        if not (math.isfinite(low) and math.isfinite(high)):
            low, high = 0.0, 1.0
        stretched = (channel.filled(low).astype(np.float64) - low) / max(high - low, 1e-9)
        channels.append(np.clip(np.round(stretched * 255), 0, 255).astype(np.uint8))
    alpha = np.where(np.ma.getmaskarray(data).any(axis=0), 0, 255).astype(np.uint8)
    with warnings.catch_warnings(), MemoryFile() as memory:
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # a PNG has no georeference
        with memory.open(driver="PNG", width=shape[1], height=shape[0], count=4,
                         dtype="uint8") as png:
            png.write(np.stack([*channels, alpha]))
        target.write_bytes(memory.read())
    return target


def _checked_names(names: Sequence[str], count: int, label: str) -> tuple[str, ...]:
    """The user's band names, lower case, one per band."""
    cleaned = tuple(str(n).strip().lower() for n in names)
    if len(cleaned) != count or not all(re.fullmatch(r"[a-z][a-z0-9_]{0,31}", n)
                                        for n in cleaned) or len(set(cleaned)) != count:
        raise UploadError(f"{label} has {count} bands: give {count} different band names "
                          f"(letters, digits, _), e.g. red,green,blue,nir — not "
                          f"{','.join(map(str, names))!r}", rule="bands")
    return cleaned


def check_raster(path: str | Path, limits: UploadLimits, *, name: str | None = None,
                 band_names: Sequence[str] | None = None) -> RasterInfo:
    """The quick checks of an uploaded raster: its header and the band names given.

    Reads no pixels, so the hub service runs it at once on a received upload (a refusal is
    answered straight away); :func:`publish_raster` runs it again before the heavy part.

    Raises:
        UploadError: as :func:`~terralab.mydata.raster_checks.inspect_raster`, or
            ``rule="bands"`` for band names that do not fit.
    """
    path = Path(path)
    info = inspect_raster(path, limits, name=name)
    if band_names is not None:
        info = replace(info, band_names=_checked_names(band_names, info.count,
                                                       repr(name or path.name)))
    return info


def publish_raster(path: str | Path, folder: str | Path, limits: UploadLimits, *,
                   name: str | None = None,
                   band_names: Sequence[str] | None = None,
                   progress: Callable[[float, str], None] | None = None) -> PublishedRaster:
    """Check an uploaded raster and publish it as a COG with overviews and a thumbnail.

    Args:
        path: the uploaded file (a staging name is fine when ``name`` is given).
        folder: where to write ``data.tif`` and ``thumbnail.png`` (created if missing);
            the caller deletes it if this raises.
        limits: the upload rules.
        name: the user's file name, for messages.
        band_names: what each band holds (``["red", "green", "blue", "nir"]``), when the
            file does not say it itself; one name per band.
        progress: ``progress(percent, message)`` (a queued publish job's; it may raise to
            stop the work).

    Returns:
        The COG, the thumbnail, the description of the raster and each band's statistics.

    Raises:
        UploadError: for a raster that breaks a rule (see
            :func:`~terralab.mydata.raster_checks.inspect_raster`), one that is damaged or
            truncated (``rule="truncated"``), or one GDAL cannot convert (``rule="publish"``).
    """
    apply_raster_budget()  # GDAL's cache bounded: memory stays flat whatever the size
    path = Path(path)
    info = check_raster(path, limits, name=name, band_names=band_names)
    label = repr(name or path.name)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cog = folder / COG_NAME
    report = progress or (lambda percent, message: None)
    with open_raster(path, info.driver) as dataset:
        statistics = raster_statistics(
            dataset, label=label,
            progress=lambda done: report(10 + 60 * done, "reading every pixel"))
        mask = info.nodata is None and MaskFlags.per_dataset in _mask_flags(dataset)
    report(70, "writing the Cloud-Optimized GeoTIFF")
    try:
        with rasterio.Env(**SAFE_GDAL_OPTIONS), \
                MemoryFile(_vrt(path, info, statistics, mask), ext=".vrt") as memory, \
                memory.open(driver="VRT") as source:
            rio_copy(source, cog, driver="COG", **_COG_OPTIONS, **cog_options(info.dtype))
        report(90, "drawing the thumbnail")
        thumbnail = _thumbnail(cog, info, statistics, folder / THUMBNAIL_NAME)
    except RasterioError as error:
        detail = str(error).replace(str(path.resolve()), label).replace(str(path), label)
        raise UploadError(f"{label} could not be published: {detail}", rule="publish") from None
    return PublishedRaster(cog=cog, thumbnail=thumbnail, info=info, statistics=statistics)
