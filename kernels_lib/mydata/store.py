"""The my-data ledger: one row per upload or result a user keeps, with its size on disk.

The rows live in the platform database (table ``my_data``, :mod:`terralab.mydata.tables`;
SQLite or PostgreSQL); the sum of a user's rows is the storage the quota counts. An upload
first **reserves** its declared size inside one write transaction that holds the owner's
lock (SQLite: the database's write lock; PostgreSQL: an advisory lock per owner), so two
uploads at once cannot both slip under the limit, then either becomes ``ready`` with the
bytes it really takes on disk, or is released; a failed upload therefore charges nothing.
Reservations older than :data:`STALE_SECONDS` (a server killed mid-upload) no longer count.
Deleting an item deletes its row, which frees its bytes.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from terralab.mydata.errors import MyDataError, UploadError
from terralab.mydata.tables import my_data
from terralab.platform_sql import engine, is_postgres, reading
from terralab.quotas.policy import StoragePolicy
from terralab.sizes import format_size

__all__ = ["STALE_SECONDS", "MyDataRecord", "StorageUsage", "commit", "delete_record",
           "get_record", "list_records", "release", "reserve", "storage_usage",
           "update_record"]

STALE_SECONDS = 6 * 3600


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


def _lock_owner(db: sa.Connection, owner: str) -> None:
    """Serialise the storage transactions of ``owner`` until this transaction ends.

    On SQLite every transaction of the platform database already holds the write lock
    (``BEGIN IMMEDIATE``). On PostgreSQL a transaction-scoped advisory lock keyed by the
    owner does it: a sum over rows cannot be guarded by row locks, since the competing
    reservation is a row that does not exist yet.
    """
    if is_postgres(db):
        digest = hashlib.blake2b(f"terralab.my_data:{owner}".encode(), digest_size=8).digest()
        db.execute(sa.select(sa.func.pg_advisory_xact_lock(
            int.from_bytes(digest, "big", signed=True))))


def _mine(owner: str, item_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(my_data.c.owner == owner, my_data.c.id == item_id)


def _used(db: sa.Connection, owner: str) -> int:
    live = sa.or_(my_data.c.status == "ready", my_data.c.touched > time.time() - STALE_SECONDS)
    total = db.execute(sa.select(sa.func.coalesce(sa.func.sum(my_data.c.bytes), 0))
                       .where(my_data.c.owner == owner, live)).scalar_one()
    return int(total)


def storage_usage(owner: str, *, policy: StoragePolicy | None = None,
                  groups: Iterable[str] = (), home: Path | None = None) -> StorageUsage:
    """Return ``owner``'s storage use and limit."""
    policy = policy or StoragePolicy.from_env()
    with reading(engine(home)) as db:
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

    The check and the reservation are one transaction that holds the owner's lock, so two
    uploads at once cannot both slip under the limit.

    Raises:
        UploadError: ``rule="quota"`` when the quota has less than ``size`` bytes left.
    """
    policy = policy or StoragePolicy.from_env()
    limit = policy.limit_for(owner, groups)
    with engine(home).begin() as db:
        _lock_owner(db, owner)
        usage = StorageUsage(used=_used(db, owner), limit=limit)
        if size > usage.remaining:
            raise UploadError(_quota_message(source_name, size, usage), rule="quota")
        now = time.time()
        db.execute(my_data.delete().where(my_data.c.owner == owner,
                                          my_data.c.status == "uploading",
                                          my_data.c.touched <= now - STALE_SECONDS))
        db.execute(my_data.insert().values(
            owner=owner, id=item_id, status="uploading", kind=kind, data_type=data_type,
            title=title, source_name=source_name, folder=folder, bytes=int(size),
            created=datetime.now(UTC).isoformat(timespec="seconds"), touched=now))


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
    with engine(home).begin() as db:
        _lock_owner(db, owner)
        row = db.execute(sa.select(my_data.c.bytes, my_data.c.source_name)
                         .where(_mine(owner, item_id))).first()
        if row is None:
            raise MyDataError(f"no upload {item_id!r} in progress")
        usage = StorageUsage(used=_used(db, owner) - int(row.bytes), limit=limit)
        if size > usage.remaining:
            raise UploadError(_quota_message(row.source_name, size, usage), rule="quota")
        props = item.get("properties", {})
        db.execute(my_data.update().where(_mine(owner, item_id)).values(
            status="ready", bytes=int(size), touched=time.time(), flags=json.dumps(list(flags)),
            item=json.dumps(item), title=props.get("title") or row.source_name,
            source_name=props.get("terralab:source_name") or row.source_name))
    record = get_record(owner, item_id, home=home)
    assert record is not None
    return record


def release(owner: str, item_id: str, *, home: Path | None = None) -> None:
    """Drop a reservation (a failed upload), freeing its bytes."""
    with engine(home).begin() as db:
        db.execute(my_data.delete().where(_mine(owner, item_id),
                                          my_data.c.status == "uploading"))


_COLUMNS = (my_data.c.id, my_data.c.owner, my_data.c.kind, my_data.c.data_type,
            my_data.c.title, my_data.c.source_name, my_data.c.folder, my_data.c.bytes,
            my_data.c.created, my_data.c.flags, my_data.c.item)


def _record(row: Any) -> MyDataRecord:
    return MyDataRecord(id=row.id, owner=row.owner, kind=row.kind, data_type=row.data_type,
                        title=row.title, source_name=row.source_name, folder=row.folder,
                        bytes=int(row.bytes), created=row.created,
                        flags=tuple(json.loads(row.flags or "[]")),
                        item=json.loads(row.item) if row.item else {})


def get_record(owner: str, item_id: str, *, home: Path | None = None) -> MyDataRecord | None:
    """Return ``owner``'s ready item ``item_id``, or None."""
    with reading(engine(home)) as db:
        row = db.execute(sa.select(*_COLUMNS).where(_mine(owner, item_id),
                                                    my_data.c.status == "ready")).first()
    return _record(row) if row else None


