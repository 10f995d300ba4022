"""Uploads received by the hub service and published on the workers, kept in the database.

In a hub an upload goes through these states (one row of the platform table
``upload_waiting`` each, :mod:`terralab.mydata.tables`, so that a restart of the service
strands nothing; every change of state is one conditional ``UPDATE``, so two requests or
workers never both take the same upload, on SQLite or PostgreSQL):

``announced``
    ``POST mydata/uploads``: :func:`~terralab.mydata.uploads.start_upload` reserved the size
    and opened the staging folder; :func:`announce` records it.
``receiving``
    ``PUT mydata/uploads/{id}``: :func:`take_for_body` gives the upload to one request,
    which streams the body into the staging folder. A request carrying one chunk of a
    resumable upload (``Content-Range``, :mod:`terralab.mydata.upload_ranges`) appends it
    and gives the upload back (:func:`release_chunk`): it is ``announced`` again, with the
    bytes received so far in its staging file, until the last chunk comes; a chunk's
    request that breaks off keeps the bytes that arrived.
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

import contextlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from terralab.home import terralab_home
from terralab.mydata import store
from terralab.mydata.errors import MyDataError, UploadError
from terralab.mydata.limits import UploadLimits
from terralab.mydata.tables import my_data, upload_waiting
from terralab.mydata.upload_ranges import staged_bytes
from terralab.mydata.uploads import PendingUpload, abort_upload, finish_upload
from terralab.platform_sql import engine, reading
from terralab.quotas.policy import StoragePolicy

__all__ = ["PUBLISH_TOOL", "REFUSAL_SECONDS", "WaitingUpload", "announce", "drop",
           "forget_abandoned", "mark_received", "publish_received", "release_chunk",
           "release_interrupted", "set_job", "settle", "take_for_body", "upload_status"]

PUBLISH_TOOL = "publish_upload"
REFUSAL_SECONDS = 24 * 3600
"""How long the refusal of an upload published on a worker stays readable."""

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


def _encode(waiting: WaitingUpload) -> str:
    pending = waiting.pending
    return json.dumps({
        "name": pending.name, "data_type": pending.data_type, "declared": pending.declared,
        "staging": str(pending.staging), "groups": list(pending.groups),
        "storage_limit": pending.policy.limit_for(pending.owner, pending.groups),
        "limits": asdict(waiting.limits), "title": waiting.title, "layer": waiting.layer,
        "bands": waiting.bands})


def _decode(row: Any, home: Path) -> WaitingUpload:
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


_COLUMNS = (upload_waiting.c.owner, upload_waiting.c.id, upload_waiting.c.state,
            upload_waiting.c.upload, upload_waiting.c.job, upload_waiting.c.refusal)


def _one(owner: str, item_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(upload_waiting.c.owner == owner, upload_waiting.c.id == item_id)


def _get(db: sa.Connection, owner: str, item_id: str, home: Path) -> WaitingUpload | None:
    row = db.execute(sa.select(*_COLUMNS).where(_one(owner, item_id))).first()
    return _decode(row, home) if row else None


def announce(pending: PendingUpload, limits: UploadLimits, *, title: str | None = None,
             layer: str | None = None, bands: Sequence[str] | None = None) -> WaitingUpload:
    """Record an upload just announced (its size already reserved)."""
    waiting = WaitingUpload(pending=pending, limits=limits, title=title, layer=layer,
                            bands=list(bands) if bands is not None else None)
    with engine(pending.home).begin() as db:
        db.execute(upload_waiting.insert().values(
            owner=pending.owner, id=pending.item_id, state="announced",
            upload=_encode(waiting), touched=time.time()))
    return waiting


def take_for_body(owner: str, item_id: str, *, home: Path | None = None) -> WaitingUpload | None:
    """Give ``owner``'s announced upload to the request that sends its body (once).

    Returns:
        The upload, now ``receiving``; None when ``owner`` has no such upload waiting.
    """
    home = home or terralab_home()
    with engine(home).begin() as db:
        taken = db.execute(upload_waiting.update()
                           .where(_one(owner, item_id), upload_waiting.c.state == "announced")
                           .values(state="receiving", touched=time.time())).rowcount
        return _get(db, owner, item_id, home) if taken else None


def release_chunk(waiting: WaitingUpload) -> int:
    """A chunk's request ended (whole or broken off): the upload waits for the next chunk.

    The upload is ``announced`` again with the bytes of its staging file; its row, its
    reservation and its staging folder are touched, so an upload still being sent is never
    taken for abandoned (:func:`forget_abandoned`, the reservations' staleness).

    Returns:
        The bytes received so far.
    """
    pending = waiting.pending
    now = time.time()
    with contextlib.suppress(OSError):
        os.utime(pending.staging)
    with engine(pending.home).begin() as db:
        db.execute(upload_waiting.update()
                   .where(_one(pending.owner, pending.item_id),
                          upload_waiting.c.state == "receiving")
                   .values(state="announced", touched=now))
        db.execute(my_data.update()
                   .where(my_data.c.owner == pending.owner, my_data.c.id == pending.item_id,
                          my_data.c.status == "uploading")
                   .values(touched=now))
    return staged_bytes(pending.source)


def _set(home: Path, owner: str, item_id: str, state: str, *,
         refusal: dict[str, Any] | None = None) -> int:
    values: dict[str, Any] = {"state": state, "touched": time.time()}
    if refusal:
        values["refusal"] = json.dumps(refusal)
    with engine(home).begin() as db:
        return db.execute(upload_waiting.update().where(_one(owner, item_id))
                          .values(**values)).rowcount


def mark_received(waiting: WaitingUpload) -> None:
    """The body is in and passed the quick checks: the upload waits for its publish job."""
    _set(waiting.pending.home, waiting.pending.owner, waiting.pending.item_id, "received")


def set_job(waiting: WaitingUpload, job_id: str) -> None:
    """Note the publish job of a received upload (unless a worker already took it)."""
    pending = waiting.pending
    with engine(pending.home).begin() as db:
        db.execute(upload_waiting.update()
                   .where(_one(pending.owner, pending.item_id), upload_waiting.c.job.is_(None))
                   .values(job=job_id))


def drop(waiting: WaitingUpload) -> None:
    """Forget an upload: its staging folder, its reservation and its row."""
    pending = waiting.pending
    abort_upload(pending)
    with engine(pending.home).begin() as db:
        db.execute(upload_waiting.delete().where(_one(pending.owner, pending.item_id)))


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
    state, job = upload_waiting.c.state, upload_waiting.c.job
    if job_id:
        where = sa.or_(sa.and_(state == "received", sa.or_(job.is_(None), job == job_id)),
                       sa.and_(state == "publishing", job == job_id))
        values: dict[str, Any] = {"state": "publishing", "touched": time.time(), "job": job_id}
    else:
        where, values = state == "received", {"state": "publishing", "touched": time.time()}
    with engine(home).begin() as db:
        taken = db.execute(upload_waiting.update().where(_one(owner, item_id), where)
                           .values(**values)).rowcount
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
    with engine(home).begin() as db:
        db.execute(upload_waiting.delete().where(_one(owner, item_id)))
    report(100, "published in my data")
    return record


def upload_status(owner: str, item_id: str, *, home: Path | None = None
                  ) -> dict[str, Any] | None:
    """Where ``owner``'s upload stands, for ``GET mydata/uploads/{id}``.

    Returns:
        ``{"id", "state", "name", "size", "received"[, "job"]}`` while it is sent, waits or
        is published (``received``: the bytes in so far, where a resumable upload goes on;
        the whole size once received); ``{"state": "ready", "item": …}`` once it is an item
        of my data; ``{"state": "failed", "message", "rule"[, "layers"]}`` when it was
        refused; None for an unknown upload.
    """
    home = home or terralab_home()
    with reading(engine(home)) as db:
        waiting = _get(db, owner, item_id, home)
    if waiting is not None:
        pending = waiting.pending
        answer: dict[str, Any] = {"id": item_id, "state": waiting.state, "job": waiting.job,
                                  "name": pending.name, "size": pending.declared}
        if waiting.state in ("announced", "receiving"):
            answer["received"] = staged_bytes(pending.source)
        elif waiting.state in ("received", "publishing"):
            answer["received"] = pending.declared
        return {**answer, **(waiting.refusal or {})}
    record = store.get_record(owner, item_id, home=home)
    if record is None:
        return None
    return {"id": item_id, "state": "ready", "item": record.to_dict()}


def _rows(home: Path, where: sa.ColumnElement[bool]) -> list[WaitingUpload]:
    with reading(engine(home)) as db:
        rows = db.execute(sa.select(*_COLUMNS).where(where)).all()
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
    state = upload_waiting.c.state
    stranded = _rows(home, sa.or_(state.in_(("announced", "receiving")),
                                  sa.and_(state == "received", upload_waiting.c.job.is_(None))))
    for waiting in stranded:
        drop(waiting)
    return len(stranded)


def forget_abandoned(home: Path | None = None) -> None:
    """Release announced uploads whose bytes never came (after ``store.STALE_SECONDS``)."""
    home = home or terralab_home()
    for waiting in _rows(home, sa.and_(
            upload_waiting.c.state == "announced",
            upload_waiting.c.touched < time.time() - store.STALE_SECONDS)):
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
    mine = upload_waiting.c.owner == owner
    for waiting in _rows(home, sa.and_(
            mine, upload_waiting.c.state.in_(("received", "publishing")),
            upload_waiting.c.job.is_not(None))):
        assert waiting.job is not None
        status, error = job_outcome(waiting.job)
        if status in ("failed", "cancelled"):
            why = "was cancelled" if status == "cancelled" else f"failed: {error or status}"
            _fail(waiting, {"message": f"publishing {waiting.pending.name} {why}",
                            "rule": "publish"})
    old = [waiting.pending.item_id for waiting in _rows(home, sa.and_(
        mine, upload_waiting.c.state == "failed",
        upload_waiting.c.touched < time.time() - REFUSAL_SECONDS))]
    if old:  # (reads only, as a rule: this runs before every storage answer)
        with engine(home).begin() as db:
            db.execute(upload_waiting.delete().where(mine, upload_waiting.c.id.in_(old)))
