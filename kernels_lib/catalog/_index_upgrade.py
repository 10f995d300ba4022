"""Upgrading an embedded catalog index of schema 1 (one JSON body per item) to schema 2.

Schema 1 kept every public item as a row of columns with its bbox and WKB footprint, plus its
JSON text in ``bodies`` and an R*Tree entry (about 1.9 KB per item on disk). Schema 2 keeps
the same items, with the same rowids, as compact rows (:mod:`terralab.catalog._compact_rows`)
and indexes their footprints instead. The upgrade runs in place, in one write transaction,
the first time a process that may write the file opens it; then the file is vacuumed.
"""

from __future__ import annotations

import logging
import sqlite3

from terralab.catalog._compact_rows import CompactRows
from terralab.catalog._index_sql import SCHEMA

__all__ = ["SCHEMA_VERSION", "drop_leftovers", "upgrade"]

log = logging.getLogger(__name__)
SCHEMA_VERSION = 2
_BATCH = 5_000
_SAMPLES = 1_000  # items per collection its dictionary is trained on
_WAIT_MS = 30 * 60 * 1000  # how long to wait for another process's upgrade of the file
_COLUMNS = ("i.collection, i.id, i.owner, i.dt, i.t0, i.t1, i.cloud, i.minx, i.miny, i.maxx, "
            "i.maxy, i.geom, b.body")


def drop_leftovers(conn: sqlite3.Connection) -> None:
    """Drop the tables of schema 1 an upgrade left behind.

    Each goes in a transaction of its own: dropped inside the upgrade's transaction they took
    memory in proportion to their size.
    """
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                 "name IN ('items_v1', 'bodies')").fetchall():
        conn.execute(f"DROP TABLE IF EXISTS {table}")


def upgrade(conn: sqlite3.Connection) -> int:
    """Rewrite a schema-1 index as schema 2 in place.

    Users' rows an earlier release kept in the file must have been handed to the platform
    database first; any still there (a read-only copy) are dropped.

    Returns:
        How many items were rewritten (0 when another process upgraded the file first).
    """
    rows = CompactRows(conn)
    (timeout,) = conn.execute("PRAGMA busy_timeout").fetchone()
    conn.execute(f"PRAGMA busy_timeout = {_WAIT_MS}")  # another process may be upgrading it
    try:
        conn.execute("BEGIN IMMEDIATE")
    finally:
        conn.execute(f"PRAGMA busy_timeout = {timeout}")
    try:
        (version,) = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if version != 1:
            conn.execute("COMMIT")
            return 0
        conn.execute("DROP TABLE items_rtree")
        conn.execute("DELETE FROM collection_stats WHERE owner != ''")
        conn.execute("DROP INDEX IF EXISTS items_by_time")
        conn.execute("ALTER TABLE items RENAME TO items_v1")
        for statement in filter(str.strip, SCHEMA.split(";")):  # executescript would commit
            conn.execute(statement)
        rows.begin_write()
        names = [name for (name,) in conn.execute(
            "SELECT DISTINCT collection FROM collection_stats WHERE owner = ''")]
        for name in names:  # each collection's dictionary from its first items
            sample = conn.execute(
                f"SELECT {_COLUMNS} FROM items_v1 i JOIN bodies b ON b.rowid = i.rowid "
                f"WHERE i.collection = ? AND i.owner = '' LIMIT {_SAMPLES}", (name,)).fetchall()
            rows.encode(sample)
        done = 0
        cursor = conn.execute(f"SELECT i.rowid, {_COLUMNS} FROM items_v1 i JOIN bodies b "
                              "ON b.rowid = i.rowid WHERE i.owner = '' ORDER BY i.rowid")
        while batch := cursor.fetchmany(_BATCH):
            encoded = rows.encode([row[1:] for row in batch])
            conn.executemany("INSERT INTO items VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                             [(row[0], *new) for row, new in zip(batch, encoded, strict=True)])
            done += len(batch)
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (SCHEMA_VERSION,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    drop_leftovers(conn)
    (store,) = conn.execute("PRAGMA temp_store").fetchone()
    conn.execute("PRAGMA temp_store = FILE")  # VACUUM's copy on disk, not in memory
    try:
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.OperationalError as error:  # another process reads it: later
        log.warning("catalog index upgraded to schema %s; not vacuumed (%s)", SCHEMA_VERSION,
                    error)
    finally:
        conn.execute(f"PRAGMA temp_store = {store}")
    log.info("catalog index upgraded to schema %s: %d items", SCHEMA_VERSION, done)
    return done
