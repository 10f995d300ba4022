"""My data: list, filter, rename, delete and download a user's items (PRODUCT.md §2).

A user's data is their uploads, the results of their tool runs (``kind="result"``) and
their favourites from the catalog (``kind="favourite"``, kept by
:mod:`terralab.catalog.favourites`). Deleting an upload or a result removes its files, its
catalog entry and its ledger row, so its bytes are free at once. Downloads go through the
catalog's metered download, so they count in the user's download record.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from terralab.home import terralab_home, user_dir
from terralab.mydata import store
from terralab.mydata.errors import MyDataError
from terralab.mydata.items import COLLECTION

__all__ = ["KINDS", "STEM_MAX_BYTES", "delete_item", "download_item", "download_stem",
           "get_item", "list_items", "rename_item"]

KINDS = ("upload", "result", "favourite")
_TITLE_MAX = 200
STEM_MAX_BYTES = 200
"""The longest download file name stem, in bytes of UTF-8 (names are at most 255 bytes)."""


def list_items(owner: str, *, kind: str | None = None, data_type: str | None = None,
               text: str | None = None, home: Path | None = None) -> list[store.MyDataRecord]:
    """Return ``owner``'s items, newest first.

    Args:
        owner: the user.
        kind: ``"upload"``, ``"result"`` or ``"favourite"``; None for uploads and results
            (favourites are catalog items, listed only when asked for).
        data_type: ``"raster"`` or ``"vector"``.
        text: only items whose title or file name contains this text.
        home: the terralab data folder.

    Raises:
        MyDataError: for an unknown kind or data type.
    """
    if kind is not None and kind not in KINDS:
        raise MyDataError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    if data_type is not None and data_type not in ("raster", "vector", "media"):
        raise MyDataError(f"unknown data type {data_type!r}; choose raster, vector or media")
    if kind == "favourite":
        return _favourites(owner, text, home)
    return store.list_records(owner, kind=kind, data_type=data_type, text=text, home=home)


def _favourites(owner: str, text: str | None, home: Path | None) -> list[store.MyDataRecord]:
    from terralab.catalog.favourites import list_favourites

    records = []
    for item in list_favourites(owner, home=home):
        props = item.get("properties") or {}
        title = str(props.get("title") or item["id"])
        if text and text.lower() not in title.lower() and text.lower() not in item["id"].lower():
            continue
        records.append(store.MyDataRecord(
            id=item["id"], owner=owner, kind="favourite", data_type="raster", title=title,
            source_name=str(item.get("collection") or ""), folder="", bytes=0,
            created=str(props.get("datetime") or ""), item=item))
    return records


def get_item(owner: str, item_id: str, *, home: Path | None = None) -> store.MyDataRecord:
    """Return ``owner``'s upload or result ``item_id``.

    Raises:
        MyDataError: if the user has no such item (another user's item is not found
            either).
    """
    record = store.get_record(owner, item_id, home=home)
    if record is None:
        raise MyDataError(f"you have no item {item_id!r} in your data")
    return record


def rename_item(owner: str, item_id: str, title: str, *,
                home: Path | None = None) -> store.MyDataRecord:
    """Give an item a new title (files and id stay; the catalog shows the new title).

    Raises:
        MyDataError: for an unknown item or an empty / too long title.
    """
    from terralab.catalog.index import CatalogIndex, default_index_path

    title = " ".join(str(title).split())
    if not title or len(title) > _TITLE_MAX or "\x00" in title:
        raise MyDataError(f"a title must be 1…{_TITLE_MAX} characters")
    record = get_item(owner, item_id, home=home)
    item = dict(record.item)
    item["properties"] = {**item.get("properties", {}), "title": title}
    if "data" in item.get("assets", {}):
        item["assets"] = {**item["assets"], "data": {**item["assets"]["data"], "title": title}}
    if item.get("geometry") is not None:
        with CatalogIndex(default_index_path(home or terralab_home())) as index:
            index.add_items([item], owner=owner)
    store.update_record(owner, item_id, title=title, item=item, home=home)
    return get_item(owner, item_id, home=home)


def delete_item(owner: str, item_id: str, *, home: Path | None = None) -> int:
    """Delete an upload or result: its files, its catalog entry and its quota charge.

    Returns:
        The bytes freed.

    Raises:
        MyDataError: for an unknown item.
    """
    from terralab.catalog.index import CatalogIndex, default_index_path

    home = home or terralab_home()
    record = get_item(owner, item_id, home=home)
    root = user_dir(owner, home=home)
    folder = (root / record.folder).resolve()
    if not folder.is_relative_to(root) or folder == root:
        raise MyDataError(f"item {item_id!r} has a folder outside your data")
    with CatalogIndex(default_index_path(home)) as index:
        index.remove(item_id, collection=COLLECTION, owner=owner)
    shutil.rmtree(folder, ignore_errors=True)
    return store.delete_record(owner, item_id, home=home)


def _cut_to_bytes(text: str, limit: int) -> str:
    """``text`` cut at a character boundary to at most ``limit`` bytes of UTF-8."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def download_stem(title: str, item_id: str) -> str:
    """A file name (without suffix) for an item's download: its title, made safe.

    File systems limit a name to 255 **bytes** (a Chinese character takes 3), so the stem
    is cut to :data:`STEM_MAX_BYTES`, leaving room for the suffixes an export adds
    (``.geojson.part``); the title itself stays whole for display.
    """
    stem = "".join(c if c.isprintable() and c not in '/\\:*?"<>|' else "_" for c in title)
    stem = Path(stem.strip(". ") or item_id).stem
    return _cut_to_bytes(stem, STEM_MAX_BYTES).rstrip(". ") or item_id


def download_item(owner: str, item_id: str, dest: str | Path = ".", *,
                  format: str | None = None, home: Path | None = None,
                  charge: bool = True) -> list[Path]:
    """Copy an item's data file into ``dest``; the bytes count in the download record.

    Args:
        owner: the user.
        item_id: the item.
        dest: the folder to write into.
        format: rasters ``cog`` / ``geotiff``; vectors ``gpkg``, ``geojson`` or
            ``shapefile`` (zipped); None = the stored file (COG or GeoPackage).
        home: the terralab data folder.
        charge: record an export's bytes in the download record here; False when the
            caller streams the file on and charges the bytes it really sends (the hub
            service, so a download the client abandons costs what was sent).

    Raises:
        MyDataError: for an unknown item or format.
    """
    from terralab.quotas.checks import check_download
    from terralab.quotas.downloads import download, record_download

    record = get_item(owner, item_id, home=home)
    if format is not None:
        from terralab.catalog.assets import local_asset_path
        from terralab.mydata.export import export_file

        check_download(owner, home=home)  # refused before any work when used up
        data = local_asset_path(record.item, "data", owner=owner, home=home or terralab_home())
        assert data is not None
        target = export_file(data, record.data_type, format, Path(dest),
                             download_stem(record.title, item_id))
        if charge:
            record_download(owner, record.item, "data", target.stat().st_size, home=home)
        return [target]
    item: dict[str, Any] = record.item
    written = download(item, dest, assets=["data"], user=owner, owner=owner,
                       home=home or terralab_home())  # checked and charged
    named = []
    for path in written:  # "data.tif" → the item's own name, e.g. "Field, June.tif"
        target = path.with_name(download_stem(record.title, item_id) + path.suffix)
        if target != path and not target.exists():
            path.replace(target)
            path = target
        named.append(path)
    return named
