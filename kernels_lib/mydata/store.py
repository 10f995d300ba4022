"""The my-data ledger: one row per upload or result a user keeps, with its size on disk.

The rows live in the platform database (table ``my_data``); the sum of a user's rows is the
storage the quota counts. An upload first **reserves** its declared size inside one write
transaction (so two uploads at once cannot both slip under the limit), then either becomes
``ready`` with the bytes it really takes on disk, or is released; a failed upload therefore
charges nothing. Reservations older than :data:`STALE_SECONDS` (a server killed mid-upload)
no longer count. Deleting an item deletes its row, which frees its bytes.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from terralab.mydata.errors import MyDataError, UploadError
from terralab.mydata.quota import StoragePolicy, format_size
from terralab.platform_db import connect, ensure_tables

__all__ = ["STALE_SECONDS", "MyDataRecord", "StorageUsage", "commit", "delete_record",
           "get_record", "list_records", "release", "reserve", "storage_usage",
           "update_record"]

STALE_SECONDS = 6 * 3600
_DDL = """
CREATE TABLE IF NOT EXISTS my_data (
    owner TEXT NOT NULL,
    id TEXT NOT NULL,
    status TEXT NOT NULL,
    kind TEXT NOT NULL,
    data_type TEXT NOT NULL,
    title TEXT NOT NULL,
    source_name TEXT NOT NULL,
    folder TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    created TEXT NOT NULL,
    touched REAL NOT NULL,
    flags TEXT NOT NULL DEFAULT '[]',
    item TEXT,
    PRIMARY KEY (owner, id)
);
"""


@dataclass(frozen=True)
class MyDataRecord:
    """One item of a user's data.

    Attributes:
        id: the item id (also its STAC item id and folder name).
        owner: the user.
        kind: ``"upload"`` or ``"result"``.
        data_type: ``"raster"`` or ``"vector"``.
        title: the name shown to the user (renamable).
        source_name: the uploaded file's name, or the tool that made a result.
        folder: the item's folder, relative to the user's folder.
        bytes: what it takes on disk (what the quota counts).
        created: when it was added (ISO 8601, UTC).
        flags: notes for the user ("CRS unknown" …).
        item: its STAC item.
    """

    id: str
    owner: str
    kind: str
    data_type: str
    title: str
    source_name: str
    folder: str
    bytes: int
    created: str
    flags: tuple[str, ...] = ()
    item: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Return the record as JSON-ready data (the service's answer)."""
        return {"id": self.id, "owner": self.owner, "kind": self.kind,
                "data_type": self.data_type, "title": self.title,
                "source_name": self.source_name, "folder": self.folder, "bytes": self.bytes,
                "created": self.created, "flags": list(self.flags), "item": self.item}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MyDataRecord:
        """Rebuild a record from :meth:`to_dict`'s data."""
        return cls(**{**data, "flags": tuple(data.get("flags") or ())})


@dataclass(frozen=True)
class StorageUsage:
    """A user's storage: bytes used (with uploads in progress), the limit, what is left."""

    used: int
    limit: int

    @property
    def remaining(self) -> int:
        """Bytes still free (never negative)."""
        return max(0, self.limit - self.used)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data, sizes in bytes and in words."""
        return {"used": self.used, "limit": self.limit, "remaining": self.remaining,
                "text": f"{format_size(self.used)} of {format_size(self.limit)} used"}


def _db(home: Path | None) -> sqlite3.Connection:
    connection = connect(home)
    ensure_tables(connection, "my_data", _DDL)
    return connection


def _used(db: sqlite3.Connection, owner: str) -> int:
    row = db.execute(
        "SELECT COALESCE(SUM(bytes), 0) FROM my_data WHERE owner = ? AND "
        "(status = 'ready' OR touched > ?)", (owner, time.time() - STALE_SECONDS)).fetchone()
    return int(row[0])


def storage_usage(owner: str, *, policy: StoragePolicy | None = None,
                  groups: Iterable[str] = (), home: Path | None = None) -> StorageUsage:
    """Return ``owner``'s storage use and limit."""
    policy = policy or StoragePolicy.from_env()
    with closing(_db(home)) as db:
        return StorageUsage(used=_used(db, owner), limit=policy.limit_for(owner, groups))


def _quota_message(name: str, size: int, usage: StorageUsage) -> str:
    return (f"{name} needs {format_size(size)}, but your storage quota has "
            f"{format_size(usage.remaining)} left ({format_size(usage.used)} of "
            f"{format_size(usage.limit)} used); delete some of your data or ask an "
            "administrator for a larger quota")


