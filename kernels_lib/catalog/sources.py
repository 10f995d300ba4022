"""Catalog sources: the embedded index (default), STAC APIs and pgstac, chosen by configuration.

``get_source(name)`` picks a source by name: the argument, else the settings'
``catalog.source`` (``$TERRALAB_CATALOG_SOURCE``), else ``"embedded"``. Built in:

- ``embedded``: the SQLite index at ``<TERRALAB_HOME>/catalog/index.sqlite``; works offline.
- ``earth-search``: Element 84's Earth Search v1 (``https://earth-search.aws.element84.com/v1``).
- ``planetary-computer``: Microsoft's Planetary Computer, asset hrefs signed with SAS tokens.

More entries come from ``<TERRALAB_HOME>/catalog/sources.json``::

    {"mystac": {"type": "stac-api", "url": "https://…", "signing": null,
                "headers": {"x-api-key": "…"}, "collection_ids": {"sentinel-1-grd": "s1"}},
     "pg": {"type": "pgstac", "dsn": "postgresql://user@host/db"}}

Collection ids: terralab names its collections ``landsat-c2-l2``, ``sentinel-2-l2a`` and
``sentinel-1-grd``. Both Earth Search v1 and the Planetary Computer use these ids too
(``COLLECTION_IDS`` keeps the per-source table so that a source that differs only needs a row).
Asset keys do differ: the Planetary Computer keeps the product's own band names (``B04``,
``SCL`` for Sentinel-2; ``red``, ``nir08``, ``qa_pixel`` for Landsat), Earth Search renames the
Sentinel-2 bands (``red``, ``nir``, ``scl``…). ``ASSET_KEYS`` maps Earth Search's Sentinel-2
keys back to the product's names, so items from every source carry the same asset keys;
Landsat and Sentinel-1 keys are the same on both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from terralab.catalog.index import CatalogIndex, default_index_path
from terralab.catalog.query import SearchQuery
from terralab.catalog.stac_api import StacApiSource
from terralab.home import terralab_home
from terralab.settings import settings

__all__ = [
    "ASSET_KEYS",
    "BUILTIN_SOURCES",
    "COLLECTION_IDS",
    "CatalogSource",
    "EmbeddedSource",
    "get_source",
    "source_names",
]

ENV_SOURCE = "TERRALAB_CATALOG_SOURCE"

BUILTIN_SOURCES: dict[str, dict[str, Any]] = {
    "embedded": {"type": "embedded"},
    "earth-search": {"type": "stac-api", "url": "https://earth-search.aws.element84.com/v1",
                     "signing": None},
    "planetary-computer": {"type": "stac-api",
                           "url": "https://planetarycomputer.microsoft.com/api/stac/v1",
                           "signing": "planetary-computer"},
}

#: terralab collection id → each source's collection id (identity where a row is missing).
COLLECTION_IDS: dict[str, dict[str, str]] = {
    "earth-search": {"landsat-c2-l2": "landsat-c2-l2", "sentinel-2-l2a": "sentinel-2-l2a",
                     "sentinel-1-grd": "sentinel-1-grd"},
    "planetary-computer": {"landsat-c2-l2": "landsat-c2-l2",
                           "sentinel-2-l2a": "sentinel-2-l2a",
                           "sentinel-1-grd": "sentinel-1-grd"},
}

#: source → its collection id → {its asset key → terralab's (the product's) asset key}.
ASSET_KEYS: dict[str, dict[str, dict[str, str]]] = {
    "earth-search": {"sentinel-2-l2a": {
        "coastal": "B01", "blue": "B02", "green": "B03", "red": "B04", "rededge1": "B05",
        "rededge2": "B06", "rededge3": "B07", "nir": "B08", "nir08": "B8A", "nir09": "B09",
        "swir16": "B11", "swir22": "B12", "scl": "SCL", "aot": "AOT", "wvp": "WVP"}},
}


@runtime_checkable
class CatalogSource(Protocol):
    """What every catalog source answers."""

    name: str

    def search(self, query: SearchQuery) -> list[dict[str, Any]]:
        """Return one page of matching STAC item dicts, newest first."""
        ...

    def collections(self) -> list[dict[str, Any]]:
        """Return the source's collections as dicts with at least an ``id``."""
        ...

    def get_item(self, item_id: str, collection: str | None = None) -> dict[str, Any] | None:
        """Return one item by id, or None."""
        ...


