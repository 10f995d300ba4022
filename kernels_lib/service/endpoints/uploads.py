"""The upload endpoints declared once (PRODUCT.md §2): announce, send, follow, cancel.

An upload is announced first (``POST mydata/uploads``: its type, size and the storage quota
are checked and the size reserved before a byte is sent), then sent (``PUT``, 202 and its
publish job, streamed by :class:`terralab.hub.upload_handlers.UploadHandler`), then followed
(``GET``) until it is published or refused.

A large file is sent in chunks, each a ``PUT`` with ``Content-Range: bytes START-END/TOTAL``
(:mod:`terralab.mydata.upload_ranges`): a chunk before the last is answered **200** with
``{"state": "announced", "received", "size"}`` and the header ``Range: bytes=0-<received-1>``
(200 rather than Google's 308 "resume incomplete", which browsers' ``fetch`` and some proxies
take for a redirect); the last chunk is answered like a whole-body ``PUT`` (header checks,
the publish job, 202). A chunk that does not fit what was received is 416 with ``received``;
after a broken connection, ``GET`` says ``received`` and the client sends on from there.

``mydata/uploads/{upload_id}`` is declared ``raw`` for all its methods, since its ``PUT``
streams the file; its ``GET`` and ``DELETE`` run the operations declared here.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from terralab.mydata.errors import MyDataError, UploadError, UploadRangeError
from terralab.mydata.limits import UploadLimits
from terralab.mydata.upload_jobs import (
    announce,
    drop,
    forget_abandoned,
    take_for_body,
    upload_status,
)
from terralab.mydata.uploads import abort_upload, start_upload
from terralab.queue import store as queue_store
from terralab.service.endpoint import CallContext
from terralab.service.endpoints.mydata import MyDataItem, declare_mydata, settle_uploads
from terralab.service.error_table import MyDataNotFound

__all__ = ["NewUpload", "UploadAnnounced", "UploadReceived", "UploadRef", "UploadState",
           "status_path"]


class NewUpload(BaseModel):
    """``POST mydata/uploads``: the file's name and size, before any byte is sent."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="the file's name (its type comes from the extension)")
    size: int = Field(ge=0, description="its size in bytes (the PUT sends exactly this)")
    title: str | None = Field(None, description="the name to show")
    layer: str | None = Field(None, description="the layer of a GeoPackage with several")
    bands: list[str] | None = Field(None, description="what a raster's bands hold")


class UploadAnnounced(BaseModel):
    """``POST mydata/uploads``: the upload's id and where to ``PUT`` its bytes."""

    id: str
    name: str
    size: int
    put: str = Field(description="the path of its PUT, relative to the service")


class UploadRef(BaseModel):
    """One of my uploads by id."""

    model_config = ConfigDict(extra="forbid")
    upload_id: str


class UploadReceived(BaseModel):
    """``PUT mydata/uploads/{upload_id}``: a chunk in (200), or the whole file (202).

    202: received and checked, ``state`` ``received`` and publishing is the queued ``job``.
    200 (a chunk before the last): ``state`` ``announced`` and the bytes ``received`` so far.
    """

    id: str
    name: str
    state: str
    job: dict[str, Any] | None = Field(
        None, description="the publish job (as GET jobs/{id} answers it), once all is in")
    status: str = Field(description="the path of GET mydata/uploads/{upload_id}")
    received: int | None = Field(None, description="the bytes received so far")
    size: int | None = Field(None, description="the announced size")


class UploadState(BaseModel):
    """``GET mydata/uploads/{upload_id}``: where the upload stands.

    ``received`` / ``publishing`` (with its ``job``), ``ready`` (with the ``item``) or
    ``failed`` (with the refusal's ``message``, ``rule`` and ``layers``; nothing kept).
    """

    model_config = ConfigDict(extra="allow")
    id: str
    state: str
    name: str | None = None
    size: int | None = Field(None, description="the announced size")
    received: int | None = Field(
        None, description="the bytes received so far (a resumable upload goes on from here)")
    job: str | None = None
    item: MyDataItem | None = None
    message: str | None = None
    rule: str | None = None
    layers: list[str] | None = None


