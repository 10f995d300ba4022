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
    rowid INTEGER PRIMARY KEY, collection TEXT NOT NULL, id TEXT NOT NULL,
    owner TEXT NOT NULL DEFAULT '', dt INTEGER NOT NULL, t0 INTEGER NOT NULL,
    t1 INTEGER NOT NULL, cloud REAL, minx REAL, miny REAL, maxx REAL, maxy REAL,
    geom BLOB NOT NULL, UNIQUE (collection, id, owner));
CREATE INDEX IF NOT EXISTS items_by_time ON items (dt DESC, id);
CREATE TABLE IF NOT EXISTS bodies (rowid INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS items_rtree USING rtree(
    rid, minx, maxx, miny, maxy, mint, maxt, minc, maxc);
CREATE TABLE IF NOT EXISTS collection_stats (
    collection TEXT NOT NULL, owner TEXT NOT NULL, count INTEGER NOT NULL,
    minx REAL, miny REAL, maxx REAL, maxy REAL, mint INTEGER, maxt INTEGER,
    PRIMARY KEY (collection, owner));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value);
"""

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


def existing(conn: sqlite3.Connection, collection: str, name: str, owner: str) -> int | None:
    row = conn.execute("SELECT rowid FROM items WHERE collection = ? AND id = ? AND owner = ?",
                       (collection, name, owner)).fetchone()
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


def recount(conn: sqlite3.Connection, collection: str, owner: str) -> None:
    """Recompute one collection's count and extent after a removal."""
    conn.execute("DELETE FROM collection_stats WHERE collection = ? AND owner = ?",
                 (collection, owner))
    conn.execute("INSERT INTO collection_stats SELECT collection, owner, count(*), min(minx), "
                 "min(miny), max(maxx), max(maxy), min(t0), max(t1) FROM items "
                 "WHERE collection = ? AND owner = ? GROUP BY collection, owner",
                 (collection, owner))


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
