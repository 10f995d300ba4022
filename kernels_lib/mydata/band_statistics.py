"""Band statistics and histograms of a raster in my data, for the no-code pages' legends.

:func:`item_statistics` answers, for each band asked for, its name, sample type, nodata
value, minimum, maximum, mean, population standard deviation, valid pixel count, 2nd and
98th percentiles (numpy's ``linear`` method) and a histogram of ``bins`` equal bins between
the minimum and the maximum (numpy's :func:`numpy.histogram` of the same pixels).

Memory does not grow with the raster: when the item's COG has an overview at least
:data:`OVERVIEW_MIN_SIDE` pixels on its long side, the coarsest such overview is read
(``approximate: true``, with the ``level`` used); otherwise the full-resolution pixels are
read window by window (``approximate: false``). Integer bands of at most 16 bits are counted
value by value (one pass, exact); other bands take three passes (moments, histograms, then
the values in the bins that hold the percentiles), each window by window.

Pixels that are nodata (the nodata value, an internal mask or alpha band) or not finite are
left out; a band without a valid pixel answers a count of 0, empty bins and nulls.

The file is opened as the map tiles and thumbnails open a user's raster: only inside the
owner's folder, through the open descriptor, and with the raster allow-list
(:func:`terralab.raster_open.open_checked`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.enums import MaskFlags
from rasterio.errors import RasterioError
from rasterio.windows import Window

from terralab.catalog.assets import AssetAccessError, open_local_asset
from terralab.mydata.errors import MyDataError
from terralab.mydata.store import MyDataRecord, get_record
from terralab.raster_open import RasterRefusedError, check_dataset, open_checked

__all__ = ["DEFAULT_BINS", "MAX_BINS", "MIN_BINS", "OVERVIEW_MIN_SIDE", "dataset_statistics",
           "item_statistics", "record_statistics"]

DEFAULT_BINS = 64
MIN_BINS = 2
MAX_BINS = 1024
OVERVIEW_MIN_SIDE = 1024
"""The shortest long side (pixels) of an overview the statistics may be computed from."""
_WINDOW_SIDE = 512
_FINE_BINS = 65_536  # bins locating the percentiles of non-integer data
_GATHER_MAX = 4_000_000  # values kept at most to make those percentiles exact
_PERCENTILES = (2.0, 98.0)


def item_statistics(owner: str, item_id: str, *, bands: Sequence[int] | None = None,
                    bins: int = DEFAULT_BINS, home: Path | None = None) -> dict[str, Any]:
    """Return the band statistics and histograms of ``owner``'s raster ``item_id``.

    Args:
        owner: the user.
        item_id: one of the user's uploads or results (a raster).
        bands: the bands, 1-based (default: all).
        bins: the histogram's number of bins, :data:`MIN_BINS` … :data:`MAX_BINS`.
        home: the terralab data folder.

    Raises:
        MyDataError: if the user has no such item (another user's item is not found
            either), it is no raster, or ``bands`` or ``bins`` do not fit it.
    """
    record = get_record(owner, item_id, home=home)
    if record is None:
        raise MyDataError(f"you have no item {item_id!r} in your data")
    return record_statistics(record, bands=bands, bins=bins, home=home)


def record_statistics(record: MyDataRecord, *, bands: Sequence[int] | None = None,
                      bins: int = DEFAULT_BINS, home: Path | None = None) -> dict[str, Any]:
    """Return the statistics of the raster of an item of my data (see :func:`item_statistics`).

    Raises:
        MyDataError: if the item is no raster, its file cannot be read, or ``bands`` or
            ``bins`` do not fit it.
    """
    if record.data_type != "raster":
        raise MyDataError(f"item {record.id!r} is a {record.data_type} item; statistics are "
                          "computed for rasters only")
    label = f"item {record.id!r}"
    try:
        with open_local_asset(record.item, "data", owner=record.owner, home=home) as (_, fd), \
                open_checked(fd, label) as dataset:
            answer = dataset_statistics(dataset, bands=bands, bins=bins, reopen=fd,
                                        label=label, names=_stac_names(record.item))
    except (AssetAccessError, RasterRefusedError) as error:
        raise MyDataError(f"the raster of {label} cannot be read: {error}") from None
    except RasterioError as error:
        raise MyDataError(f"the raster of {label} is damaged: {error}") from None
    return {"item_id": record.id, **answer}


def _stac_names(item: dict[str, Any]) -> list[str]:
    bands = ((item.get("assets") or {}).get("data") or {}).get("eo:bands") or []
    return [str(band.get("name") or "") for band in bands]


def dataset_statistics(dataset: Any, *, bands: Sequence[int] | None = None,
                       bins: int = DEFAULT_BINS, reopen: str | Path | None = None,
                       label: str = "the raster", names: Sequence[str] = ()
                       ) -> dict[str, Any]:
    """Return the statistics of an open, checked raster.

    Args:
        dataset: the open rasterio dataset (opened with
            :func:`terralab.raster_open.open_checked`).
        bands: the bands, 1-based (default: all).
        bins: the histogram's number of bins.
        reopen: the path that opens the same file again, to read one of its overviews
            (None: always the full resolution).
        label: how messages name the raster.
        names: band names where the file describes none (default ``b1``, ``b2`` …).

    Returns:
        ``{"approximate", "level", "factor", "width", "height", "bins", "bands": […]}``:
        ``level`` is the overview read (0 = the first, None = full resolution) and
        ``factor`` its decimation; ``width`` and ``height`` are the pixels read.

    Raises:
        MyDataError: when ``bands`` or ``bins`` do not fit.
    """
    indexes = _indexes(bands, dataset.count)
    if isinstance(bins, bool) or not isinstance(bins, int) or not MIN_BINS <= bins <= MAX_BINS:
        raise MyDataError(f"bins must be a whole number from {MIN_BINS} to {MAX_BINS}")
    level, factor = _level(dataset) if reopen is not None else (None, 1)
    if level is None:
        return _answer(dataset, dataset, indexes, bins, None, 1, names)
    with rasterio.open(reopen, driver=dataset.driver, overview_level=level,
                       sharing=False) as overview:
        check_dataset(overview, label)
        return _answer(dataset, overview, indexes, bins, level, factor, names)


def _indexes(bands: Sequence[int] | None, count: int) -> list[int]:
    if bands is None:
        return list(range(1, count + 1))
    wrong = [b for b in bands if isinstance(b, bool) or not isinstance(b, int)
             or not 1 <= b <= count]
    if wrong or not bands:
        raise MyDataError(f"bands are numbered 1 to {count} for this raster; "
                          f"not {', '.join(map(str, wrong)) or 'an empty list'}")
    return list(dict.fromkeys(bands))


def _level(dataset: Any) -> tuple[int | None, int]:
    """The coarsest overview with a long side of at least OVERVIEW_MIN_SIDE, and its factor."""
    chosen: tuple[int | None, int] = (None, 1)
    long_side = max(dataset.width, dataset.height)
    for level, factor in enumerate(dataset.overviews(1)):
        if math.ceil(long_side / factor) >= OVERVIEW_MIN_SIDE and factor > chosen[1]:
            chosen = (level, int(factor))
    return chosen


def _answer(full: Any, source: Any, indexes: list[int], bins: int, level: int | None,
            factor: int, names: Sequence[str]) -> dict[str, Any]:
    dtype = np.dtype(source.dtypes[indexes[0] - 1])
    counted = dtype.kind in "ui" and dtype.itemsize <= 2
    stats = _counted(source, indexes) if counted else _passes(source, indexes, bins)
    bands = []
    for index, found in zip(indexes, stats, strict=True):
        nodata = full.nodata
        name = full.descriptions[index - 1] or (
            names[index - 1] if len(names) >= index else "") or f"b{index}"
        bands.append({"band": index, "name": name,
                      "dtype": full.dtypes[index - 1],
                      "nodata": _number(nodata) if nodata is not None else None,
                      **found.result(bins)})
    return {"approximate": level is not None, "level": level, "factor": factor,
            "width": source.width, "height": source.height, "bins": bins, "bands": bands}


def _number(value: float) -> float | str:
    """A JSON number, or ``"nan"``, ``"inf"``, ``"-inf"`` (as STAC writes them)."""
    return float(value) if math.isfinite(value) else str(float(value)).lower()


def _windows(dataset: Any) -> Iterator[Window]:
    """Windows of at most _WINDOW_SIDE pixels a side, in whole blocks where they fit."""
    block_rows, block_cols = dataset.block_shapes[0]
    rows = max(block_rows, _WINDOW_SIDE - _WINDOW_SIDE % block_rows) \
        if block_rows < dataset.height else _WINDOW_SIDE
    cols = max(block_cols, _WINDOW_SIDE - _WINDOW_SIDE % block_cols) \
        if block_cols < dataset.width else _WINDOW_SIDE
    for row in range(0, dataset.height, rows):
        for col in range(0, dataset.width, cols):
            yield Window(col, row, min(cols, dataset.width - col),
                         min(rows, dataset.height - row))


def _valid_values(dataset: Any, indexes: list[int]) -> Iterator[list[np.ndarray]]:
    """For each window, each band's valid values (1-D)."""
    nodata = dataset.nodata
    flags = {flag for band in dataset.mask_flag_enums for flag in band}
    masked = nodata is None and bool(flags & {MaskFlags.per_dataset, MaskFlags.alpha})
    for window in _windows(dataset):
        data = dataset.read(indexes, window=window)
        valid: np.ndarray | None = None
        if nodata is not None and not math.isnan(nodata):
            valid = data != float(nodata)
        elif masked:
            valid = dataset.read_masks(indexes, window=window) != 0
        if data.dtype.kind == "f":
            valid = np.isfinite(data) if valid is None else valid & np.isfinite(data)
        if valid is None:
            yield [band.ravel() for band in data]
        else:
            yield [band[keep] for band, keep in zip(data, valid, strict=True)]


