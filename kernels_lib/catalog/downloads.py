"""Item downloads: stream chosen assets (or a clipped subset) and count the bytes of each.

A download takes a meter (:class:`DownloadMeter`), asked before each asset whether its bytes
fit (so a download is refused before its first byte) and told what each asset took; the
callers pass the user's download quota (:class:`terralab.quotas.downloads.DownloadQuota`,
PRODUCT.md §6), so every byte handed to a user is charged. A clipped subset is the window of
the raster that covers the area's bounding box, copied block by block into a tiled,
compressed GeoTIFF, so memory stays bounded whatever the raster size; masking pixels outside
a polygon is the job of the clip processing tool, not of a download.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import urlparse

import rasterio
import requests
from rasterio.warp import transform_bounds
from rasterio.windows import Window, from_bounds
from shapely.geometry.base import BaseGeometry

from terralab.catalog.assets import (
    AssetAccessError,
    asset_href,
    local_asset_path,
    open_local_asset,
)
from terralab.raster_open import open_checked

__all__ = [
    "AssetStream",
    "DownloadMeter",
    "chosen_assets",
    "clip_raster",
    "download",
    "open_asset",
    "write_whole",
]

CHUNK = 1 << 20
_BLOCK = 1024


@dataclass
class AssetStream:
    """An asset ready to be sent: its name, type, size when known, and its bytes in chunks.

    Call :meth:`close` when done (a clipped subset lives in a temporary file until then).
    """

    filename: str
    media_type: str
    size: int | None
    chunks: Iterator[bytes]
    _cleanup: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Release the stream's temporary file or connection."""
        while self._cleanup:
            self._cleanup.pop()()


class DownloadMeter(Protocol):
    """What a download asks before each asset and tells after it (a user's quota)."""

    def check(self, nbytes: int) -> None:
        """Raise when ``nbytes`` more may not be downloaded (0: when nothing may)."""

    def charge(self, item: dict[str, Any], asset: str, nbytes: int) -> None:
        """Record that ``asset`` of ``item`` took ``nbytes``."""


def _file_chunks(path: Path) -> Iterator[bytes]:
    """Yield the bytes of ``path`` in chunks."""
    with path.open("rb") as handle:
        yield from _handle_chunks(handle)


def _handle_chunks(handle: BinaryIO) -> Iterator[bytes]:
    """Yield the bytes of an open file in chunks."""
    while chunk := handle.read(CHUNK):
        yield chunk


def clip_raster(source: str | Path, geometry: BaseGeometry, target: Path) -> Path:
    """Copy the window of ``source`` covering ``geometry``'s bounds into a GeoTIFF.

    Args:
        source: a raster path (or a GDAL path such as ``/vsicurl/https://…``).
        geometry: the area in EPSG:4326.
        target: the GeoTIFF to write (tiled, DEFLATE, same CRS, dtype and nodata).

    Returns:
        ``target``.

    Raises:
        ValueError: if the area does not overlap the raster, or the raster allow-list
            refuses it (:class:`terralab.raster_open.RasterRefusedError`).
    """
    with open_checked(source, Path(str(source)).name) as src:  # the raster allow-list
        bounds = transform_bounds("EPSG:4326", src.crs, *geometry.bounds, densify_pts=21)
        full = Window(0, 0, src.width, src.height)
        try:
            exact = from_bounds(*bounds, transform=src.transform)
            col, row = math.floor(exact.col_off), math.floor(exact.row_off)
            window = Window(col, row, math.ceil(exact.col_off + exact.width) - col,
                            math.ceil(exact.row_off + exact.height) - row).intersection(full)
        except rasterio.errors.WindowError:
            window = None
        if window is None or window.width < 1 or window.height < 1:
            raise ValueError(f"the area does not overlap {Path(str(source)).name}")
        profile = src.profile | {
            "driver": "GTiff", "width": int(window.width), "height": int(window.height),
            "transform": src.window_transform(window), "tiled": True, "blockxsize": 256,
            "blockysize": 256, "compress": "deflate", "BIGTIFF": "IF_SAFER",
        }
        with rasterio.open(target, "w", **profile) as dst:
            for row in range(0, int(window.height), _BLOCK):
                for col in range(0, int(window.width), _BLOCK):
                    part = Window(col, row, min(_BLOCK, window.width - col),
                                  min(_BLOCK, window.height - row))
                    read = Window(window.col_off + col, window.row_off + row,
                                  part.width, part.height)
                    dst.write(src.read(window=read), window=part)
            dst.update_tags(**src.tags())
    return target


def open_asset(item: dict[str, Any], key: str, *, owner: str | None = None,
               geometry: BaseGeometry | None = None, home: Path | None = None) -> AssetStream:
    """Open asset ``key`` of ``item`` as a stream of bytes (a clipped subset with ``geometry``).

    Args:
        item: the STAC item dict.
        key: the asset key.
        owner: the owner of a user's own item (its assets must stay in that user's folder).
        geometry: clip rasters to this area (EPSG:4326); None sends the whole file.
        home: the terralab data folder.

    Raises:
        AssetAccessError: for a missing or forbidden asset.
        ValueError: if ``geometry`` does not overlap the raster or the asset is no raster.
    """
    path = local_asset_path(item, key, owner=owner, home=home)
    href = asset_href(item, key)
    name = Path(urlparse(href).path).name or f"{item['id']}_{key}"
    media_type = item["assets"][key].get("type") or "application/octet-stream"
    if geometry is not None:
        return _clipped(item, key, path, href, name, geometry, owner, home)
    if path is not None:
        opened = ExitStack()
        handle, _ = opened.enter_context(open_local_asset(item, key, owner=owner, home=home))
        return AssetStream(name, media_type, os.fstat(handle.fileno()).st_size,
                           _handle_chunks(handle), [opened.close])
    response = _fetch(href, f"asset {key!r} of {item.get('id')!r}", home)
    if response.status_code != 200:
        response.close()
        raise AssetAccessError(f"asset {key!r} answered HTTP {response.status_code}")
    size = response.headers.get("Content-Length")
    if response.headers.get("Content-Encoding"):
        size = None  # the body is decoded on the way: its length differs from the header's
    return AssetStream(name, media_type, int(size) if size else None,
                       response.iter_content(CHUNK), [response.close])


