"""A pgstac database as a catalog source, and a loader that puts STAC Items into one.

The search goes through ``pgstac.search(jsonb)`` with the STAC API search body: ``intersects``,
``datetime``, ``collections``, ``sortby`` (datetime descending, then id) and a CQL2-JSON
``filter`` for the cloud cover that lets items without ``eo:cloud_cover`` (SAR) pass. pgstac
pages by tokens; an ``offset`` is honoured by asking for ``offset + limit`` items and skipping
the first ``offset``. A pgstac database holds a public catalog only: ``query.owner`` is ignored.
The database needs the pgstac schema (``pypgstac migrate --dsn …``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import psycopg
from shapely.geometry import mapping

from terralab.catalog.index import item_interval
from terralab.catalog.query import SearchQuery

__all__ = ["PgstacSource", "load_items", "search_body"]


def _iso(when: datetime | None) -> str:
    return ".." if when is None else when.isoformat().replace("+00:00", "Z")


def search_body(query: SearchQuery) -> dict[str, Any]:
    """Return the STAC API search body (as ``pgstac.search`` reads it) for ``query``."""
    body: dict[str, Any] = {
        "limit": query.offset + query.limit,
        "sortby": [{"field": "datetime", "direction": "desc"},
                   {"field": "id", "direction": "asc"}],
    }
    if query.geometry is not None:
        body["intersects"] = mapping(query.geometry)
    if query.start or query.end:
        body["datetime"] = f"{_iso(query.start)}/{_iso(query.end)}"
    if query.collections:
        body["collections"] = list(query.collections)
    if query.max_cloud is not None:
        cloud = {"property": "eo:cloud_cover"}
        body["filter-lang"] = "cql2-json"
        body["filter"] = {"op": "or", "args": [
            {"op": "<=", "args": [cloud, query.max_cloud]},
            {"op": "isNull", "args": [cloud]}]}
    return body


class PgstacSource:
    """A catalog source backed by a pgstac database.

    Args:
        dsn: the PostgreSQL connection string, e.g. ``postgresql://user@host:5432/db``.
        name: the source name shown to users.
        connect_timeout: seconds to wait for a connection.
    """

    def __init__(self, dsn: str, *, name: str = "pgstac", connect_timeout: int = 10) -> None:
        self.dsn = dsn
        self.name = name
        self.connect_timeout = connect_timeout

    def __repr__(self) -> str:
        return f"PgstacSource(name={self.name!r})"

    def _connect(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=self.connect_timeout)
        conn.execute("SET search_path TO pgstac, public")
        return conn

    def _search(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        with self._connect() as conn:
            (result,) = conn.execute("SELECT pgstac.search(%s::jsonb)",
                                     (json.dumps(body),)).fetchone()
        return list(result.get("features") or [])

    def search(self, query: SearchQuery) -> list[dict[str, Any]]:
        """Return one page of matching items, newest first (then by id), as STAC dicts."""
        features = self._search(search_body(query))
        features.sort(key=lambda item: item["id"])
        features.sort(key=lambda item: item_interval(item["properties"])[0], reverse=True)
        return features[query.offset:query.offset + query.limit]

    def collections(self) -> list[dict[str, Any]]:
        """Return the database's collections as STAC dicts."""
        with self._connect() as conn:
            rows = conn.execute("SELECT content FROM pgstac.collections ORDER BY id").fetchall()
        return [row[0] for row in rows]

    def get_item(self, item_id: str, collection: str | None = None) -> dict[str, Any] | None:
        """Return one item by id (in ``collection`` when given), or None."""
        body: dict[str, Any] = {"ids": [item_id], "limit": 1}
        if collection:
            body["collections"] = [collection]
        found = self._search(body)
        return found[0] if found else None


def _collection_for(name: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Return a minimal STAC Collection covering ``items``."""
    boxes = [item["bbox"] for item in items if item.get("bbox")]
    times = [t for item in items for t in item_interval(item.get("properties") or {})[1:]]
    spatial = [[min(b[0] for b in boxes), min(b[1] for b in boxes),
                max(b[-2] for b in boxes), max(b[-1] for b in boxes)]] if boxes else [
        [-180, -90, 180, 90]]
    interval = [[_iso(datetime.fromtimestamp(min(times) / 1e6, tz=UTC)),
                 _iso(datetime.fromtimestamp(max(times) / 1e6, tz=UTC))]]
    return {"type": "Collection", "stac_version": "1.0.0", "id": name,
            "description": f"{name} (loaded by terralab)", "license": "proprietary",
            "extent": {"spatial": {"bbox": spatial}, "temporal": {"interval": interval}},
            "links": []}


def load_items(dsn: str, items: Iterable[dict[str, Any]], *,
               collections: Iterable[dict[str, Any]] = ()) -> int:
    """Load STAC Items into a pgstac database (upsert), creating missing collections.

    Args:
        dsn: the PostgreSQL connection string.
        items: STAC Item dicts, each with a ``collection``.
        collections: STAC Collection dicts to upsert first; a collection an item names that
            is neither here nor in the database is created from the items' extent.

    Returns:
        How many items were loaded.

    Raises:
        ValueError: for an item without a collection; nothing is loaded then.
    """
    batch = list(items)
    for item in batch:
        if not item.get("collection"):
            raise ValueError(f"item {item.get('id')!r} has no collection")
    given = {collection["id"]: collection for collection in collections}
    with psycopg.connect(dsn) as conn, conn.transaction():
        conn.execute("SET search_path TO pgstac, public")
        for collection in given.values():
            conn.execute("SELECT pgstac.upsert_collection(%s::jsonb)", (json.dumps(collection),))
        known = {row[0] for row in conn.execute("SELECT id FROM pgstac.collections")}
        for name in sorted({item["collection"] for item in batch} - known):
            members = [item for item in batch if item["collection"] == name]
            conn.execute("SELECT pgstac.create_collection(%s::jsonb)",
                         (json.dumps(_collection_for(name, members)),))
        if batch:
            conn.execute("SELECT pgstac.upsert_items(%s::jsonb)", (json.dumps(batch),))
    return len(batch)