def _empty(bins: int) -> dict[str, Any]:
    return {"count": 0, "min": None, "max": None, "mean": None, "std": None,
            "percentile_2": None, "percentile_98": None,
            "histogram": {"edges": None, "counts": [0] * bins}}


def _linear(rank_value: Any, count: int, q: float) -> float:
    """Percentile ``q`` of ``count`` values, numpy's ``linear`` way; k-th: ``rank_value(k)``."""
    position = (count - 1) * q / 100
    below = math.floor(position)
    low = float(rank_value(below))
    if below + 1 >= count:
        return low
    high = float(rank_value(below + 1))
    fraction = position - below
    return low + (high - low) * fraction if fraction < 0.5 else high - (high - low) * (
        1 - fraction)


class _Counts:
    """Exact statistics of integer values of at most 16 bits, counted value by value."""

    def __init__(self, dtype: np.dtype) -> None:
        info = np.iinfo(dtype)
        self.dtype = dtype
        self.offset = int(info.min)
        self.counts = np.zeros(int(info.max) - self.offset + 1, dtype=np.int64)

    def add(self, values: np.ndarray) -> None:
        shifted = values.astype(np.int64) - self.offset if self.offset else values
        self.counts += np.bincount(shifted, minlength=self.counts.size)

    def result(self, bins: int) -> dict[str, Any]:
        present = np.flatnonzero(self.counts)
        if not present.size:
            return _empty(bins)
        weights = self.counts[present]
        count = int(weights.sum())
        values = (present + self.offset).astype(self.dtype)
        exact = values.astype(np.float64)
        mean = float(np.dot(exact, weights) / count)
        variance = float(np.dot((exact - mean) ** 2, weights) / count)
        cumulative = np.cumsum(weights)

        def rank_value(rank: int) -> float:
            return float(exact[np.searchsorted(cumulative, rank, side="right")])

        low, high = values[0], values[-1]
        counts, edges = np.histogram(values, bins=bins, range=(low, high), weights=weights)
        return {"count": count, "min": float(low), "max": float(high), "mean": mean,
                "std": math.sqrt(variance),
                **{f"percentile_{q:g}": _linear(rank_value, count, q) for q in _PERCENTILES},
                "histogram": {"edges": [float(e) for e in edges],
                              "counts": [round(float(c)) for c in counts]}}


