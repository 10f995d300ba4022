"""Uploads received by the hub service and published on the workers, kept in the database.

In a hub an upload goes through these states (one row of the platform table
``upload_waiting`` each, so that a restart of the service strands nothing):

``announced``
    ``POST mydata/uploads``: :func:`~terralab.mydata.uploads.start_upload` reserved the size
    and opened the staging folder; :func:`announce` records it.
``receiving``
    ``PUT mydata/uploads/{id}``: :func:`take_for_body` gives the upload to one request,
    which streams the body into the staging folder.
``received``
    the quick checks passed (:func:`~terralab.mydata.uploads.check_upload`: header, size,
    type, CRS, dimensions — a refusal is answered at once); the service queued a job of the
    internal tool ``publish_upload`` (job kind ``publish``) and noted its id (:func:`set_job`).
``publishing``
    a worker runs :func:`publish_received`: the COG, overviews, statistics and thumbnail.
    A published upload becomes a ready item of my data and its row goes; a refused one
    leaves nothing but a ``failed`` row holding the refusal (message and rule) for the
    client to read, for :data:`REFUSAL_SECONDS`.

So publishing runs on the workers, counted in the owner's job limit and shown like any job,
never on the service's request threads. When the service starts, :func:`release_interrupted`
releases the uploads it held (announced, receiving, or received without a job): their
connections died with the old process, so their reservations and staging files go at once
and the client starts again. :func:`settle` releases what a publish job that ended without
publishing (cancelled while queued, lost workers) left behind.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from terralab.home import terralab_home
from terralab.mydata import store
from terralab.mydata.errors import MyDataError, UploadError
from terralab.mydata.limits import UploadLimits
from terralab.mydata.quota import StoragePolicy
from terralab.mydata.uploads import PendingUpload, abort_upload, finish_upload
from terralab.platform_db import connect, ensure_tables

__all__ = ["PUBLISH_TOOL", "REFUSAL_SECONDS", "WaitingUpload", "announce", "drop",
           "forget_abandoned", "mark_received", "publish_received", "release_interrupted",
           "set_job", "settle", "take_for_body", "upload_status"]

PUBLISH_TOOL = "publish_upload"
REFUSAL_SECONDS = 24 * 3600
"""How long the refusal of an upload published on a worker stays readable."""

_DDL = """
CREATE TABLE IF NOT EXISTS upload_waiting (
    owner TEXT NOT NULL,
    id TEXT NOT NULL,
    state TEXT NOT NULL,
    upload TEXT NOT NULL,
    job TEXT,
    refusal TEXT,
    touched REAL NOT NULL,
    PRIMARY KEY (owner, id)
);
"""


@dataclass(frozen=True)
class WaitingUpload:
    """An upload the service holds, with what publishing it needs.

    Attributes:
        pending: the reservation and staging folder.
        limits: the upload rules it was announced under.
        title: the name to show.
        layer: the GeoPackage layer chosen.
        bands: the raster's band names given.
        state: announced, receiving, received, publishing or failed.
        job: the publish job's id, once queued.
        refusal: why publishing refused it (``{"message", "rule"[, "layers"]}``).
    """

    pending: PendingUpload
    limits: UploadLimits
    title: str | None = None
    layer: str | None = None
    bands: list[str] | None = None
    state: str = "announced"
    job: str | None = None
    refusal: dict[str, Any] | None = None


def _db(home: Path) -> sqlite3.Connection:
    connection = connect(home)
    ensure_tables(connection, "upload_waiting", _DDL)
    return connection


def _encode(waiting: WaitingUpload) -> str:
    pending = waiting.pending
    return json.dumps({
        "name": pending.name, "data_type": pending.data_type, "declared": pending.declared,
        "staging": str(pending.staging), "groups": list(pending.groups),
        "storage_limit": pending.policy.limit_for(pending.owner, pending.groups),
        "limits": asdict(waiting.limits), "title": waiting.title, "layer": waiting.layer,
        "bands": waiting.bands})


def _decode(row: tuple, home: Path) -> WaitingUpload:
    owner, item_id, state, upload, job, refusal = row
    data = json.loads(upload)
    limits = {key: tuple(value) if isinstance(value, list) else value
              for key, value in data["limits"].items()}
    pending = PendingUpload(owner=owner, item_id=item_id, name=data["name"],
                            data_type=data["data_type"], declared=int(data["declared"]),
                            staging=Path(data["staging"]), home=home,
                            policy=StoragePolicy(default=int(data["storage_limit"])),
                            groups=tuple(data["groups"]))
    return WaitingUpload(pending=pending, limits=UploadLimits(**limits), title=data["title"],
                         layer=data["layer"], bands=data["bands"], state=state, job=job,
                         refusal=json.loads(refusal) if refusal else None)


_COLUMNS = "owner, id, state, upload, job, refusal"


def _get(db: sqlite3.Connection, owner: str, item_id: str, home: Path) -> WaitingUpload | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM upload_waiting WHERE owner = ? AND id = ?",
                     (owner, item_id)).fetchone()
    return _decode(row, home) if row else None


def announce(pending: PendingUpload, limits: UploadLimits, *, title: str | None = None,
             layer: str | None = None, bands: Sequence[str] | None = None) -> WaitingUpload:
    """Record an upload just announced (its size already reserved)."""
    waiting = WaitingUpload(pending=pending, limits=limits, title=title, layer=layer,
                            bands=list(bands) if bands is not None else None)
    with closing(_db(pending.home)) as db, db:
        db.execute("INSERT INTO upload_waiting (owner, id, state, upload, touched) "
                   "VALUES (?, ?, 'announced', ?, ?)",
                   (pending.owner, pending.item_id, _encode(waiting), time.time()))
    return waiting


def take_for_body(owner: str, item_id: str, *, home: Path | None = None) -> WaitingUpload | None:
    """Give ``owner``'s announced upload to the request that sends its body (once).

    Returns:
        The upload, now ``receiving``; None when ``owner`` has no such upload waiting.
    """
    home = home or terralab_home()
    with closing(_db(home)) as db, db:
        taken = db.execute("UPDATE upload_waiting SET state = 'receiving', touched = ? "
                           "WHERE owner = ? AND id = ? AND state = 'announced'",
                           (time.time(), owner, item_id)).rowcount
        return _get(db, owner, item_id, home) if taken else None


def _set(home: Path, owner: str, item_id: str, state: str, *, job: str | None = None,
         refusal: dict[str, Any] | None = None) -> int:
    values = "state = ?, touched = ?" + (", job = ?" if job else "") + \
        (", refusal = ?" if refusal else "")
    args: list[Any] = [state, time.time(), *([job] if job else []),
                       *([json.dumps(refusal)] if refusal else []), owner, item_id]
    with closing(_db(home)) as db, db:
        return db.execute(f"UPDATE upload_waiting SET {values} WHERE owner = ? AND id = ?",
                          args).rowcount


def mark_received(waiting: WaitingUpload) -> None:
    """The body is in and passed the quick checks: the upload waits for its publish job."""
    _set(waiting.pending.home, waiting.pending.owner, waiting.pending.item_id, "received")


def set_job(waiting: WaitingUpload, job_id: str) -> None:
    """Note the publish job of a received upload (unless a worker already took it)."""
    pending = waiting.pending
    with closing(_db(pending.home)) as db, db:
        db.execute("UPDATE upload_waiting SET job = ? WHERE owner = ? AND id = ? AND "
                   "job IS NULL", (job_id, pending.owner, pending.item_id))


def drop(waiting: WaitingUpload) -> None:
    """Forget an upload: its staging folder, its reservation and its row."""
    pending = waiting.pending
    abort_upload(pending)
    with closing(_db(pending.home)) as db, db:
        db.execute("DELETE FROM upload_waiting WHERE owner = ? AND id = ?",
                   (pending.owner, pending.item_id))


def _fail(waiting: WaitingUpload, refusal: dict[str, Any]) -> None:
    """Release a failed upload and keep only its refusal, for the client to read."""
    abort_upload(waiting.pending)
    _set(waiting.pending.home, waiting.pending.owner, waiting.pending.item_id, "failed",
         refusal=refusal)


def publish_received(owner: str, item_id: str, *, job_id: str | None = None,
                     home: Path | None = None,
                     progress: Callable[[float, str], None] | None = None
                     ) -> store.MyDataRecord:
    """Publish a received upload (on a worker): the heavy part of an upload.

    Args:
        owner: the upload's owner (the job's owner: nobody publishes another's upload).
        item_id: the upload.
        job_id: the publish job running this.
        home: the terralab data folder.
        progress: ``progress(percent, message)``.

    Returns:
        The new item of the owner's data.

    Raises:
        MyDataError: no such upload of ``owner`` waits to be published.
        UploadError: the file breaks a rule (kept as the upload's refusal; nothing else is
            kept and no quota is charged).
    """
    home = home or terralab_home()
    report = progress or (lambda percent, message: None)
    # a received upload for its own job (or any, in-process); or again for the same job
    # when a worker died while publishing it and the queue gives the job another attempt
    where = (" AND ((state = 'received' AND (job IS NULL OR job = ?)) OR "
             "(state = 'publishing' AND job = ?))" if job_id else " AND state = 'received'")
    with closing(_db(home)) as db, db:
        taken = db.execute(
            f"UPDATE upload_waiting SET state = 'publishing', touched = ?"
            f"{', job = ?' if job_id else ''} WHERE owner = ? AND id = ?{where}",
            [time.time(), *([job_id] if job_id else []), owner, item_id,
             *([job_id, job_id] if job_id else [])]).rowcount
        waiting = _get(db, owner, item_id, home) if taken else None
    if waiting is None:
        raise MyDataError(f"no upload {item_id!r} of {owner} is waiting to be published")
    report(5, f"publishing {waiting.pending.name}")
    try:
        record = finish_upload(waiting.pending, title=waiting.title, layer=waiting.layer,
                               bands=waiting.bands, limits=waiting.limits, progress=report)
    except UploadError as error:
        _fail(waiting, {"message": str(error), "rule": error.rule, "layers": error.layers})
        raise
    except BaseException as error:
        _fail(waiting, {"message": f"{waiting.pending.name} could not be published: "
                                   f"{error or type(error).__name__}", "rule": "publish"})
        raise
    with closing(_db(home)) as db, db:
        db.execute("DELETE FROM upload_waiting WHERE owner = ? AND id = ?", (owner, item_id))
    report(100, "published in my data")
    return record


def upload_status(owner: str, item_id: str, *, home: Path | None = None
                  ) -> dict[str, Any] | None:
    """Where ``owner``'s upload stands, for ``GET mydata/uploads/{id}``.

    Returns:
        ``{"id", "state"[, "job"]}`` while it waits or is published; ``{"state": "ready",
        "item": …}`` once it is an item of my data; ``{"state": "failed", "message",
        "rule"[, "layers"]}`` when it was refused; None for an unknown upload.
    """
    home = home or terralab_home()
    with closing(_db(home)) as db:
        waiting = _get(db, owner, item_id, home)
    if waiting is not None:
        answer: dict[str, Any] = {"id": item_id, "state": waiting.state, "job": waiting.job,
                                  "name": waiting.pending.name}
        return {**answer, **(waiting.refusal or {})}
    record = store.get_record(owner, item_id, home=home)
    if record is None:
        return None
    return {"id": item_id, "state": "ready", "item": record.to_dict()}


def _rows(home: Path, where: str, args: Sequence[Any] = ()) -> list[WaitingUpload]:
    with closing(_db(home)) as db:
        rows = db.execute(f"SELECT {_COLUMNS} FROM upload_waiting WHERE {where}",
                          list(args)).fetchall()
    return [_decode(row, home) for row in rows]


def release_interrupted(home: Path | None = None) -> int:
    """At service start: release the uploads the previous service process was receiving.

    Announced and receiving uploads, and received ones whose job was never queued, lose
    their reservation, staging folder and row (the client's request died with the old
    process; it announces the file again). Uploads with a publish job are the workers'.

    Returns:
        How many were released.
    """
    home = home or terralab_home()
    stranded = _rows(home, "state IN ('announced', 'receiving') OR "
                           "(state = 'received' AND job IS NULL)")
    for waiting in stranded:
        drop(waiting)
    return len(stranded)


def forget_abandoned(home: Path | None = None) -> None:
    """Release announced uploads whose bytes never came (after ``store.STALE_SECONDS``)."""
    home = home or terralab_home()
    for waiting in _rows(home, "state = 'announced' AND touched < ?",
                         [time.time() - store.STALE_SECONDS]):
        drop(waiting)


def settle(owner: str, *, job_outcome: Callable[[str], tuple[str, str | None]],
           home: Path | None = None) -> None:
    """Release what ``owner``'s publish jobs that ended without publishing left behind.

    Args:
        owner: the user.
        job_outcome: ``job_outcome(job_id) -> (status, error)`` from the queue.
        home: the terralab data folder.
    """
    home = home or terralab_home()
    for waiting in _rows(home, "owner = ? AND state IN ('received', 'publishing') AND "
                               "job IS NOT NULL", [owner]):
        assert waiting.job is not None
        status, error = job_outcome(waiting.job)
        if status in ("failed", "cancelled"):
            why = "was cancelled" if status == "cancelled" else f"failed: {error or status}"
            _fail(waiting, {"message": f"publishing {waiting.pending.name} {why}",
                            "rule": "publish"})
    old = [waiting.pending.item_id for waiting in _rows(
        home, "owner = ? AND state = 'failed' AND touched < ?",
        [owner, time.time() - REFUSAL_SECONDS])]
    if old:  # (reads only, as a rule: this runs before every storage answer)
        with closing(_db(home)) as db, db:
            db.executemany("DELETE FROM upload_waiting WHERE owner = ? AND id = ?",
                           [(owner, item_id) for item_id in old])
