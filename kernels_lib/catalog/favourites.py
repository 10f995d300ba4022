"""Per-user favourites: catalog items a user marked to find again (PRODUCT.md §1, §2)."""

from __future__ import annotations

import json
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from terralab.platform_db import connect, ensure_tables

__all__ = ["add_favourite", "list_favourites", "remove_favourite"]

_DDL = """
CREATE TABLE IF NOT EXISTS favourites (
    user TEXT NOT NULL,
    collection TEXT NOT NULL,
    item_id TEXT NOT NULL,
    added TEXT NOT NULL,
    item TEXT NOT NULL,
    PRIMARY KEY (user, collection, item_id)
);
"""


def add_favourite(user: str, item: dict[str, Any], *, home: Path | None = None) -> bool:
    """Add ``item`` (a STAC item dict) to ``user``'s favourites.

    The item is kept as it was found, so a favourite from a remote STAC API stays listed
    even when that API is not reachable.

    Returns:
        True when it was added, False when it was already a favourite.
    """
    with closing(connect(home)) as db, db:
        ensure_tables(db, "favourites", _DDL)
        cursor = db.execute(
            "INSERT OR IGNORE INTO favourites VALUES (?, ?, ?, ?, ?)",
            (user, item.get("collection") or "", item["id"],
             datetime.now(UTC).isoformat(timespec="seconds"), json.dumps(item)),
        )
        return cursor.rowcount == 1


def remove_favourite(user: str, item_id: str, *, collection: str | None = None,
                     home: Path | None = None) -> int:
    """Remove ``item_id`` from ``user``'s favourites; returns how many were removed."""
    with closing(connect(home)) as db, db:
        ensure_tables(db, "favourites", _DDL)
        sql = "DELETE FROM favourites WHERE user = ? AND item_id = ?"
        args: tuple = (user, item_id)
        if collection:
            sql, args = sql + " AND collection = ?", (*args, collection)
        return db.execute(sql, args).rowcount


def list_favourites(user: str, *, home: Path | None = None) -> list[dict[str, Any]]:
    """Return ``user``'s favourite items (STAC item dicts), most recently added first.

    Each item carries ``properties["terralab:favourite_added"]``.
    """
    with closing(connect(home)) as db:
        ensure_tables(db, "favourites", _DDL)
        rows = db.execute(
            "SELECT added, item FROM favourites WHERE user = ? ORDER BY added DESC, item_id",
            (user,),
        ).fetchall()
    items = []
    for added, text in rows:
        item = json.loads(text)
        item.setdefault("properties", {})["terralab:favourite_added"] = added
        items.append(item)
    return items