def reserve(owner: str, item_id: str, size: int, *, kind: str, data_type: str, title: str,
            source_name: str, folder: str, policy: StoragePolicy | None = None,
            groups: Iterable[str] = (), home: Path | None = None) -> None:
    """Reserve ``size`` bytes of ``owner``'s quota for a new item, or refuse.

    Raises:
        UploadError: ``rule="quota"`` when the quota has less than ``size`` bytes left.
    """
    policy = policy or StoragePolicy.from_env()
    limit = policy.limit_for(owner, groups)
    with closing(_db(home)) as db:
        db.execute("BEGIN IMMEDIATE")
        try:
            usage = StorageUsage(used=_used(db, owner), limit=limit)
            if size > usage.remaining:
                raise UploadError(_quota_message(source_name, size, usage), rule="quota")
            db.execute(
                "DELETE FROM my_data WHERE owner = ? AND status = 'uploading' AND touched <= ?",
                (owner, time.time() - STALE_SECONDS))
            db.execute(
                "INSERT INTO my_data (owner, id, status, kind, data_type, title, source_name, "
                "folder, bytes, created, touched) VALUES (?, ?, 'uploading', ?, ?, ?, ?, ?, ?, "
                "?, ?)",
                (owner, item_id, kind, data_type, title, source_name, folder, size,
                 datetime.now(UTC).isoformat(timespec="seconds"), time.time()))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise


def commit(owner: str, item_id: str, size: int, item: dict[str, Any], *,
           flags: Iterable[str] = (), policy: StoragePolicy | None = None,
           groups: Iterable[str] = (), home: Path | None = None) -> MyDataRecord:
    """Turn a reservation into a ready item that takes ``size`` bytes on disk.

    Raises:
        UploadError: ``rule="quota"`` when the published files are larger than the quota
            allows (the reservation is kept for the caller to release).
    """
    policy = policy or StoragePolicy.from_env()
    limit = policy.limit_for(owner, groups)
    with closing(_db(home)) as db:
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT bytes, source_name FROM my_data WHERE owner = ? AND id = ?",
                             (owner, item_id)).fetchone()
            if row is None:
                raise MyDataError(f"no upload {item_id!r} in progress")
            usage = StorageUsage(used=_used(db, owner) - int(row[0]), limit=limit)
            if size > usage.remaining:
                raise UploadError(_quota_message(row[1], size, usage), rule="quota")
            props = item.get("properties", {})
            db.execute("UPDATE my_data SET status = 'ready', bytes = ?, touched = ?, flags = ?, "
                       "item = ?, title = ?, source_name = ? WHERE owner = ? AND id = ?",
                       (size, time.time(), json.dumps(list(flags)), json.dumps(item),
                        props.get("title") or row[1], props.get("terralab:source_name") or row[1],
                        owner, item_id))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    record = get_record(owner, item_id, home=home)
    assert record is not None
    return record


def release(owner: str, item_id: str, *, home: Path | None = None) -> None:
    """Drop a reservation (a failed upload), freeing its bytes."""
    with closing(_db(home)) as db, db:
        db.execute("DELETE FROM my_data WHERE owner = ? AND id = ? AND status = 'uploading'",
                   (owner, item_id))


_COLUMNS = "id, owner, kind, data_type, title, source_name, folder, bytes, created, flags, item"


def _record(row: tuple) -> MyDataRecord:
    return MyDataRecord(id=row[0], owner=row[1], kind=row[2], data_type=row[3], title=row[4],
                        source_name=row[5], folder=row[6], bytes=int(row[7]), created=row[8],
                        flags=tuple(json.loads(row[9] or "[]")),
                        item=json.loads(row[10]) if row[10] else {})


def get_record(owner: str, item_id: str, *, home: Path | None = None) -> MyDataRecord | None:
    """Return ``owner``'s ready item ``item_id``, or None."""
    with closing(_db(home)) as db:
        row = db.execute(f"SELECT {_COLUMNS} FROM my_data WHERE owner = ? AND id = ? "
                         "AND status = 'ready'", (owner, item_id)).fetchone()
    return _record(row) if row else None


def list_records(owner: str, *, kind: str | None = None, data_type: str | None = None,
                 text: str | None = None, home: Path | None = None) -> list[MyDataRecord]:
    """Return ``owner``'s ready items, newest first, filtered by kind, type and title text."""
    sql = f"SELECT {_COLUMNS} FROM my_data WHERE owner = ? AND status = 'ready'"
    args: list[Any] = [owner]
    if kind:
        sql, args = sql + " AND kind = ?", [*args, kind]
    if data_type:
        sql, args = sql + " AND data_type = ?", [*args, data_type]
    if text:
        sql += " AND (instr(lower(title), lower(?)) > 0 OR instr(lower(source_name), lower(?)) > 0)"
        args += [text, text]
    with closing(_db(home)) as db:
        rows = db.execute(sql + " ORDER BY created DESC, id DESC", args).fetchall()
    return [_record(row) for row in rows]


def update_record(owner: str, item_id: str, *, title: str, item: dict[str, Any],
                  home: Path | None = None) -> None:
    """Change an item's title (and its stored STAC item)."""
    with closing(_db(home)) as db, db:
        db.execute("UPDATE my_data SET title = ?, item = ?, touched = ? WHERE owner = ? AND "
                   "id = ? AND status = 'ready'", (title, json.dumps(item), time.time(), owner,
                                                   item_id))


def delete_record(owner: str, item_id: str, *, home: Path | None = None) -> int:
    """Delete an item's row; returns the bytes freed (0 if there was none)."""
    with closing(_db(home)) as db, db:
        row = db.execute("SELECT bytes FROM my_data WHERE owner = ? AND id = ?",
                         (owner, item_id)).fetchone()
        db.execute("DELETE FROM my_data WHERE owner = ? AND id = ?", (owner, item_id))
    return int(row[0]) if row else 0
