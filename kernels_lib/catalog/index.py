"""The embedded catalog index: public STAC Items in one SQLite file with a 4-D R*Tree.

The items users own (uploads, results) are platform state: they live in the platform
database (:mod:`terralab.catalog.user_items`; SQLite or PostgreSQL), and a search made for a
user merges that user's matching items into the public ones, in the same order. An index
file of an earlier release that still holds users' rows hands them to the platform database
the first time a process that may write it opens it (meta key ``users_items``).

Schema (one file, WAL journal):

- ``items``: one compact row per item — ``collection``, ``id``, ``owner`` ('' = the public
  catalog; users' rows of earlier releases carried the user's name), ``dt`` (the sort key: the
  item's ``datetime``, else its ``start_datetime``), ``t0``/``t1`` (the acquisition interval;
  all times are integer microseconds since 1970 UTC), ``cloud`` (``eo:cloud_cover`` or NULL),
  the bbox and the footprint as WKB. Indexed on ``(dt DESC, id)`` for searches without an area.
- ``bodies``: the item JSON, by the same rowid (kept apart so scans stay on small rows).
- ``items_rtree``: an R*Tree over (lon, lat, time, cloud cover), with time in 30-day steps
  and cloud cover in 10 % steps (-0.1 when the item has none), so that a county-sized area and
  a year are boxes of similar size (the R*Tree splits by box margins; with time in days a
  search took ~40 times longer). Its 32-bit float bounds are rounded outwards by SQLite, so it
  is a prefilter only. An item whose bbox crosses the antimeridian gets the full lon range.
- ``collection_stats``: item count and extent per (collection, owner), kept up to date on add
  (extents only grow on an upsert) and recomputed on remove.
- ``meta``: the schema version, the longest item interval (``max_span``) and ``users_items``.

A search with an area takes the R*Tree candidates, applies the exact time, cloud, collection
and owner tests to them in SQL, sorts them (datetime descending, then id) and tests each
footprint against the prepared area (shapely) in that order until the page is full. When the
R*Tree yields more than ``_PROBE`` candidates (an area covering much of the index), scanning
the time index in sort order fills the page sooner and is used instead; searches without an
area always scan the time index.
"""

from __future__ import annotations

import heapq
import itertools
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pystac
import shapely

from terralab.catalog import user_items
from terralab.catalog._index_sql import (
    SCHEMA,
    STATS_MERGE,
    collection_dicts,
    existing,
    merge_stats,
    move_users_rows,
    recount,
)
from terralab.catalog._item_rows import (
    absolute_hrefs,
    as_item_dict,
    item_interval,
    item_rows,
    micros,
)
from terralab.catalog.query import SearchQuery
from terralab.home import terralab_home

__all__ = ["CatalogIndex", "absolute_hrefs", "default_index_path", "item_interval"]

_US = 1_000_000
# R*Tree units, chosen so that a county-sized area and a year span comparable ranges (the
# R*Tree splits by box margins, so the scale of each axis shapes the tree): lon/lat in degrees,
# time in 30-day steps, cloud cover in 10 % steps (-0.1 = no cloud cover).
_TIME_UNIT = 30 * 86_400 * _US
_CLOUD_UNIT = 10.0
_SCHEMA_VERSION = 1
_FAR = 2**62
_PROBE = 20_000  # above this many R*Tree candidates, scan the time index instead
_BATCH = 5_000
_CACHE_KIB = 65_536  # page cache of each connection
_WRITE_CACHE_KIB = 1_048_576  # while adding items: random index inserts need a big cache

def default_index_path(home: Path | None = None) -> Path:
    """Return where the embedded index lives: ``<TERRALAB_HOME>/catalog/index.sqlite``."""
    return (home or terralab_home()) / "catalog" / "index.sqlite"