def _announce(context: CallContext, request: NewUpload) -> UploadAnnounced:
    limits = UploadLimits.from_env()
    forget_abandoned(context.home)
    pending = start_upload(context.caller.name, request.name, request.size, limits=limits,
                           groups=context.caller.groups, home=context.home)
    try:
        announce(pending, limits, title=request.title, layer=request.layer,
                 bands=request.bands)
    except BaseException:
        abort_upload(pending)
        raise
    return UploadAnnounced(id=pending.item_id, name=pending.name, size=request.size,
                           put=_SEND.url({"upload_id": pending.item_id}))


def status_path(upload_id: str) -> str:
    """The path of ``GET mydata/uploads/{upload_id}`` (relative to the service)."""
    return _STATE.url({"upload_id": upload_id})


def _state(context: CallContext, request: UploadRef) -> dict[str, Any]:
    settle_uploads(context)
    status = upload_status(context.caller.name, request.upload_id, home=context.home)
    if status is None:
        raise MyDataNotFound(f"you have no upload {request.upload_id!r}")
    return status


def _cancel(context: CallContext, request: UploadRef) -> None:
    user, home = context.caller.name, context.home
    waiting = take_for_body(user, request.upload_id, home=home)
    if waiting is not None:  # announced, no byte sent yet
        drop(waiting)
        return
    status = upload_status(user, request.upload_id, home=home)
    if not status or not status.get("job") or status["state"] not in ("received",
                                                                      "publishing"):
        raise MyDataNotFound(f"no upload {request.upload_id!r} is waiting; announce it "
                             "first with POST mydata/uploads")
    queue_store.cancel(status["job"], owner=user, home=home)
    settle_uploads(context)


_UPLOAD = "mydata/uploads/{upload_id}"
_ERRORS = (MyDataNotFound, MyDataError)
_declare = declare_mydata

_declare("announce_upload", "POST", "mydata/uploads",
         "Announce an upload: its type, size and my storage quota are checked first",
         call=_announce, request=NewUpload, response=UploadAnnounced,
         status=HTTPStatus.CREATED, errors=(MyDataError, UploadError),
         description="The size is reserved in my quota until the bytes come (PUT) or the "
                     "upload is cancelled; a file too large or over the quota is refused "
                     "(413) before a byte is sent.")
_SEND = _declare(
    "send_upload", "PUT", _UPLOAD, "Send the bytes of an announced upload (streamed)",
    request=UploadRef, raw=True, response=UploadReceived, status=HTTPStatus.ACCEPTED,
    other_statuses=(HTTPStatus.OK,), errors=(*_ERRORS, UploadError, UploadRangeError),
    headers=(("Content-Range", "one chunk of a resumable upload: 'bytes START-END/TOTAL' "
                               "(END inclusive, TOTAL the announced size); without it the "
                               "body is the whole file"),),
    description="The body is the file, exactly the announced size (Content-Length), or one "
                "chunk of it (Content-Range). A chunk before the last is answered 200 with "
                "the bytes received (and Range: bytes=0-N); a chunk sent again that lies "
                "inside what was received is accepted and dropped; a wrong TOTAL, a gap, an "
                "overlap or bytes beyond the size are 416 with the bytes received. Once the "
                "whole file is in, its header is checked at once (400 with the rule; "
                "nothing kept) and publishing is queued for the workers as a job of kind "
                "publish, answered 202 (429 when my job limit is reached, 503 when the queue "
                "cannot take it).")
_STATE = _declare("upload_status", "GET", _UPLOAD, "Where one of my uploads stands",
                  call=_state, raw=True, request=UploadRef, response=UploadState)
_declare("cancel_upload", "DELETE", _UPLOAD,
         "Cancel an upload: an announced one at once, a queued one with its publish job",
         call=_cancel, raw=True, request=UploadRef, status=HTTPStatus.NO_CONTENT)
