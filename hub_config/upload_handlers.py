"""The upload handler of the terralab hub service (PRODUCT.md §2).

Uploads are checked, reserved and charged here, not in the user's own server, and their
heavy publishing runs on the workers as a queued job, never on the service's request threads.
The upload endpoints are declared once in :mod:`terralab.service.endpoints.mydata`:

- ``POST mydata/uploads`` ``{"name", "size"[, "title", "layer", "bands"]}``
  (``mydata.announce_upload``, a plain declared operation): its type, size limit and the
  storage quota are checked and the size reserved **before** a byte is sent (413 with the
  message when too large or over quota); answers ``{"id", "put"}``.
- ``PUT mydata/uploads/{upload_id}`` (``mydata.send_upload``): the file as the body, exactly
  the announced size. It is streamed to a private staging file (never held in memory) and
  its header checked at once: a file that breaks a rule the header shows gets 400
  ``{"message", "rule"[, "layers"]}``, nothing is kept and the reservation is released.
  Publishing (COG, overviews, statistics, thumbnail) is queued for the workers as a job of
  kind ``publish`` (in the owner's job limit, never in the AI-time quota); the PUT answers
  202 ``{"id", "state", "job", "status"}``.
- the same ``PUT`` with ``Content-Range: bytes START-END/TOTAL`` sends one **chunk**
  (resumable uploads, :mod:`terralab.mydata.upload_ranges`): it is appended to the staging
  file (streamed), and a chunk before the last is answered 200 ``{"state": "announced",
  "received", "size", …}`` with ``Range: bytes=0-<received-1>``; the last chunk runs what a
  whole-body ``PUT`` runs (header check, publish job, 202). A chunk that does not fit is 416
  with ``received``; a chunk's request that breaks off keeps the bytes that arrived, and the
  upload waits for the rest (released like any announced upload when abandoned).
- ``GET mydata/uploads/{upload_id}`` (``mydata.upload_status``) says where it stands
  (``announced`` with the bytes ``received``, ``received``, ``publishing``, ``ready`` with
  the ``item``, or ``failed`` with the refusal, nothing kept); ``DELETE``
  (``mydata.cancel_upload``) cancels an announced (partly sent) or queued upload.

The three methods of ``mydata/uploads/{upload_id}`` share the hand-written
:class:`UploadHandler` (the PUT streams its body); ``GET`` and ``DELETE`` run their declared
operations. Uploads being received when the service stops are released when it starts
again (:func:`release_interrupted_uploads`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from tornado import ioloop, web

from terralab.hub.mydata_handlers import MyDataHandler
from terralab.mydata.errors import MyDataError, UploadError, UploadRangeError
from terralab.mydata.limits import UploadLimits
from terralab.mydata.upload_jobs import (
    PUBLISH_TOOL,
    drop,
    mark_received,
    release_chunk,
    release_interrupted,
    set_job,
    take_for_body,
    upload_status,
)
from terralab.mydata.upload_ranges import (
    ContentRange,
    parse_content_range,
    plan_chunk,
    staged_bytes,
)
from terralab.mydata.uploads import check_upload
from terralab.queue import store as queue_store
from terralab.queue.errors import JobError, JobLimitReached
from terralab.service.endpoint import Caller
from terralab.service.endpoints.catalog import CatalogState
from terralab.service.endpoints.uploads import status_path
from terralab.service.error_table import MyDataNotFound
from terralab.service.registry import endpoint

__all__ = ["HEADER_CHECK_THREADS", "UploadHandler", "release_interrupted_uploads",
           "upload_raw_handlers"]

HEADER_CHECK_THREADS = 2
"""Threads that check received uploads' headers. The checks open the file with GDAL, which
can take seconds for a tiny file (an Erdas Imagine header whose CRS GDAL must identify), so
they run on a pool of their own: many uploads at once wait for each other, never hold the
threads that answer everybody's other requests."""

_HEADER_CHECKS = ThreadPoolExecutor(HEADER_CHECK_THREADS, thread_name_prefix="upload-check")

BUSY_WAIT_SECONDS = 10.0
"""How long a chunk waits for the request of the chunk before it to let the upload go (a
client that resends after a broken connection may come back before the service has seen
the old connection close)."""


