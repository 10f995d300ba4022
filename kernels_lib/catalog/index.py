"""The embedded catalog index: public STAC Items in one SQLite file, compact rows, an R*Tree.

The items users own (uploads, results) are platform state: they live in the platform
database (:mod:`terralab.catalog.user_items`; SQLite or PostgreSQL), and a search made for a
user merges that user's matching items into the public ones, in the same order. An index
file of an earlier release that still holds users' rows hands them to the platform database
the first time a process that may write it opens it (meta key ``users_items``).

Schema 2 (one file, WAL journal; a file of schema 1 is upgraded in place when a process that
may write it opens it, see :mod:`terralab.catalog._index_upgrade`):

- ``items``: one compact row per public item — a 64-bit hash of its ``id`` (indexed, for
  lookups by id), its collection as a small code (``collections``), ``dt`` (the sort key: the
  item's ``datetime``, else its ``start_datetime``; indexed), ``t0``/``t1`` (the acquisition
  interval, NULL for an instant; all times are integer microseconds since 1970 UTC),
  ``cloud`` (``eo:cloud_cover`` or NULL), ``shape`` (its footprint and bbox, kept once per
  distinct footprint in ``shapes`` as WKB), the id, and the item's JSON text as a zstd frame
  of what the row does not already hold (:mod:`terralab.catalog._item_codec`), compressed
  with a dictionary trained on the first items of its collection. The text given back is
  the one added, byte for byte.
- ``shapes`` / ``shapes_rtree``: each distinct footprint (WKB) and bbox once — the tiles and
  scenes of an archive are imaged again and again — with how many items were added with it,
  and an R*Tree over (lon, lat, time) of the footprints, each spanning the times of its items
  (time in 30-day steps, so that a county-sized area and a year are boxes of similar size:
  the R*Tree splits by box margins). Its 32-bit float bounds are rounded outwards by SQLite,
  so it is a prefilter only. A footprint whose bbox crosses the antimeridian gets the full
  lon range.
- ``collection_stats``: item count and extent per collection, kept up to date on add
  (extents only grow on an upsert) and recomputed on remove.
- ``meta``: the schema version, the longest item interval (``max_span``) and ``users_items``.

A search with an area takes the R*Tree's footprints (a few are tested against the prepared
area at once) and, when about ``_PROBE`` items or fewer of them fall in the query's time
window, reads their items through the ``(shape, dt)`` index with the exact time, cloud and
collection tests in SQL, sorted (datetime descending, then id). Otherwise (an area covering
much of the index) it scans the time index in sort order. Either way each footprint is
tested (shapely) once, when its first item comes up, and reading stops when the page is
full. Searches without an area always scan the time index.
"""

from __future__ import annotations

import heapq
import itertools
import json
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pystac
import shapely