def _clipped(item: dict[str, Any], key: str, path: Path | None, href: str, name: str,
             geometry: BaseGeometry, owner: str | None, home: Path | None) -> AssetStream:
    """Clip asset ``key`` into a temporary GeoTIFF and stream that (removed on close)."""
    handle, temp = tempfile.mkstemp(suffix=".tif", prefix="terralab-clip-")
    os.close(handle)
    target = Path(temp)
    try:
        if path is None:  # GDAL reads the URL the checked redirects lead to
            final = _fetch(href, f"asset {key!r} of {item.get('id')!r}", home)
            final.close()
            clip_raster(f"/vsicurl/{final.url}", geometry, target)
        else:
            with open_local_asset(item, key, owner=owner, home=home) as (_, through_fd):
                clip_raster(through_fd, geometry, target)
    except rasterio.errors.RasterioIOError as error:
        target.unlink(missing_ok=True)
        raise ValueError(f"asset {key!r} is no raster to clip: {error}") from None
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return AssetStream(f"{Path(name).stem}_clip.tif", "image/tiff; application=geotiff",
                       target.stat().st_size, _file_chunks(target),
                       [lambda: target.unlink(missing_ok=True)])


def _fetch(href: str, label: str, home: Path | None) -> requests.Response:
    """GET a public asset's URL, each redirect checked against the allowed hosts."""
    from terralab.catalog.asset_policy import HrefRefusedError
    from terralab.catalog.assets import asset_policy

    try:
        return asset_policy(home).fetch(href, label)
    except HrefRefusedError as error:
        raise AssetAccessError(str(error)) from None


def download(item: dict[str, Any], dest: str | Path, *, assets: list[str] | None = None,
             geometry: BaseGeometry | None = None, owner: str | None = None,
             home: Path | None = None, meter: DownloadMeter | None = None) -> list[Path]:
    """Download assets of ``item`` into the folder ``dest``, each asset checked and counted.

    Each file is written as ``<name>.part`` and renamed when complete, so a failed download
    leaves no half-written file.

    Args:
        item: the STAC item dict.
        dest: the folder to write into (created if missing).
        assets: the asset keys; None = every asset with the role ``data`` (else all assets).
        geometry: clip rasters to this area (EPSG:4326).
        owner: the owner of a user's own item.
        home: the terralab data folder.
        meter: asked before the first asset (``check(0)``) and before each asset of known
            size (``check(size)``), told what each asset took (``charge``), also when it
            was interrupted; None counts nothing (the callers that hand bytes to a user
            pass the user's quota, :class:`terralab.quotas.downloads.DownloadQuota`).

    Returns:
        The files written.

    Raises:
        Whatever the meter's ``check`` raises (a user's quota: before an asset's first byte
        is written, when the quota is used up or the asset would not fit in it).
    """
    dest = Path(dest)
    keys = chosen_assets(item, assets)
    if meter is not None:
        meter.check(0)
    dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for key in keys:
        stream = open_asset(item, key, owner=owner, geometry=geometry, home=home)
        target = dest / stream.filename
        counted, complete = _Counted(stream.chunks), False
        try:
            if stream.size is not None and meter is not None:
                meter.check(stream.size)
            write_whole(target, counted)
            complete = True
        finally:
            stream.close()
            if meter is not None and (counted.bytes or complete):  # an interrupted
                meter.charge(item, key, counted.bytes)  # download costs what it took
        written.append(target)
    return written


class _Counted:
    """An iterator of chunks that counts the bytes passed on (what a download took)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self.bytes = 0

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        chunk = next(self._chunks)
        self.bytes += len(chunk)
        return chunk


def chosen_assets(item: dict[str, Any], assets: list[str] | None) -> list[str]:
    """Return the asset keys to download: ``assets``, else the data assets, else all.

    Raises:
        AssetAccessError: if a requested key is not an asset of the item.
    """
    all_assets = item.get("assets") or {}
    keys = assets or [k for k, a in all_assets.items() if "data" in (a.get("roles") or [])] \
        or list(all_assets)
    missing = [k for k in keys if k not in all_assets]
    if missing:
        raise AssetAccessError(f"item {item.get('id')!r} has no asset(s) {', '.join(missing)}; "
                               f"its assets: {', '.join(all_assets)}")
    return keys


def write_whole(target: Path, chunks: Iterable[bytes]) -> int:
    """Write ``chunks`` to ``target`` through ``<target>.part``, renamed when complete.

    A failure on the way removes the partial file, so no half-written download remains.

    Returns:
        The number of bytes written.
    """
    partial = target.with_name(target.name + ".part")
    size = 0
    try:
        with partial.open("wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                size += len(chunk)
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return size