def _counted(dataset: Any, indexes: list[int]) -> list[_Counts]:
    bands = [_Counts(np.dtype(dataset.dtypes[i - 1])) for i in indexes]
    for values in _valid_values(dataset, indexes):
        for band, found in zip(bands, values, strict=True):
            band.add(found)
    return bands


class _Moments:
    """Statistics of other values: moments, then histograms, then the percentiles' bins."""

    def __init__(self) -> None:
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.low: Any = None
        self.high: Any = None
        self.histogram: np.ndarray | None = None
        self.edges: np.ndarray | None = None
        self.fine = np.zeros(_FINE_BINS, dtype=np.int64)
        self.wanted: dict[int, list[np.ndarray]] = {}
        self.percentiles: dict[float, float] = {}

    def add(self, values: np.ndarray) -> None:
        """First pass: count, mean and M2 (Chan et al.'s pairwise update), minimum, maximum."""
        if not values.size:
            return
        exact = values.astype(np.float64)
        count, mean = exact.size, float(exact.mean())
        m2 = float(((exact - mean) ** 2).sum())
        delta, total = mean - self.mean, self.count + count
        self.mean += delta * count / total
        self.m2 += m2 + delta**2 * self.count * count / total
        self.count = total
        low, high = values.min(), values.max()
        self.low = low if self.low is None else min(self.low, low)
        self.high = high if self.high is None else max(self.high, high)

    def fine_bin(self, values: np.ndarray) -> np.ndarray:
        """The fine bin of each value (the same arithmetic in passes two and three)."""
        span = float(self.high) - float(self.low)
        if span <= 0:
            return np.zeros(values.size, dtype=np.int64)
        position = (values.astype(np.float64) - float(self.low)) * (_FINE_BINS / span)
        return np.clip(position.astype(np.int64), 0, _FINE_BINS - 1)

    def bin(self, values: np.ndarray, bins: int) -> None:
        """Second pass: the histogram asked for and the fine one."""
        if not self.count or not values.size:
            return
        counts, edges = np.histogram(values, bins=bins, range=(self.low, self.high))
        self.histogram = counts if self.histogram is None else self.histogram + counts
        self.edges = edges
        self.fine += np.bincount(self.fine_bin(values), minlength=_FINE_BINS)

    def targets(self) -> set[int]:
        """The fine bins that hold the values the percentiles interpolate between."""
        if not self.count:
            return set()
        cumulative = np.cumsum(self.fine)
        ranks = set()
        for q in _PERCENTILES:
            below = math.floor((self.count - 1) * q / 100)
            ranks.update({below, min(below + 1, self.count - 1)})
        return {int(np.searchsorted(cumulative, rank, side="right")) for rank in ranks}

    def gather(self, values: np.ndarray, targets: set[int]) -> None:
        """Third pass: keep the values of the target bins."""
        if not targets or not values.size:
            return
        found = self.fine_bin(values)
        for target in targets:
            kept = values[found == target]
            if kept.size:
                self.wanted.setdefault(target, []).append(kept)

    def result(self, bins: int) -> dict[str, Any]:
        if not self.count:
            return _empty(bins)
        cumulative = np.cumsum(self.fine)
        sorted_bins = {target: np.sort(np.concatenate(parts))
                       for target, parts in self.wanted.items()}

        def rank_value(rank: int) -> float:
            target = int(np.searchsorted(cumulative, rank, side="right"))
            before = int(cumulative[target - 1]) if target else 0
            values = sorted_bins.get(target)
            if values is not None and rank - before < values.size:
                return float(values[rank - before])
            width = (float(self.high) - float(self.low)) / _FINE_BINS  # too many to keep
            inside = (rank - before + 0.5) / max(1, int(self.fine[target]))
            return float(self.low) + (target + inside) * width

        assert self.histogram is not None and self.edges is not None
        return {"count": self.count, "min": float(self.low), "max": float(self.high),
                "mean": self.mean, "std": math.sqrt(self.m2 / self.count),
                **{f"percentile_{q:g}": _linear(rank_value, self.count, q)
                   for q in _PERCENTILES},
                "histogram": {"edges": [float(e) for e in self.edges],
                              "counts": [int(c) for c in self.histogram]}}


def _passes(dataset: Any, indexes: list[int], bins: int) -> list[_Moments]:
    bands = [_Moments() for _ in indexes]
    for values in _valid_values(dataset, indexes):
        for band, found in zip(bands, values, strict=True):
            band.add(found)
    for values in _valid_values(dataset, indexes):
        for band, found in zip(bands, values, strict=True):
            band.bin(found, bins)
    targets = [band.targets() for band in bands]
    kept = [sum(int(band.fine[t]) for t in wanted) for band, wanted in zip(bands, targets,
                                                                          strict=True)]
    targets = [wanted if size <= _GATHER_MAX else set()
               for wanted, size in zip(targets, kept, strict=True)]
    if any(targets):
        for values in _valid_values(dataset, indexes):
            for band, found, wanted in zip(bands, values, targets, strict=True):
                band.gather(found, wanted)
    return bands