from terralab.catalog import user_items
from terralab.catalog._compact_rows import TIME_UNIT, CompactRows
from terralab.catalog._index_sql import (
    SCHEMA,
    STATS_MERGE,
    collection_dicts,
    existing,
    merge_stats,
    move_users_rows,
    recount,
)
from terralab.catalog._index_upgrade import SCHEMA_VERSION, drop_leftovers, upgrade
from terralab.catalog._item_codec import key_of
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
_FAR = 2**62
_PROBE = 20_000  # above this many candidate items, scan the time index instead
_EAGER = 64  # up to this many candidate footprints, all are tested before reading items
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
        self._file = self.path  # a read-only index of an earlier schema: an upgraded copy
        self._copy: Path | None = None
        row = self._schema_version()
        if row is None:  # a new file: only then take the write lock (an ingest may hold it)
            with self._write:
                self._conn.executescript(SCHEMA)
                self._conn.executemany("INSERT OR IGNORE INTO meta VALUES (?, ?)",
                                       [("schema", SCHEMA_VERSION),
                                        ("users_items", "platform")])
            row = self._schema_version()
        (version,) = row
        if version not in (1, SCHEMA_VERSION):
            raise ValueError(f"{self.path} has index schema {version}, this terralab reads "
                             f"{SCHEMA_VERSION} and upgrades 1: remove the file and ingest "
                             "again")
        self.moved = self._move_users_items()
        if version == 1:
            self._upgrade()
        elif os.access(self._file, os.W_OK):
            drop_leftovers(self._conn)  # an upgrade that stopped before dropping them

    def _upgrade(self) -> None:
        """Rewrite a schema-1 file as schema 2.

        A process that may not write the file reads an upgraded copy of it instead (in a
        temporary folder, removed on close).
        """
        if not os.access(self.path, os.W_OK):
            self._copy = Path(tempfile.mkdtemp(prefix="terralab-index-"))
            copy = self._copy / self.path.name
            with sqlite3.connect(copy) as target:
                self._conn.backup(target)
            target.close()
            self.close()
            self._file = copy
        with self._write:
            upgrade(self._conn)

    def _move_users_items(self) -> int:
        """Hand the users' rows of an index of an earlier release to the platform database.

        Runs once per file (then the meta key ``users_items`` says so). A process that may
        not write the file (a read-only copy) leaves it as it is and sees public items only.
        """
        if self._conn.execute("SELECT 1 FROM meta WHERE key = 'users_items'").fetchone() \
                or not os.access(self._file, os.W_OK):
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
            conn = sqlite3.connect(self._file, isolation_level=None, check_same_thread=False,
                                   timeout=30)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", f"cache_size=-{_CACHE_KIB}",
                           "journal_size_limit=67108864", "mmap_size=268435456",
                           "temp_store=MEMORY"):
                conn.execute(f"PRAGMA {pragma}")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    @property
    def _rows(self) -> CompactRows:
        """This thread's compact rows (on its connection)."""
        rows = getattr(self._local, "rows", None)
        if rows is None:
            rows = self._local.rows = CompactRows(self._conn)
        return rows

    def close(self) -> None:
        """Close every connection this index opened."""
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()
        if self._copy is not None and self._file != self.path:  # the upgraded copy
            shutil.rmtree(self._copy, ignore_errors=True)
            self._copy = None

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
        conn, compact, written, span = self._conn, self._rows, 0, 0
        stats: dict[tuple[str, str], list[Any]] = {}
        with self._write:
            conn.execute(f"PRAGMA cache_size=-{_WRITE_CACHE_KIB}")
            conn.execute("BEGIN IMMEDIATE")
            compact.begin_write()
            try:
                (next_id,) = conn.execute("SELECT coalesce(max(rowid), 0) + 1 "
                                          "FROM items").fetchone()
                for chunk in _chunks(items):
                    rows = []
                    chunk_rows = item_rows([as_item_dict(item) for item in chunk], who)
                    seen: dict[tuple[int, str], int] = {}
                    for row, new in zip(chunk_rows, compact.encode(chunk_rows), strict=True):
                        key = (new[1], row[1])
                        rowid = seen.get(key) or existing(conn, new[0], new[1], row[1])
                        if rowid is None:
                            rowid, next_id = next_id, next_id + 1
                            merge_stats(stats, row, 1)
                        else:
                            merge_stats(stats, row, 0)
                        seen[key] = rowid
                        span = max(span, row[5] - row[4])
                        rows.append((rowid, *new))
                    conn.executemany("INSERT OR REPLACE INTO items VALUES "
                                     "(?,?,?,?,?,?,?,?,?,?,?)", rows)
                    written += len(rows)
                conn.executemany(STATS_MERGE, [(*key, *value) for key, value in stats.items()])
                conn.execute("INSERT INTO meta VALUES ('max_span', ?) ON CONFLICT (key) DO "
                             "UPDATE SET value = max(value, excluded.value)", (span,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                compact.forget()
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
        where, args = "1", []
        if item_id is not None:
            where, args = "key = ? AND id = ?", [key_of(item_id), item_id]
        with self._write:
            conn.execute("BEGIN IMMEDIATE")
            try:
                codes = self._rows.names()
                if collection is not None:
                    where += f" AND coll IN ({','.join(map(str, self._rows.codes([collection])))})"
                hits = conn.execute(f"SELECT rowid, coll FROM items WHERE {where}",
                                    args).fetchall()
                conn.executemany("DELETE FROM items WHERE rowid = ?",
                                 [(rowid,) for rowid, _ in hits])
                for code in {code for _, code in hits}:
                    recount(conn, codes[code], code)
                if item_id is None and hits:  # footprints no item uses any more
                    for table, column in (("shapes_rtree", "rid"), ("shapes", "rowid")):
                        conn.execute(f"DELETE FROM {table} WHERE {column} NOT IN "
                                     "(SELECT shape FROM items)")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                self._rows.forget()
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
        bodies = self._rows.bodies([found for _, _, found in page if isinstance(found, int)])
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
        sql = ("SELECT i.rowid, i.coll, i.shape, i.codec, i.id, i.body FROM items i JOIN "
               "collections c ON c.code = i.coll WHERE i.key = ? AND i.id = ?")
        args: list[Any] = [key_of(item_id), item_id]
        if collection is not None:
            sql, args = sql + " AND c.name = ?", [*args, collection]
        row = self._conn.execute(sql + " ORDER BY c.name LIMIT 1", args).fetchone()
        return None if row is None else (json.loads(self._rows.texts([row])[0]), None)

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
        return self._conn.execute("SELECT count(*) FROM items").fetchone()[0]

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
        where = ["coalesce(i.t0, i.dt) <= ?", "coalesce(i.t1, i.dt) >= ?"]
        args: list[Any] = [t1, t0]
        if query.max_cloud is not None:
            where.append("(i.cloud IS NULL OR i.cloud <= ?)")
            args.append(query.max_cloud)
        if query.collections:
            codes = self._rows.codes(query.collections)
            if not codes:
                return
            where.append(f"i.coll IN ({','.join(map(str, codes))})")
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
        spans = {rid: (mint, maxt) for rid, mint, maxt in conn.execute(
            "SELECT rid, mint, maxt FROM shapes_rtree WHERE minx <= ? AND maxx >= ? AND "
            f"miny <= ? AND maxy >= ? AND mint <= ? AND maxt >= ? LIMIT {_PROBE + 1}",
            [x1, x0, y1, y0, t1 / TIME_UNIT, t0 / TIME_UNIT])}
        if not spans:
            return
        shapely.prepare(area)
        hits: dict[int, bool] = {}  # by footprint: many items share one
        cursor = None
        if len(spans) <= _PROBE:
            shapes = list(spans)
            if len(shapes) <= _EAGER:  # a few footprints: test them all now, read fewer items
                hits = self._hits(area, shapes)
                shapes = [rowid for rowid, hit in hits.items() if hit]
                if not shapes:
                    return
            window = ((t0 - span) / TIME_UNIT, (t1 + span) / TIME_UNIT)
            if _expected(conn, shapes, spans, window) <= _PROBE:
                # few items: through their footprints' index, sorted
                cursor = conn.execute(
                    f"SELECT i.dt, i.id, i.rowid, i.shape FROM items i INDEXED BY "
                    f"items_by_shape WHERE i.shape IN ({','.join(map(str, shapes))}) AND "
                    f"{' AND '.join(ordered)} ORDER BY i.dt DESC, i.id", ordered_args)
        if cursor is None:  # many items: the time index in sort order
            cursor = conn.execute(
                f"SELECT i.dt, i.id, i.rowid, i.shape FROM items i INDEXED BY items_by_time "
                f"WHERE {' AND '.join(ordered)} ORDER BY i.dt DESC, i.id", ordered_args)
        size = 64  # each footprint tested once, when its first item comes up
        while rows := cursor.fetchmany(size):
            new = {row[3] for row in rows} - hits.keys()
            if new:
                hits.update(self._hits(area, list(new)))
            for row in rows:
                if hits[row[3]]:
                    yield row[0], row[1], row[2]
            size = min(size * 4, 4096)

    def _hits(self, area: shapely.Geometry, shapes: list[int]) -> dict[int, bool]:
        """Whether each of these footprints meets the (prepared) ``area``."""
        x0, y0, x1, y1 = area.bounds
        known = self._rows.shapes(shapes)
        near = [rowid for rowid in shapes if known[rowid][0] <= x1 and known[rowid][2] >= x0
                and known[rowid][1] <= y1 and known[rowid][3] >= y0]
        hits = dict.fromkeys(shapes, False)
        if near:
            geoms = shapely.from_wkb([known[rowid][4] for rowid in near])
            hits.update(zip(near, shapely.intersects(area, geoms).tolist(), strict=True))
        return hits


def _expected(conn: sqlite3.Connection, shapes: list[int],
              spans: dict[int, tuple[float, float]], window: tuple[float, float]) -> float:
    """About how many items of these footprints fall in the time ``window`` (R*Tree units).

    Each footprint's item count times the share of its time span inside the window (a plan
    choice only: both plans give the same items).
    """
    uses = conn.execute(f"SELECT rowid, uses FROM shapes WHERE rowid IN "
                        f"({','.join(map(str, shapes))})").fetchall()
    total = 0.0
    for rowid, count in uses:
        start, end = spans[rowid]
        inside = min(end, window[1]) - max(start, window[0])
        total += count * min(1.0, max(inside, 0.0) / max(end - start, 1e-9)) \
            if end > start else count
    return total


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


