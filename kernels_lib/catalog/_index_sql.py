"""The SQL of the embedded catalog index (:mod:`terralab.catalog.index`): schema, counts."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

__all__ = ["SCHEMA", "STATS_MERGE", "collection_dicts", "existing", "merge_stats",
           "move_users_rows", "recount"]

_US = 1_000_000
SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    rowid INTEGER PRIMARY KEY, key INTEGER NOT NULL, coll INTEGER NOT NULL, dt INTEGER NOT NULL,
    t0 INTEGER, t1 INTEGER, cloud REAL, shape INTEGER NOT NULL, codec INTEGER NOT NULL,
    id TEXT NOT NULL, body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS items_by_key ON items (key);
CREATE INDEX IF NOT EXISTS items_by_time ON items (dt DESC);
CREATE INDEX IF NOT EXISTS items_by_shape ON items (shape, dt);
CREATE TABLE IF NOT EXISTS shapes (
    rowid INTEGER PRIMARY KEY AUTOINCREMENT, key INTEGER NOT NULL, minx REAL NOT NULL,
    miny REAL NOT NULL, maxx REAL NOT NULL, maxy REAL NOT NULL, uses INTEGER NOT NULL,
    wkb BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS shapes_by_key ON shapes (key);
CREATE VIRTUAL TABLE IF NOT EXISTS shapes_rtree USING rtree(
    rid, minx, maxx, miny, maxy, mint, maxt);
CREATE TABLE IF NOT EXISTS collections (
    code INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, dictionary BLOB);
CREATE TABLE IF NOT EXISTS collection_stats (
    collection TEXT NOT NULL, owner TEXT NOT NULL, count INTEGER NOT NULL,
    minx REAL, miny REAL, maxx REAL, maxy REAL, mint INTEGER, maxt INTEGER,
    PRIMARY KEY (collection, owner));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value);
"""
"""Schema 2: compact rows (see :mod:`terralab.catalog._item_codec`). ``t0``/``t1`` are NULL
for an instant (then both are ``dt``); ``coll`` is a code of ``collections``, which also holds
each collection's zstd dictionary; ``shape`` a row of ``shapes`` (each distinct footprint and
bbox once, with how many items were added with it; AUTOINCREMENT: a removed footprint's rowid
is never given to another, so connections may cache footprints by rowid). ``shapes_rtree``
indexes the footprints by bbox and by the time span of their items."""

STATS_MERGE = """
INSERT INTO collection_stats VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (collection, owner) DO UPDATE SET count = count + excluded.count,
    minx = min(minx, excluded.minx), miny = min(miny, excluded.miny),
    maxx = max(maxx, excluded.maxx), maxy = max(maxy, excluded.maxy),
    mint = min(mint, excluded.mint), maxt = max(maxt, excluded.maxt)
"""


_USERS_ROWS = """
SELECT i.collection, i.id, i.owner, i.dt, i.t0, i.t1, i.cloud, i.minx, i.miny, i.maxx, i.maxy,
    i.geom, b.body FROM items i JOIN bodies b ON b.rowid = i.rowid WHERE i.owner != ''
"""
"""The users' rows an index of an earlier release holds, as the platform table wants them."""

_PICKS = ((1, min), (2, min), (3, max), (4, max), (5, min), (6, max))


def _fold(current: list[Any], values: list[Any]) -> None:
    """Add ``values``' count to ``current`` and widen its extent to cover theirs."""
    current[0] += values[0]
    for index, pick in _PICKS:
        current[index] = pick(current[index], values[index])


def existing(conn: sqlite3.Connection, key: int, code: int, name: str) -> int | None:
    """The rowid of the item ``name`` (whose id hashes to ``key``) of collection ``code``."""
    row = conn.execute("SELECT rowid FROM items WHERE key = ? AND coll = ? AND id = ?",
                       (key, code, name)).fetchone()
    return None if row is None else row[0]


def merge_stats(stats: dict[tuple[str, str], list[Any]], row: tuple[Any, ...],
                 new: int) -> None:
    """Fold one item row into the per-(collection, owner) count and extent."""
    key = (row[0], row[2])
    current = stats.get(key)
    values = [new, row[7], row[8], row[9], row[10], row[4], row[5]]
    if current is None:
        stats[key] = values
    else:
        _fold(current, values)


def recount(conn: sqlite3.Connection, collection: str, code: int) -> None:
    """Recompute one public collection's count and extent after a removal."""
    conn.execute("DELETE FROM collection_stats WHERE collection = ? AND owner = ''",
                 (collection,))
    conn.execute("INSERT INTO collection_stats SELECT ?, '', count(*), min(s.minx), "
                 "min(s.miny), max(s.maxx), max(s.maxy), min(coalesce(i.t0, i.dt)), "
                 "max(coalesce(i.t1, i.dt)) FROM items i JOIN shapes s ON s.rowid = i.shape "
                 "WHERE i.coll = ? HAVING count(*) > 0", (collection, code))


def _iso(micros: int | None) -> str | None:
    if micros is None:
        return None
    return datetime.fromtimestamp(micros / _US, tz=UTC).isoformat().replace("+00:00", "Z")


def move_users_rows(conn: sqlite3.Connection,
                    put: Callable[[list[tuple[Any, ...]]], object]) -> int:
    """Hand the users' rows of an index of an earlier release to ``put``, then drop them.

    One write transaction of the index: its rows are read, given to ``put`` (which writes
    them to the platform database, replacing rows of the same key) and deleted with their
    counts, and the meta key ``users_items`` is set, so it happens once per file.

    Returns:
        How many rows were moved.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        rows = [] if conn.execute("SELECT 1 FROM meta WHERE key = 'users_items'").fetchone() \
            else conn.execute(_USERS_ROWS).fetchall()
        put(rows)
        for table, column in (("bodies", "rowid"), ("items_rtree", "rid"), ("items", "rowid")):
            conn.execute(f"DELETE FROM {table} WHERE {column} IN "
                         "(SELECT rowid FROM items WHERE owner != '')")
        conn.execute("DELETE FROM collection_stats WHERE owner != ''")
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('users_items', 'platform')")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return len(rows)


def collection_dicts(*sources: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Merge ``(collection, count, minx, miny, maxx, maxy, mint, maxt)`` rows by collection.

    Returns:
        STAC-Collection-like dicts ``{"id", "count", "extent"}``, sorted by id.
    """
    stats: dict[str, list[Any]] = {}
    for name, *values in (row for rows in sources for row in rows):
        if name in stats:
            _fold(stats[name], values)
        else:
            stats[name] = list(values)
    return [{"id": name, "count": count,
             "extent": {"spatial": {"bbox": [[x0, y0, x1, y1]]},
                        "temporal": {"interval": [[_iso(t0), _iso(t1)]]}}}
            for name, (count, x0, y0, x1, y1, t0, t1) in sorted(stats.items())]