class CatalogIndex:
    """The embedded catalog: add, search, get and remove STAC Items.

    Public items live in one SQLite file: each thread gets its own connection (WAL lets
    readers run beside a writer); writes are serialised by a lock. A user's own items live
    in the platform database of ``home`` and are only ever returned to searches made for
    that user.

    Args:
        path: the SQLite file of the public items (created with its folder when missing).
        home: the terralab data folder whose platform database holds users' items (its
            SQLite default; ``$TERRALAB_PLATFORM_DB_URL`` wins); by default the folder
            above ``catalog/`` for an index there, else the index file's folder.
        platform: the platform database (a SQLAlchemy engine) to use instead of that of
            ``home`` (a migration's target).

    Attributes:
        moved: how many users' items opening the file moved to the platform database (an
            index of an earlier release; 0 afterwards).
    """

    def __init__(self, path: str | Path, *, home: Path | None = None,
                 platform: Any = None) -> None:
        self.path = Path(path)
        if home is None:
            parent = self.path.parent
            home = parent.parent if parent.name == "catalog" else parent
        self.home = Path(home)
        self._users = {"home": self.home, "bind": platform}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._write = threading.Lock()
        row = self._schema_version()
        if row is None:  # a new file: only then take the write lock (an ingest may hold it)
            with self._write:
                self._conn.executescript(SCHEMA)
                self._conn.executemany("INSERT OR IGNORE INTO meta VALUES (?, ?)",
                                       [("schema", _SCHEMA_VERSION),
                                        ("users_items", "platform")])
            row = self._schema_version()
        (version,) = row
        if version != _SCHEMA_VERSION:
            raise ValueError(f"{self.path} has index schema {version}, this terralab reads "
                             f"{_SCHEMA_VERSION}: remove the file and ingest again")
        self.moved = self._move_users_items()

    def _move_users_items(self) -> int:
        """Hand the users' rows of an index of an earlier release to the platform database.

        Runs once per file (then the meta key ``users_items`` says so). A process that may
        not write the file (a read-only copy) leaves it as it is and sees public items only.
        """
        if self._conn.execute("SELECT 1 FROM meta WHERE key = 'users_items'").fetchone() \
                or not os.access(self.path, os.W_OK):
            return 0
        with self._write:
            return move_users_rows(self._conn, lambda rows: user_items.put(rows, **self._users))

    def _schema_version(self) -> tuple[Any] | None:
        """Return the ``(schema version,)`` row, or None for a file without the schema."""
        try:
            return self._conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.OperationalError:  # no meta table yet
            return None

    @property
    def _conn(self) -> sqlite3.Connection:
        """This thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=30)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", f"cache_size=-{_CACHE_KIB}",
                           "journal_size_limit=67108864", "mmap_size=268435456",
                           "temp_store=MEMORY"):
                conn.execute(f"PRAGMA {pragma}")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection this index opened."""
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    def __enter__(self) -> CatalogIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------

    def add_items(self, items: Iterable[pystac.Item | dict[str, Any]], *,
                  owner: str | None = None) -> int:
        """Add or replace items (upsert by collection, id and owner) in one transaction.

        Relative asset hrefs are made absolute against the item's self link.

        Args:
            items: STAC Items (pystac objects or dicts); each needs an id, a collection,
                a geometry and a datetime (or start and end datetimes).
            owner: the user who owns these items (they go to the platform database); None
                adds them to the public catalog.

        Returns:
            How many items were written.

        Raises:
            ValueError: for an item that cannot be indexed; nothing is written then.
        """
        who = _owner(owner)
        if who:
            rows = item_rows([as_item_dict(item) for item in items], who)
            return user_items.put(rows, **self._users)
        conn, written, span = self._conn, 0, 0
        stats: dict[tuple[str, str], list[Any]] = {}
        with self._write:
            conn.execute(f"PRAGMA cache_size=-{_WRITE_CACHE_KIB}")
            conn.execute("BEGIN IMMEDIATE")
            try:
                (next_id,) = conn.execute("SELECT coalesce(max(rowid), 0) + 1 "
                                          "FROM items").fetchone()
                for chunk in _chunks(items):
                    rows, rtree, bodies = [], [], []
                    seen: dict[tuple[str, str], int] = {}
                    for row in item_rows([as_item_dict(item) for item in chunk], who):
                        key = (row[0], row[1])
                        rowid = seen.get(key) or existing(conn, row[0], row[1], who)
                        if rowid is None:
                            rowid, next_id = next_id, next_id + 1
                            merge_stats(stats, row, 1)
                        else:
                            merge_stats(stats, row, 0)
                        seen[key] = rowid
                        span = max(span, row[5] - row[4])
                        rows.append((rowid, *row[:-1]))
                        bodies.append((rowid, row[-1]))
                        cloud = -0.1 if row[6] is None else row[6] / _CLOUD_UNIT
                        rtree.append((rowid, row[7], row[9], row[8], row[10],
                                      row[4] / _TIME_UNIT, row[5] / _TIME_UNIT, cloud, cloud))
                    conn.executemany("INSERT OR REPLACE INTO items VALUES "
                                     "(?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
                    conn.executemany("INSERT OR REPLACE INTO bodies VALUES (?,?)", bodies)
                    conn.executemany("INSERT OR REPLACE INTO items_rtree VALUES "
                                     "(?,?,?,?,?,?,?,?,?)", rtree)
                    written += len(rows)
                conn.executemany(STATS_MERGE, [(*key, *value) for key, value in stats.items()])
                conn.execute("INSERT INTO meta VALUES ('max_span', ?) ON CONFLICT (key) DO "
                             "UPDATE SET value = max(value, excluded.value)", (span,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            finally:
                conn.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
                conn.execute("PRAGMA shrink_memory")
        return written

    def remove(self, item_id: str | None = None, *, collection: str | None = None,
               owner: str | None = None) -> int:
        """Remove items of one owner: one item by id, or a whole collection.

        Args:
            item_id: the item id; None removes every item of ``collection``.
            collection: the collection; required when ``item_id`` is None.
            owner: whose items (in the platform database); None = the public catalog.

        Returns:
            How many items were removed.
        """
        if item_id is None and collection is None:
            raise ValueError("remove needs an item id or a collection")
        who, conn = _owner(owner), self._conn
        if who:
            return user_items.remove(who, item_id, collection=collection, **self._users)
        where, args = "owner = ?", [who]
        if item_id is not None:
            where, args = where + " AND id = ?", [*args, item_id]
        if collection is not None:
            where, args = where + " AND collection = ?", [*args, collection]
        with self._write:
            conn.execute("BEGIN IMMEDIATE")
            try:
                hits = conn.execute(f"SELECT rowid, collection FROM items WHERE {where}",
                                    args).fetchall()
                for table, column in (("items", "rowid"), ("bodies", "rowid"),
                                      ("items_rtree", "rid")):
                    conn.executemany(f"DELETE FROM {table} WHERE {column} = ?",
                                     [(rowid,) for rowid, _ in hits])
                for name in {name for _, name in hits}:
                    recount(conn, name, who)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return len(hits)

    # -- reading ---------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> list[dict[str, Any]]:
        """Return one page of matching items, newest first (then by id), as STAC dicts."""
        return [json.loads(body) for body in self.search_json(query)]

    def search_json(self, query: SearchQuery) -> list[str]:
        """Like ``search``, but each item as its stored JSON text (no decoding: for services).

        Decoding is most of a page's cost with real items (~20 KB each).
        """
        page = list(itertools.islice(self._matches(query), query.offset,
                                     query.offset + query.limit))
        rowids = [found for _, _, found in page if isinstance(found, int)]
        bodies = dict(self._conn.execute(f"SELECT rowid, body FROM bodies WHERE rowid IN "
                                         f"({','.join(map(str, rowids))})").fetchall()) \
            if rowids else {}
        # a public item by its rowid; a user's own item comes with its JSON
        return [bodies[found] if isinstance(found, int) else found for _, _, found in page]

    def count(self, query: SearchQuery) -> int:
        """Return how many items match ``query`` in all (its limit and offset are ignored)."""
        return sum(1 for _ in self._matches(query))

    def get(self, item_id: str, *, collection: str | None = None,
            owner: str | None = None) -> dict[str, Any] | None:
        """Return one item by id (the owner's own before a public one), or None."""
        found = self.lookup(item_id, collection=collection, owner=owner)
        return None if found is None else found[0]

    def lookup(self, item_id: str, *, collection: str | None = None,
               owner: str | None = None) -> tuple[dict[str, Any], str | None] | None:
        """Return one item visible to ``owner`` and whose it is (None = public), or None.

        The owner's own item comes before a public one with the same id; services use the
        owner to keep a user's items from pointing at files outside that user's folder.
        """
        who = _owner(owner)
        if who:
            body = user_items.lookup(who, item_id, collection=collection, **self._users)
            if body is not None:
                return json.loads(body), who
        sql = ("SELECT b.body FROM items i JOIN bodies b ON b.rowid = i.rowid "
               "WHERE i.id = ? AND i.owner = ''")
        args: list[Any] = [item_id]
        if collection is not None:
            sql, args = sql + " AND i.collection = ?", [*args, collection]
        row = self._conn.execute(sql + " ORDER BY i.collection LIMIT 1", args).fetchone()
        return None if row is None else (json.loads(row[0]), None)

    def collections(self, owner: str | None = None) -> list[dict[str, Any]]:
        """Return the collections: id, item count and extent (public plus ``owner``'s own).

        Returns:
            STAC-Collection-like dicts ``{"id", "count", "extent": {"spatial": {"bbox"},
            "temporal": {"interval"}}}``, sorted by id.
        """
        who = _owner(owner)
        public = self._conn.execute(
            "SELECT collection, count, minx, miny, maxx, maxy, mint, maxt FROM collection_stats "
            "WHERE owner = '' AND count > 0").fetchall()
        return collection_dicts(public, user_items.collection_stats(who, **self._users)
                                if who else [])

    def __len__(self) -> int:
        """How many public items the file holds (users' own items are not counted)."""
        return self._conn.execute("SELECT count(*) FROM items WHERE owner = ''").fetchone()[0]

    def __bool__(self) -> bool:
        return True  # an empty index is still an index (``index or default`` must not skip it)

    def _matches(self, query: SearchQuery) -> Iterator[tuple[int, str, int | str]]:
        """Yield the matches in sort order (newest first, then by id).

        A public item as ``(dt, id, rowid)``, one of ``query.owner``'s own as
        ``(dt, id, JSON)``.
        """
        public = self._public_matches(query)
        if not _owner(query.owner):
            return public
        own = user_items.matches(query, **self._users)
        return heapq.merge(public, own, key=lambda match: (-match[0], match[1])) if own \
            else public

    def _public_matches(self, query: SearchQuery) -> Iterator[tuple[int, str, int]]:
        """Yield ``(dt, id, rowid)`` of all matching public items in sort order."""
        t0 = micros(query.start) if query.start else -_FAR
        t1 = micros(query.end) if query.end else _FAR
        where = ["i.t0 <= ?", "i.t1 >= ?", "i.owner = ''"]
        args: list[Any] = [t1, t0]
        if query.max_cloud is not None:
            where.append("(i.cloud IS NULL OR i.cloud <= ?)")
            args.append(query.max_cloud)
        if query.collections:
            where.append(f"i.collection IN ({','.join('?' * len(query.collections))})")
            args.extend(query.collections)
        conn = self._conn
        span = conn.execute("SELECT value FROM meta WHERE key = 'max_span'").fetchone()
        span = span[0] if span else 0
        # dt lies inside the item's interval, so it is within one span of the query's range
        ordered = ["i.dt >= ?", "i.dt <= ?", *where]
        ordered_args = [t0 - span, t1 + span, *args]
        if query.geometry is None:
            sql = (f"SELECT i.dt, i.id, i.rowid FROM items i INDEXED BY items_by_time "
                   f"WHERE {' AND '.join(ordered)} "
                   "ORDER BY i.dt DESC, i.id")
            yield from conn.execute(sql, ordered_args)
            return
        area = shapely.from_wkb(shapely.to_wkb(query.geometry))  # prepared below: a copy
        x0, y0, x1, y1 = area.bounds
        box = ["i.minx <= ?", "i.maxx >= ?", "i.miny <= ?", "i.maxy >= ?"]
        box_args = [x1, x0, y1, y0]
        cloud = 1e9 if query.max_cloud is None else query.max_cloud
        rtree = ("r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ? AND r.mint <= ? "
                 "AND r.maxt >= ? AND r.minc <= ?")
        rtree_args = [*box_args, t1 / _TIME_UNIT, t0 / _TIME_UNIT, cloud / _CLOUD_UNIT]
        rowids = [rowid for (rowid,) in conn.execute(
            f"SELECT rid FROM items_rtree r WHERE {rtree} LIMIT {_PROBE + 1}", rtree_args)]
        if not rowids:
            return
        if len(rowids) <= _PROBE:
            sql = (f"SELECT i.dt, i.id, i.rowid, i.geom FROM items i NOT INDEXED WHERE i.rowid IN "
                   f"({','.join(map(str, rowids))}) AND {' AND '.join(where)} "
                   "ORDER BY i.dt DESC, i.id")
            cursor = conn.execute(sql, args)
        else:
            sql = (f"SELECT i.dt, i.id, i.rowid, i.geom FROM items i INDEXED BY items_by_time "
                   f"WHERE {' AND '.join(box + ordered)} ORDER BY i.dt DESC, i.id")
            cursor = conn.execute(sql, [*box_args, *ordered_args])
        shapely.prepare(area)
        size = 64
        while rows := cursor.fetchmany(size):
            geoms = shapely.from_wkb([row[3] for row in rows])
            for row, hit in zip(rows, shapely.intersects(area, geoms), strict=True):
                if hit:
                    yield row[0], row[1], row[2]
            size = min(size * 4, 4096)


def _owner(owner: str | None) -> str:
    if owner is None:
        return ""
    if not isinstance(owner, str) or not owner:
        raise ValueError(f"not a valid owner: {owner!r}")
    return owner


def _chunks(items: Iterable[Any]) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, _BATCH)):
        yield chunk