class EmbeddedSource:
    """The embedded SQLite index as a catalog source.

    Args:
        index: an open index, or None to open the one under ``home``.
        home: the terralab data folder; ``terralab_home()`` when omitted.
        owner: whose own items ``get_item`` and ``collections`` may return (searches use
            ``query.owner``).
    """

    name = "embedded"

    def __init__(self, index: CatalogIndex | None = None, *, home: Path | None = None,
                 owner: str | None = None) -> None:
        self.index = index if index is not None else CatalogIndex(default_index_path(home))
        self.owner = owner

    def search(self, query: SearchQuery) -> list[dict[str, Any]]:
        """Return one page of matching items (public ones and ``query.owner``'s own)."""
        return self.index.search(query)

    def collections(self) -> list[dict[str, Any]]:
        """Return the indexed collections with their item counts and extents."""
        return self.index.collections(owner=self.owner)

    def get_item(self, item_id: str, collection: str | None = None) -> dict[str, Any] | None:
        """Return one item by id, or None."""
        return self.index.get(item_id, collection=collection, owner=self.owner)


def _config(home: Path) -> dict[str, dict[str, Any]]:
    """Return the built-in entries updated with ``<home>/catalog/sources.json``."""
    entries = {name: dict(entry) for name, entry in BUILTIN_SOURCES.items()}
    path = home / "catalog" / "sources.json"
    if path.is_file():
        try:
            extra = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not valid JSON: {error}") from None
        if not isinstance(extra, dict) or not all(isinstance(v, dict) for v in extra.values()):
            raise ValueError(f"{path} must map source names to objects with a 'type'")
        entries.update(extra)
    return entries


def source_names(*, home: Path | None = None) -> list[str]:
    """Return the names of the configured sources (built-in and from ``sources.json``)."""
    return sorted(_config(home or terralab_home()))


def get_source(name: str | None = None, *, home: Path | None = None) -> CatalogSource:
    """Return the catalog source called ``name``.

    Args:
        name: the source name; else the settings' ``catalog.source``
            (``$TERRALAB_CATALOG_SOURCE``); else ``"embedded"``.
        home: the terralab data folder; ``terralab_home()`` when omitted.

    Returns:
        The source, ready to search.

    Raises:
        ValueError: for an unknown name (the message lists the known ones) or a bad entry.
    """
    home = home or terralab_home()
    name = name or settings().catalog.source or "embedded"
    entries = _config(home)
    if name not in entries:
        raise ValueError(f"unknown catalog source {name!r}; known sources: "
                         f"{', '.join(sorted(entries))}")
    entry = entries[name]
    kind = entry.get("type")
    if kind == "embedded":
        path = entry.get("path")
        return EmbeddedSource(CatalogIndex(Path(path) if path else default_index_path(home),
                                           home=home))
    if kind == "stac-api":
        if not entry.get("url"):
            raise ValueError(f"catalog source {name!r} (stac-api) needs a 'url'")
        return StacApiSource(
            entry["url"], name=name, signing=entry.get("signing"),
            headers=entry.get("headers"),
            collection_ids=entry.get("collection_ids", COLLECTION_IDS.get(name)),
            asset_keys=entry.get("asset_keys", ASSET_KEYS.get(name)),
            **({"token_url": entry["token_url"]} if entry.get("token_url") else {}))
    if kind == "pgstac":
        if not entry.get("dsn"):
            raise ValueError(f"catalog source {name!r} (pgstac) needs a 'dsn'")
        from terralab.catalog.pgstac import PgstacSource

        return PgstacSource(entry["dsn"], name=name)
    raise ValueError(f"catalog source {name!r} has an unknown type {kind!r}; "
                     "use 'embedded', 'stac-api' or 'pgstac'")
