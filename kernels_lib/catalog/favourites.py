"""Per-user favourites: catalog items a user marked to find again (PRODUCT.md §1, §2).

One row per favourite in the ``favourites`` table of the platform database
(:mod:`terralab.platform_sql`; SQLite or PostgreSQL), keyed by user, collection and item id.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from terralab.platform_sql import engine, insert_once, metadata, reading

__all__ = ["add_favourite", "favourites", "list_favourites", "remove_favourite"]

favourites = sa.Table(
    "favourites", metadata,
    sa.Column("user", sa.Text, primary_key=True),
    sa.Column("collection", sa.Text, primary_key=True),
    sa.Column("item_id", sa.Text, primary_key=True),
    sa.Column("added", sa.Text, nullable=False),  # ISO 8601, UTC
    sa.Column("item", sa.Text, nullable=False),  # JSON of the STAC item as it was found
)


def add_favourite(user: str, item: dict[str, Any], *, home: Path | None = None) -> bool:
    """Add ``item`` (a STAC item dict) to ``user``'s favourites.

    The item is kept as it was found, so a favourite from a remote STAC API stays listed
    even when that API is not reachable.

    Returns:
        True when it was added, False when it was already a favourite.
    """
    values = {"user": user, "collection": item.get("collection") or "", "item_id": item["id"],
              "added": datetime.now(UTC).isoformat(timespec="seconds"),
              "item": json.dumps(item)}
    with engine(home).begin() as db:
        return insert_once(db, favourites, values)


def remove_favourite(user: str, item_id: str, *, collection: str | None = None,
                     home: Path | None = None) -> int:
    """Remove ``item_id`` from ``user``'s favourites; returns how many were removed."""
    statement = favourites.delete().where(favourites.c.user == user,
                                          favourites.c.item_id == item_id)
    if collection:
        statement = statement.where(favourites.c.collection == collection)
    with engine(home).begin() as db:
        return db.execute(statement).rowcount


def list_favourites(user: str, *, home: Path | None = None) -> list[dict[str, Any]]:
    """Return ``user``'s favourite items (STAC item dicts), most recently added first.

    Each item carries ``properties["terralab:favourite_added"]``.
    """
    query = (sa.select(favourites.c.added, favourites.c.item).where(favourites.c.user == user)
             .order_by(favourites.c.added.desc(), favourites.c.item_id))
    with reading(engine(home)) as db:
        rows = db.execute(query).all()
    items = []
    for added, text in rows:
        item = json.loads(text)
        item.setdefault("properties", {})["terralab:favourite_added"] = added
        items.append(item)
    return items