@web.stream_request_body
class UploadHandler(MyDataHandler):
    """``PUT|GET|DELETE mydata/uploads/{upload_id}``: bytes (streamed), where it stands, cancel.

    The PUT of the whole file (or of its last chunk) checks the file's header at once (a
    broken rule: 400 with its message) and queues the publishing (COG, overviews,
    statistics, thumbnail) as a job of kind ``publish`` for the workers, so a heavy upload
    never holds the service's request threads: it answers 202 ``{"id", "state":
    "received", "job": {…}, "status": path}``; ``GET`` on that path then answers
    ``{"state": "received" | "publishing", "job"}``, ``{"state": "ready", "item"}`` or
    ``{"state": "failed", "message", "rule"}``. A chunk before the last is answered 200
    with the bytes ``received``.
    """

    entry: Any = None
    _file: Any = None
    _received = 0
    _span: ContentRange | None = None
    _keep = False  # a chunk's request: on its end the upload waits for the next chunk
    _repeat = False  # a chunk received already: its bytes are dropped
    _done: dict[str, Any] | None = None  # the last chunk again, of an upload all in
    refusal: Exception | None = None

    async def _claim(self, upload_id: str) -> Any:
        """Take the caller's announced upload ``upload_id`` for this request.

        A chunk waits up to :data:`BUSY_WAIT_SECONDS` while the request of the chunk before
        it still holds the upload.

        Raises:
            MyDataNotFound: the caller has no such upload waiting for its bytes.
            MyDataError: a chunk's request still holds it.
        """
        user = self.require_user()["name"]
        deadline = time.monotonic() + BUSY_WAIT_SECONDS
        while True:
            waiting = await self.blocking(partial(take_for_body, user, upload_id,
                                                  home=self.home))
            if waiting is not None:
                return waiting
            status = await self.blocking(partial(upload_status, user, upload_id,
                                                 home=self.home))
            if self._span is not None and status and status["state"] in (
                    "received", "publishing", "ready") and self._span.last:
                self._done = status  # the last chunk again: its answer was lost
                return None
            if not (status and status["state"] in ("announced", "receiving")
                    and self._span is not None):
                raise MyDataNotFound(f"no upload {upload_id!r} is waiting; announce it "
                                     "first with POST mydata/uploads")
            if time.monotonic() > deadline:
                raise MyDataError(f"a chunk of upload {upload_id!r} is still being received; "
                                  "ask GET for the bytes received and send on from there")
            await asyncio.sleep(0.25)

    async def prepare(self) -> None:
        """Match the body to its announced upload and open the staging file.

        A PUT refused here (not signed in, unknown id, wrong length, a chunk that does not
        fit) is answered only after its body has been read and dropped: answering first
        would close the connection under the proxy while it still sends, and
        configurable-http-proxy then answers 503 (ECONNRESET), to the next requests on its
        kept-alive connections too. A body larger than ``UploadLimits.refused_drain_bytes``
        (64 MiB; ``c.TerralabHub.upload_limits``) is refused at once, with
        ``Connection: close``.
        """
        try:
            await super().prepare()  # authenticate first
            if self.request.method == "PUT":
                text = self.request.headers.get("Content-Range")
                if text is None:
                    await self._open_upload()
                else:
                    await self._open_chunk(text)
        except (web.HTTPError, MyDataError) as refusal:
            if self.request.method != "PUT":
                raise
            self._refuse_after_body(refusal)

    def _length(self) -> int | None:
        text = self.request.headers.get("Content-Length", "")
        return int(text) if text.isdigit() else None

    async def _open_upload(self) -> None:
        self.entry = await self._claim(self.path_args[0])
        pending = self.entry.pending
        if self._length() != pending.declared:
            self._discard()
            raise MyDataError(f"send exactly the {pending.declared} bytes announced, with "
                              "their Content-Length")
        self.request.connection.set_max_body_size(pending.declared)
        self._file = open(pending.source, "wb")  # noqa: SIM115 (closed in put / on close)

    async def _open_chunk(self, text: str) -> None:
        """Check one chunk against what was received and open the staging file to append."""
        self._span = span = parse_content_range(text)
        if self._length() != span.length:
            raise MyDataError(f"a chunk of bytes {span.start}-{span.end} is {span.length} "
                              "bytes: send them with that Content-Length")
        self.entry = await self._claim(self.path_args[0])
        self.request.connection.set_max_body_size(span.length)
        if self.entry is None:  # all in already (self._done)
            return
        self._keep = True
        pending = self.entry.pending
        plan = plan_chunk(span, size=pending.declared, received=staged_bytes(pending.source),
                          name=pending.name)
        if plan == "repeat":
            self._repeat = True
        else:
            self._file = open(pending.source, "ab")  # noqa: SIM115 (closed in put / on close)

    def _refuse_after_body(self, refusal: Exception) -> None:
        """Drop the body of a refused PUT, then answer ``refusal`` (from :meth:`put`)."""
        most = UploadLimits.from_env().refused_drain_bytes
        length = self._length()
        if length is not None and length > most:
            self.set_header("Connection", "close")
            self._answer_refusal(refusal)
        self.refusal = refusal
        self.request.connection.set_max_body_size(most if length is None else length)

    def _answer_refusal(self, refusal: Exception) -> None:
        if isinstance(refusal, web.HTTPError):  # the caller's credentials
            raise refusal
        if isinstance(refusal, UploadRangeError) and refusal.received:
            self.set_header("Range", f"bytes=0-{refusal.received - 1}")
        self.stop(refusal)

    def data_received(self, chunk: bytes) -> None:
        """Append a piece of the body to the staging file (a refused body is dropped)."""
        if self._file is not None:
            self._received += len(chunk)
            self._file.write(chunk)

    def _discard(self) -> None:
        """Close the staging file; an upload still held is dropped, or (a chunk's) let go."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.entry is not None:
            entry, self.entry = self.entry, None
            if self._keep:
                release_chunk(entry)  # the bytes that arrived stay; the rest may follow
            else:
                drop(entry)

    def on_connection_close(self) -> None:
        """A client that goes away mid-upload leaves nothing behind.

        A chunk's request keeps the bytes that arrived, for the client to send on from.
        """
        self._discard()
        super().on_connection_close()

    def on_finish(self) -> None:
        """Whatever happened, nothing stays open or reserved (unless queued to publish)."""
        self._discard()

    def _answer_chunk(self, pending: Any, received: int) -> None:
        """Answer a chunk before the last: 200, the bytes received, ``Range``."""
        if received:
            self.set_header("Range", f"bytes=0-{received - 1}")
        self.write_json({"id": pending.item_id, "name": pending.name, "state": "announced",
                         "received": received, "size": pending.declared,
                         "status": status_path(pending.item_id)},
                        endpoint("mydata.send_upload").other_statuses[0])

    async def put(self, upload_id: str) -> None:
        """Append a chunk (200), or check the whole file and queue its publishing (202)."""
        if self.refusal is not None:
            self._answer_refusal(self.refusal)
        if self._done is not None:  # the last chunk again: answer as it was answered
            done = self._done
            self.write_json({"id": upload_id, "name": done.get("name") or "",
                             "state": done["state"], "job": None, "received": done.get("size"),
                             "size": done.get("size"), "status": status_path(upload_id)},
                            endpoint("mydata.send_upload").status)
            return
        if self._file is not None:
            self._file.close()
            self._file = None
        waiting = self.entry
        pending = waiting.pending
        received = staged_bytes(pending.source)
        if self._span is not None and (self._repeat or not self._span.last):
            self.entry = None
            received = await self.blocking(partial(release_chunk, waiting))
            self._answer_chunk(pending, received)
            return
        if self._span is not None and received != pending.declared:
            self.stop(UploadRangeError(f"{pending.name}: {received:,} of its "
                                       f"{pending.declared:,} bytes are in, send on from "
                                       f"byte {received}", received=received,
                                       size=pending.declared))
        self._keep = False  # all in: a refusal from here on drops it
        try:
            await ioloop.IOLoop.current().run_in_executor(_HEADER_CHECKS, partial(
                check_upload, pending, limits=waiting.limits, layer=waiting.layer,
                bands=waiting.bands))
        except MyDataError as error:
            self.stop(error)  # on_finish drops it
        await self.blocking(partial(mark_received, waiting))
        caller = Caller.from_model(self.require_user())
        try:
            job = await self.blocking(partial(
                queue_store.submit, pending.owner, PUBLISH_TOOL, {"upload": pending.item_id},
                title=f"publish {pending.name}", groups=caller.groups, home=self.home))
        except JobError as error:  # rule "jobs": my job limit (429); "queue": 503
            self.stop(UploadError(f"{pending.name} cannot be published now: {error}",
                                  rule="jobs" if isinstance(error, JobLimitReached)
                                  else "queue"))
        self.entry = None  # the publish job owns it now
        await self.blocking(partial(set_job, waiting, job.id))
        self.write_json({"id": pending.item_id, "name": pending.name, "state": "received",
                         "job": job.to_dict(), "received": pending.declared,
                         "size": pending.declared, "status": status_path(pending.item_id)},
                        endpoint("mydata.send_upload").status)

    async def get(self, upload_id: str) -> None:
        """Answer where one of the caller's uploads stands (``mydata.upload_status``)."""
        await self.run_declared("mydata.upload_status", upload_id=upload_id)

    async def delete(self, upload_id: str) -> None:
        """Cancel an upload: an announced one at once, a queued one with its publish job."""
        await self.run_declared("mydata.cancel_upload", upload_id=upload_id)


def release_interrupted_uploads(home: Any) -> int:
    """As the service starts: release the uploads it was receiving when it last stopped.

    Their requests died with the old process, so their reservations and staging files go
    at once (:func:`terralab.mydata.upload_jobs.release_interrupted`); uploads queued for
    publishing are the workers'. Returns how many were released.
    """
    released = release_interrupted(Path(home))
    if released:
        logging.getLogger("terralab.hub").info(
            "released %d upload(s) interrupted by the last stop of the service", released)
    return released


def upload_raw_handlers(state: CatalogState) -> dict[str, tuple[type[web.RequestHandler],
                                                               dict[str, Any]]]:
    """The hand-written handler of the declared upload endpoints, by endpoint name."""
    arguments = {"state": state}
    return {name: (UploadHandler, arguments)
            for name in ("mydata.send_upload", "mydata.upload_status", "mydata.cancel_upload")}
