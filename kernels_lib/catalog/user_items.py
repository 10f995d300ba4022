"""The catalog items users own (uploads, results), in the platform database.

The public catalog index is a file of its own (:mod:`terralab.catalog.index`); a user's own
items are platform state, so they live in the table ``catalog_user_items`` of the platform
database (:mod:`terralab.platform_sql`: SQLite by default, PostgreSQL when configured) and
:class:`~terralab.catalog.index.CatalogIndex` merges them into the searches made for their
owner. The columns are those of the index's ``items`` rows (times in integer microseconds
since 1970 UTC, the bbox, the footprint as WKB) plus the item JSON. A user holds few items,
so a search reads the owner's rows that pass the time, cloud, collection and bbox tests and
checks each footprint against the area.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import shapely
import sqlalchemy as sa

from terralab.catalog._item_rows import micros
from terralab.catalog.query import SearchQuery
from terralab.platform_sql import engine, has_database, is_postgres, metadata, reading

__all__ = ["Match", "catalog_user_items", "collection_stats", "lookup", "matches",
           "put", "remove"]

_FAR = 2**62

catalog_user_items = sa.Table(
    "catalog_user_items", metadata,
    sa.Column("owner", sa.Text, primary_key=True),
    sa.Column("collection", sa.Text, primary_key=True),
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("dt", sa.BigInteger, nullable=False),  # the sort key (µs since 1970 UTC)
    sa.Column("t0", sa.BigInteger, nullable=False),  # the acquisition interval (µs)
    sa.Column("t1", sa.BigInteger, nullable=False),
    sa.Column("cloud", sa.Float),  # eo:cloud_cover, or NULL
    sa.Column("minx", sa.Float, nullable=False),
    sa.Column("miny", sa.Float, nullable=False),
    sa.Column("maxx", sa.Float, nullable=False),
    sa.Column("maxy", sa.Float, nullable=False),
    sa.Column("geom", sa.LargeBinary, nullable=False),  # the footprint as WKB
    sa.Column("body", sa.Text, nullable=False),  # the item JSON
    sa.Index("catalog_user_items_owner_dt", "owner", "dt"),
)

_ROW = ("collection", "id", "owner", "dt", "t0", "t1", "cloud", "minx", "miny", "maxx", "maxy",
        "geom", "body")
Match = tuple[int, str, str]
"""A matching item: ``(dt, id, body)``."""


def _database(home: Path | None, bind: sa.Engine | None, *, reading: bool = False
              ) -> sa.Engine | None:
    """Return the platform database: ``bind``, else that of ``home``.

    None for a reader that would find no database: the SQLite default not made yet, which a
    reader must not leave behind (e.g. a user's server of a PostgreSQL deployment).
    """
    if bind is not None:
        return bind
    if reading and not has_database(home):
        return None
    return engine(home)


def put(rows: Iterable[Sequence[Any]], *, home: Path | None = None,
        bind: sa.Engine | None = None) -> int:
    """Add or replace users' items (by owner, collection and id) in one transaction.

    Args:
        rows: index rows ``(collection, id, owner, dt, t0, t1, cloud, minx, miny, maxx,
            maxy, geom, body)`` (:func:`terralab.catalog._item_rows.item_rows`); of the
            same key, the last one wins.
        home: the terralab data folder (the SQLite default of the platform database).
        bind: the platform database to use instead of that of ``home``.

    Returns:
        How many rows were given.
    """
    given = 0
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in rows:
        values = dict(zip(_ROW, row, strict=True))
        if not values["owner"]:
            raise ValueError("a user's item needs its owner")
        latest[(values["owner"], values["collection"], values["id"])] = values
        given += 1
    if not latest:
        return 0
    with _database(home, bind).begin() as db:
        if is_postgres(db):
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(catalog_user_items)
        keys = {"owner", "collection", "id"}
        statement = statement.on_conflict_do_update(
            index_elements=["owner", "collection", "id"],
            set_={name: statement.excluded[name] for name in _ROW if name not in keys})
        db.execute(statement, list(latest.values()))
    return given


def remove(owner: str, item_id: str | None = None, *, collection: str | None = None,
           home: Path | None = None, bind: sa.Engine | None = None) -> int:
    """Remove ``owner``'s item ``item_id`` (or all of ``collection``); returns how many."""
    table = catalog_user_items
    statement = table.delete().where(table.c.owner == owner)
    if item_id is not None:
        statement = statement.where(table.c.id == item_id)
    if collection is not None:
        statement = statement.where(table.c.collection == collection)
    database = _database(home, bind, reading=True)
    if database is None:
        return 0
    with database.begin() as db:
        return db.execute(statement).rowcount


def matches(query: SearchQuery, *, home: Path | None = None,
            bind: sa.Engine | None = None) -> list[Match]:
    """Return every item of ``query.owner`` that matches ``query``, newest first, then by id."""
    table = catalog_user_items
    database = _database(home, bind, reading=True)
    if query.owner is None or database is None:
        return []
    t0 = micros(query.start) if query.start else -_FAR
    t1 = micros(query.end) if query.end else _FAR
    select = sa.select(table.c.dt, table.c.id, table.c.body, table.c.geom).where(
        table.c.owner == query.owner, table.c.t0 <= t1, table.c.t1 >= t0)
    if query.max_cloud is not None:
        select = select.where(sa.or_(table.c.cloud.is_(None), table.c.cloud <= query.max_cloud))
    if query.collections:
        select = select.where(table.c.collection.in_(list(query.collections)))
    area = None
    if query.geometry is not None:
        area = shapely.from_wkb(shapely.to_wkb(query.geometry))  # prepared below: a copy
        x0, y0, x1, y1 = area.bounds
        select = select.where(table.c.minx <= x1, table.c.maxx >= x0, table.c.miny <= y1,
                              table.c.maxy >= y0)
    with reading(database) as db:
        rows = db.execute(select).all()
    if area is not None and rows:
        shapely.prepare(area)
        hits = shapely.intersects(area, shapely.from_wkb([bytes(row.geom) for row in rows]))
        rows = [row for row, hit in zip(rows, hits, strict=True) if hit]
    return sorted(((row.dt, row.id, row.body) for row in rows),
                  key=lambda match: (-match[0], match[1]))


def lookup(owner: str, item_id: str, *, collection: str | None = None,
           home: Path | None = None, bind: sa.Engine | None = None) -> str | None:
    """Return the JSON of ``owner``'s item ``item_id`` (the first collection by name), or None."""
    table = catalog_user_items
    database = _database(home, bind, reading=True)
    if database is None:
        return None
    select = sa.select(table.c.body, table.c.collection).where(table.c.owner == owner,
                                                                table.c.id == item_id)
    if collection is not None:
        select = select.where(table.c.collection == collection)
    with reading(database) as db:
        rows = db.execute(select).all()
    return min(rows, key=lambda row: row.collection).body if rows else None


def collection_stats(owner: str, *, home: Path | None = None,
                     bind: sa.Engine | None = None) -> list[tuple[Any, ...]]:
    """Return ``(collection, count, minx, miny, maxx, maxy, mint, maxt)`` of ``owner``'s items."""
    table = catalog_user_items
    database = _database(home, bind, reading=True)
    if database is None:
        return []
    select = (sa.select(table.c.collection, sa.func.count(), sa.func.min(table.c.minx),
                        sa.func.min(table.c.miny), sa.func.max(table.c.maxx),
                        sa.func.max(table.c.maxy), sa.func.min(table.c.t0),
                        sa.func.max(table.c.t1))
              .where(table.c.owner == owner).group_by(table.c.collection))
    with reading(database) as db:
        return [tuple(row) for row in db.execute(select).all()]
