"""Which files a tile request reads, and whether the user may read them.

A tile source is either a catalog item the user may see (a public item or the user's own;
another user's item is "not found", exactly like a missing one) or a file inside the user's
own folder, named by its path relative to that folder::

    from terralab.tiles import resolve_tile_source

    source = resolve_tile_source("alice", item="S2A_MSIL2A_…", collection="sentinel-2-l2a")
    source = resolve_tile_source("alice", path="uploads/field/data.tif")

Paths are refused (:class:`TileAccessError`) when they are absolute, contain ``..``, a
backslash or a NUL, look like a URL or a GDAL prefix (``/vsicurl/``, ``WMTS:``,
``GTIFF_RAW:``, anything with ``:`` before the first ``/``), or resolve (through links)
outside the user's folder. Files are checked again when they are opened, on the open
descriptor, and read through the raster allow-list of the workers and the service
(:mod:`terralab.raster_open`: GeoTIFF or Erdas Imagine, nothing that names another file;
:mod:`terralab.tiles._files`).

Bands: a catalog item of a known collection lists the product's bands that it has (asset
keys, scale and offset from :mod:`terralab.products`, the RGB preset's display ranges); any
other item lists the bands of one raster asset (its ``eo:bands`` names and ``raster:bands``
statistics); a path lists the file's bands. Remote (http) assets of public items are not
tiled here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from terralab.catalog.assets import AssetAccessError, AssetMissingError, local_asset_path
from terralab.home import terralab_home, user_dir
from terralab.tiles._files import describe
from terralab.tiles.errors import TileAccessError, TileNotFound
from terralab.tiles.params import BandSpec, TileParameterError

__all__ = [
    "OwnItemFinder",
    "SourceBand",
    "TileAccessError",
    "TileNotFound",
    "TileSource",
    "check_user_path",
    "resolve_tile_source",
]

#: ``find_own(item_id, collection)``: the user's own item as ``(item, owner)``, or None.
OwnItemFinder = Callable[[str, str | None], tuple[dict[str, Any], str] | None]

_RGB = ("red", "green", "blue")
_BAND_NUMBER = re.compile(r"b(\d+)")


@dataclass(frozen=True)
class SourceBand:
    """One band a tile source can show.

    Attributes:
        name: the key a request selects it by (``B04``, ``red``, ``b1``).
        path: the file that holds it.
        index: its 1-based band index in that file.
        label: how messages name its file (``asset 'B04' of 'S2A_…'``, ``'uploads/x.tif'``).
        common_name: the ``eo:bands`` common name, or None.
        scale: physical value = stored value · scale + offset.
        offset: see ``scale``.
        nodata: the stored value that is no data (None: the file's own).
        display: the default display range in physical units, or None (then the 2nd…98th
            percentile of the file, computed once).
        db: shown in decibels (SAR backscatter).
        dtype: the stored sample type, when known.
        asset: the item's asset key that holds it (None for a path).
    """

    name: str
    path: Path
    index: int
    label: str
    common_name: str | None = None
    scale: float = 1.0
    offset: float = 0.0
    nodata: float | None = None
    display: tuple[float, float] | None = None
    db: bool = False
    dtype: str | None = None
    asset: str | None = None


@dataclass(frozen=True)
class TileSource:
    """What one tile layer reads: its bands (with their files) and its default display.

    Attributes:
        name: the item id or the path as the user gave it.
        owner: the user whose data it is, or None for a public catalog item.
        root: the folder every file must really lie in (the owner's folder), or None.
        bands: every band the source can show; ``bands`` numbers in requests are positions
            in this tuple, 1-based (for a single file: its band indexes).
        default: positions (0-based) of the bands shown when a request names none.
        collection: the item's collection, or None for a path.
        unavailable: ``(band name, reason)`` of bands the item has but that cannot be read
            here (remote, missing or refused files).
    """

    name: str
    owner: str | None
    root: Path | None
    bands: tuple[SourceBand, ...]
    default: tuple[int, ...]
    collection: str | None = None
    unavailable: tuple[tuple[str, str], ...] = ()

    def pick(self, spec: Sequence[BandSpec] | None) -> tuple[SourceBand, ...]:
        """Return the bands a request asks for (see :func:`terralab.tiles.params.parse_bands`).

        Raises:
            TileParameterError: for a band the source does not have, or an ambiguous name.
            TileAccessError: for a band whose file may not or cannot be read here.
        """
        if not spec:
            return tuple(self.bands[i] for i in self.default)
        return tuple(self._one(entry) for entry in spec)

    def _one(self, entry: BandSpec) -> SourceBand:
        count = len(self.bands)
        if isinstance(entry, int):
            if not 1 <= entry <= count:
                raise TileParameterError(f"{self.name!r} has bands 1…{count}, not {entry}")
            return self.bands[entry - 1]
        text = entry.strip().lower()
        for band in self.bands:
            if band.name.lower() == text:
                return band
        number = _BAND_NUMBER.fullmatch(text)
        if number and 1 <= int(number.group(1)) <= count:
            return self.bands[int(number.group(1)) - 1]
        matches = [band for band in self.bands if (band.common_name or "").lower() == text]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise TileParameterError(f"{entry!r} is the common name of several bands "
                                     f"({', '.join(b.name for b in matches)}); choose one")
        for name, reason in self.unavailable:
            if name.lower() == text:
                raise TileAccessError(reason)
        raise TileParameterError(f"{self.name!r} has no band {entry!r}; its bands: "
                                 f"{', '.join(b.name for b in self.bands)}")


def check_user_path(path: str) -> PurePosixPath:
    """Return ``path`` as a relative path inside a user's folder, or refuse it.

    Raises:
        TileAccessError: for an empty, absolute or escaping path, a URL, a GDAL prefix or
            virtual file system, a backslash or a NUL character.
    """
    if not path or not path.strip():
        raise TileAccessError("the path is empty; give a file inside your folder")
    if "\x00" in path:
        raise TileAccessError("the path holds a NUL character")
    head = path.split("/", 1)[0]
    if ":" in head or "://" in path:
        raise TileAccessError(f"{path!r} looks like a URL or a GDAL prefix; give the path of "
                              "a file inside your folder (e.g. uploads/x/data.tif)")
    if path.lower().startswith("/vsi"):
        raise TileAccessError(f"{path!r} is a GDAL virtual file system; give the path of a "
                              "file inside your folder")
    if path.startswith(("/", "~")):
        raise TileAccessError(f"{path!r} is absolute; give a path relative to your folder")
    if "\\" in path:
        raise TileAccessError(f"{path!r} holds a backslash; separate folders with /")
    parts = path.split("/")
    if ".." in parts:
        raise TileAccessError(f"{path!r} contains '..'; give a path inside your folder")
    return PurePosixPath(*[part for part in parts if part not in ("", ".")])


def resolve_tile_source(user: str, *, item: str | None = None, collection: str | None = None,
                        asset: str | None = None, path: str | None = None,
                        home: Path | None = None, index: Any = None,
                        find_own: OwnItemFinder | None = None) -> TileSource:
    """Return the tile source of a catalog item or of a file in the user's folder.

    Args:
        user: who asks (a Jupyter server's owner).
        item: a catalog item id (public, or the user's own).
        collection: the item's collection, when the id alone is ambiguous.
        asset: show this asset of the item (default: the collection's RGB preset, else the
            first raster asset).
        path: a file relative to the user's folder (``uploads/abc/data.tif``).
        home: the terralab data folder (``terralab_home()`` when omitted).
        index: an open :class:`~terralab.catalog.index.CatalogIndex` to reuse (a server
            opens one); else the default index of ``home`` is opened for this call.
        find_own: where an item the index does not know is looked up next: the user's own
            item as ``(item, owner)``, or None (a server in a hub asks the hub service, which
            holds the users' items when the platform database is not this server's to read).

    Raises:
        TileParameterError: unless exactly one of ``item`` and ``path`` is given.
        TileNotFound: for an item that does not exist or is not visible to the user, an
            unknown asset, or a missing file.
        TileAccessError: for a refused path, a file outside the owner's folder, a file that
            is not a GeoTIFF, or an item whose assets are all remote.
    """
    if (item is None) == (path is None):
        raise TileParameterError("give exactly one of item or path")
    home = (home or terralab_home()).resolve()
    if path is not None:
        if collection is not None or asset is not None:
            raise TileParameterError("collection and asset go with item, not with path")
        return _path_source(user, path, home)
    return _item_source(user, str(item), collection, asset, home, index, find_own)


def _path_source(user: str, path: str, home: Path) -> TileSource:
    relative = check_user_path(path)
    root = user_dir(user, home=home)
    if not root.is_dir():
        raise TileNotFound(f"no file {path!r} in your folder")
    try:
        real = (root / relative).resolve()
    except (OSError, RuntimeError):  # a link loop
        raise TileAccessError(f"{path!r} cannot be resolved (a loop of links?)") from None
    if not real.is_relative_to(root):
        raise TileAccessError(f"{path!r} leads outside your folder (through a link)")
    if not real.exists():
        raise TileNotFound(f"no file {path!r} in your folder")
    bands = _file_bands(real, root, repr(path), {})
    return TileSource(name=path, owner=user, root=root, bands=bands, default=_default(bands))


def _item_source(user: str, item_id: str, collection: str | None, asset: str | None,
                 home: Path, index: Any, find_own: OwnItemFinder | None) -> TileSource:
    try:
        item, owner = _lookup(user, item_id, collection, home, index)
    except TileNotFound:
        found = find_own(item_id, collection) if find_own is not None else None
        if found is None or found[1] != user:
            raise
        item, owner = found
    root = user_dir(owner, home=home) if owner else None
    assets = item.get("assets") or {}
    if asset is not None and asset not in assets:
        raise TileNotFound(f"item {item_id!r} has no asset {asset!r}; its assets: "
                           f"{', '.join(assets)}")
    from terralab.products import for_item

    product = for_item(item)
    product_assets = {band.asset for band in product.bands.values()}
    unavailable: list[tuple[str, str]] = []
    if product.bands and (asset is None or asset in product_assets):
        bands = _product_bands(product, item, asset, owner, home, unavailable)
        default = _item_default(item, bands) if asset is None else None
    else:
        key = asset or _first_raster_asset(item)
        label = f"asset {key!r} of {item_id!r}"
        file = _asset_file(item, key, owner, home, label)
        bands = _file_bands(file, root, label, assets[key], key)
        default = None
    if not bands:
        reason = unavailable[0][1] if unavailable else f"item {item_id!r} has no raster bands"
        raise TileAccessError(reason)
    return TileSource(name=item_id, owner=owner, root=root, bands=bands,
                      default=default or _default(bands), collection=item.get("collection"),
                      unavailable=tuple(unavailable))


def _lookup(user: str, item_id: str, collection: str | None, home: Path,
            index: Any) -> tuple[dict[str, Any], str | None]:
    """Find the item visible to ``user`` (their own, else a public one)."""
    from terralab.catalog.index import CatalogIndex, default_index_path

    opened = None
    if index is None:
        index_path = default_index_path(home)
        if not index_path.is_file():
            raise TileNotFound(f"no item {item_id!r} in the catalog")
        index = opened = CatalogIndex(index_path)
    try:
        found = index.lookup(item_id, collection=collection, owner=user)
    finally:
        if opened is not None:
            opened.close()
    if found is None:
        raise TileNotFound(f"no item {item_id!r} in the catalog")
    return found


def _asset_file(item: dict[str, Any], key: str, owner: str | None, home: Path,
                label: str) -> Path:
    """Return the local file of asset ``key``; refuse remote and forbidden ones."""
    try:
        file = local_asset_path(item, key, owner=owner, home=home)
    except AssetMissingError:
        raise TileNotFound(f"{label} is missing on disk") from None
    except AssetAccessError as error:
        raise TileAccessError(str(error)) from None
    if file is None:
        raise TileAccessError(f"{label} is a remote file; remote assets are not tiled here")
    return file


def _first_raster_asset(item: dict[str, Any]) -> str:
    from terralab.catalog.thumbnails import ThumbnailError, rgb_plan

    try:
        return rgb_plan(item)[0][0]
    except ThumbnailError as error:
        raise TileNotFound(str(error)) from None


def _product_bands(product: Any, item: dict[str, Any], asset: str | None, owner: str | None,
                   home: Path, unavailable: list[tuple[str, str]]) -> tuple[SourceBand, ...]:
    """The product's bands that the item holds (in ``asset`` only, when given)."""
    assets = item["assets"]
    preset = product.rgb
    ranges = dict(zip(preset.bands, preset.ranges, strict=True)) if preset else {}
    files: dict[str, Path | Exception] = {}
    bands = []
    for key, band in product.bands.items():
        if band.asset not in assets or (asset is not None and band.asset != asset):
            continue
        label = f"asset {band.asset!r} of {item['id']!r}"
        if band.asset not in files:
            try:
                files[band.asset] = _asset_file(item, band.asset, owner, home, label)
            except (TileAccessError, TileNotFound) as error:
                files[band.asset] = error
        file = files[band.asset]
        if isinstance(file, Exception):
            unavailable.append((key, str(file)))
            continue
        scale, offset = product.scale_offset(key, item.get("properties"))
        meta = _band_meta(assets[band.asset], "raster:bands", band.index)
        display = ranges.get(key) or _stats_range(meta, scale, offset)
        bands.append(SourceBand(
            name=key, path=file, index=band.index, label=label, common_name=band.common_name,
            scale=scale, offset=offset, nodata=band.nodata, display=display,
            db=bool(preset and preset.db and band.kind == "backscatter"), dtype=band.dtype,
            asset=band.asset))
    return tuple(bands)


def _file_bands(file: Path, root: Path | None, label: str, asset: dict[str, Any],
                key: str | None = None) -> tuple[SourceBand, ...]:
    """The bands of one GeoTIFF, named from the asset's ``eo:bands`` or the file."""
    info = describe(file, root, label)
    bands, seen = [], set()
    for index in range(1, info.count + 1):
        eo = _band_meta(asset, "eo:bands", index)
        raster = _band_meta(asset, "raster:bands", index)
        interp = info.colorinterp[index - 1] if index <= len(info.colorinterp) else ""
        name = str(eo.get("name") or info.descriptions[index - 1] or f"b{index}")
        if name.lower() in seen:
            name = f"b{index}"
        seen.add(name.lower())
        scale = float(raster.get("scale", info.scales[index - 1]))
        offset = float(raster.get("offset", info.offsets[index - 1]))
        display = _stats_range(raster, scale, offset)
        if display is None and info.dtype == "uint8":
            display = (offset, 255 * scale + offset)
        nodata = raster.get("nodata")
        bands.append(SourceBand(
            name=name, path=file, index=index, label=label,
            common_name=eo.get("common_name") or (interp if interp in (*_RGB, "alpha") else None),
            scale=scale, offset=offset, nodata=None if nodata is None else float(nodata),
            display=display, dtype=info.dtype, asset=key))
    return tuple(bands)


def _band_meta(asset: dict[str, Any], key: str, index: int) -> dict[str, Any]:
    entries = asset.get(key) or []
    entry = entries[index - 1] if 0 < index <= len(entries) else {}
    return entry if isinstance(entry, dict) else {}


def _stats_range(raster: dict[str, Any], scale: float,
                 offset: float) -> tuple[float, float] | None:
    """The display range from ``raster:bands`` statistics: 2nd…98th percentile, else min…max."""
    stats = raster.get("statistics") or {}
    for low, high in (("percentile_2", "percentile_98"), ("minimum", "maximum")):
        if stats.get(low) is not None and stats.get(high) is not None:
            a, b = float(stats[low]) * scale + offset, float(stats[high]) * scale + offset
            if a != b:
                return (min(a, b), max(a, b))
    return None


def _item_default(item: dict[str, Any], bands: tuple[SourceBand, ...]) -> tuple[int, ...] | None:
    """Positions of the thumbnail's RGB bands (the collection preset) in ``bands``."""
    from terralab.catalog.thumbnails import ThumbnailError, rgb_plan

    try:
        plan = rgb_plan(item)
    except ThumbnailError:
        return None
    where = {(b.asset, b.index): i for i, b in enumerate(bands)}
    if not all(pair in where for pair in plan):
        return None
    positions = tuple(where[pair] for pair in plan)
    return positions[:1] if len(set(plan)) == 1 else positions


def _default(bands: tuple[SourceBand, ...]) -> tuple[int, ...]:
    """Red, green and blue by common name; else the first three bands; else the first."""
    by_name = {b.common_name: i for i, b in reversed(list(enumerate(bands))) if b.common_name}
    if all(name in by_name for name in _RGB):
        return tuple(by_name[name] for name in _RGB)
    shown = [i for i, b in enumerate(bands) if b.common_name != "alpha"] or [0]
    return tuple(shown[:3]) if len(shown) >= 3 else (shown[0],)
