"""Opening the files behind tiles: the raster allow-list, checked on the descriptor opened.

Every file is opened by Python first (non-blocking, so a FIFO cannot hang a request), checked
to be a regular file, and — for a user's own data — checked to lie inside that user's folder
by the real path of the open descriptor (``/proc/self/fd/N``). GDAL then opens that
descriptor's path through :mod:`terralab.raster_open`, the one allow-list of the workers and
the service: GeoTIFF or Erdas Imagine only (a VRT, or any other format that can name other
files, is refused even when it is called ``.tif``), sidecar files are never looked for, and a
file that names another one (an external overview or spill file) is refused.
"""

from __future__ import annotations

import os
import stat
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rasterio

from terralab.raster_open import (
    SAFE_GDAL_OPTIONS,
    RasterRefusedError,
    check_dataset,
    open_dataset,
)
from terralab.tiles.errors import TileAccessError, TileNotFound

__all__ = ["FileInfo", "describe", "open_gtiff", "percentile_range"]

# no directory listing (sidecar .ovr/.msk/.aux.xml/world files are never read), no .aux.xml
# written next to anyone's file
GDAL_OPTIONS = SAFE_GDAL_OPTIONS
_CACHE_SIZE = 512


@dataclass(frozen=True)
class FileInfo:
    """What a tile source needs to know about one GeoTIFF.

    Attributes:
        count: the number of bands.
        dtype: the sample type of band 1.
        nodata: the file's nodata value, or None.
        descriptions: each band's description (or None).
        colorinterp: each band's colour interpretation (``red``, ``alpha``, ``gray``…).
        scales: each band's scale (1.0 when the file sets none).
        offsets: each band's offset.
    """

    count: int
    dtype: str
    nodata: float | None
    descriptions: tuple[str | None, ...]
    colorinterp: tuple[str, ...]
    scales: tuple[float, ...]
    offsets: tuple[float, ...]


class _LRU:
    """A small thread-safe least-recently-used cache of computed file facts."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value = make()  # outside the lock: two threads may compute the same value once each
        with self._lock:
            self._data[key] = value
            while len(self._data) > self._size:
                self._data.popitem(last=False)
        return value


_INFO = _LRU(_CACHE_SIZE)
_PERCENTILES = _LRU(_CACHE_SIZE)


@contextmanager
def _checked_fd(path: Path, root: Path | None, label: str) -> Iterator[tuple[str, os.stat_result]]:
    """Open ``path`` and yield a path GDAL can open for the same file, and its ``fstat``.

    Raises:
        TileNotFound: if the file does not exist.
        TileAccessError: if it is not a regular file, cannot be read, or its real path lies
            outside ``root``.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise TileNotFound(f"{label} is missing on disk") from None
    except OSError as error:
        raise TileAccessError(f"{label} cannot be read: {error.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise TileAccessError(f"{label} is not a regular file")
        through = f"/proc/self/fd/{fd}"
        if os.path.exists(through):
            real = Path(os.readlink(through))
        else:  # no /proc (not Linux): the resolved path is the best check there is
            real, through = path.resolve(), str(path)
        if root is not None and not real.is_relative_to(root):
            raise TileAccessError(f"{label} lies outside your folder")
        yield through, info
    finally:
        os.close(fd)


def _open_dataset(through: str, label: str) -> Any:
    """Open ``through`` with the raster allow-list and check it (no VRT, no other file)."""
    try:
        dataset = open_dataset(through, label)
    except RasterRefusedError as error:
        raise TileAccessError(str(error)) from None
    try:
        check_dataset(dataset, label)
    except RasterRefusedError as error:
        dataset.close()
        raise TileAccessError(str(error)) from None
    return dataset


@contextmanager
def open_gtiff(path: Path, root: Path | None, label: str) -> Iterator[Any]:
    """Open ``path`` as a GeoTIFF, checked as described in the module docstring.

    Args:
        path: the file.
        root: the folder the file must really lie in (a user's folder), or None.
        label: how error messages name the file (never another user's path).

    Yields:
        The open rasterio dataset (inside a ``rasterio.Env`` with :data:`GDAL_OPTIONS`).

    Raises:
        TileNotFound: if the file does not exist.
        TileAccessError: for anything that may not or cannot be opened.
    """
    with _checked_fd(path, root, label) as (through, _), rasterio.Env(**GDAL_OPTIONS):
        dataset = _open_dataset(through, label)
        with dataset:
            yield dataset


def _key(info: os.stat_result) -> tuple[int, int, int, int]:
    return info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size


def describe(path: Path, root: Path | None, label: str) -> FileInfo:
    """Return the band facts of a GeoTIFF (cached by inode, size and modification time).

    Raises:
        TileNotFound, TileAccessError: as :func:`open_gtiff`.
    """
    with _checked_fd(path, root, label) as (through, info):

        def make() -> FileInfo:
            with rasterio.Env(**GDAL_OPTIONS), _open_dataset(through, label) as src:
                return FileInfo(
                    count=src.count, dtype=src.dtypes[0], nodata=src.nodata,
                    descriptions=tuple(src.descriptions),
                    colorinterp=tuple(c.name for c in src.colorinterp),
                    scales=tuple(float(s) for s in src.scales),
                    offsets=tuple(float(o) for o in src.offsets))

        return _INFO.get(_key(info), make)


def percentile_range(path: Path, root: Path | None, label: str, index: int,
                     nodata: float | None) -> tuple[float, float] | None:
    """Return the 2nd and 98th percentile of band ``index`` (stored values), or None.

    Read from the file's overviews (at most 512 pixels a side), cached like :func:`describe`.
    """
    with _checked_fd(path, root, label) as (through, info):

        def make() -> tuple[float, float] | None:
            from rio_tiler.io import Reader

            with rasterio.Env(**GDAL_OPTIONS), _open_dataset(through, label) as src, \
                    Reader(None, dataset=src) as reader:
                options = {} if nodata is None else {"nodata": nodata}
                stats = reader.statistics(indexes=index, max_size=512, **options)
            band = next(iter(stats.values()))
            if not band.valid_percent:
                return None
            return float(band.percentile_2), float(band.percentile_98)

        return _PERCENTILES.get((*_key(info), index, repr(nodata)), make)