def _containing(column: sa.ColumnElement[str], text: str) -> sa.ColumnElement[bool]:
    """``column`` contains ``text``, ignoring case (``%`` and ``_`` are plain characters)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sa.func.lower(column).like(sa.func.lower(sa.literal(f"%{escaped}%")), escape="\\")


def list_records(owner: str, *, kind: str | None = None, data_type: str | None = None,
                 text: str | None = None, home: Path | None = None) -> list[MyDataRecord]:
    """Return ``owner``'s ready items, newest first, filtered by kind, type and title text."""
    query = sa.select(*_COLUMNS).where(my_data.c.owner == owner, my_data.c.status == "ready")
    if kind:
        query = query.where(my_data.c.kind == kind)
    if data_type:
        query = query.where(my_data.c.data_type == data_type)
    if text:
        query = query.where(sa.or_(_containing(my_data.c.title, text),
                                   _containing(my_data.c.source_name, text)))
    with reading(engine(home)) as db:
        rows = db.execute(query.order_by(my_data.c.created.desc(), my_data.c.id.desc())).all()
    return [_record(row) for row in rows]


def update_record(owner: str, item_id: str, *, title: str, item: dict[str, Any],
                  home: Path | None = None) -> None:
    """Change an item's title (and its stored STAC item)."""
    with engine(home).begin() as db:
        db.execute(my_data.update().where(_mine(owner, item_id), my_data.c.status == "ready")
                   .values(title=title, item=json.dumps(item), touched=time.time()))


def delete_record(owner: str, item_id: str, *, home: Path | None = None) -> int:
    """Delete an item's row; returns the bytes freed (0 if there was none)."""
    with engine(home).begin() as db:
        found = db.execute(sa.select(my_data.c.bytes).where(_mine(owner, item_id))).scalar()
        db.execute(my_data.delete().where(_mine(owner, item_id)))
    return int(found) if found is not None else 0
