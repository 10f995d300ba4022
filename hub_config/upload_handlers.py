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
- ``GET mydata/uploads/{upload_id}`` (``mydata.upload_status``) says where it stands
  (``received``, ``publishing``, ``ready`` with the ``item``, or ``failed`` with the
  refusal, nothing kept); ``DELETE`` (``mydata.cancel_upload``) cancels an announced or
  queued upload.

The three methods of ``mydata/uploads/{upload_id}`` share the hand-written
:class:`UploadHandler` (the PUT streams its body); ``GET`` and ``DELETE`` run their declared
operations. Uploads being received when the service stops are released when it starts
again (:func:`release_interrupted_uploads`).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from tornado import ioloop, web

from terralab.hub.mydata_handlers import MyDataHandler
from terralab.mydata.errors import MyDataError, UploadError
from terralab.mydata.limits import UploadLimits
from terralab.mydata.upload_jobs import (
    PUBLISH_TOOL,
    drop,
    mark_received,
    release_interrupted,
    set_job,
    take_for_body,
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


@web.stream_request_body
class UploadHandler(MyDataHandler):
    """``PUT|GET|DELETE mydata/uploads/{upload_id}``: the file (streamed), where it stands, cancel.

    The PUT checks the file's header at once (a broken rule: 400 with its message) and
    queues the publishing (COG, overviews, statistics, thumbnail) as a job of kind
    ``publish`` for the workers, so a heavy upload never holds the service's request
    threads: it answers 202 ``{"id", "state": "received", "job": {…}, "status": path}``;
    ``GET`` on that path then answers ``{"state": "received" | "publishing", "job"}``,
    ``{"state": "ready", "item"}`` or ``{"state": "failed", "message", "rule"}``.
    """

    entry: Any = None
    _file: Any = None
    _received = 0
    refusal: Exception | None = None

    async def _claim(self, upload_id: str) -> Any:
        """Take the caller's announced upload ``upload_id`` for this request.

        Raises:
            MyDataNotFound: the caller has no such upload waiting for its bytes.
        """
        user = self.require_user()["name"]
        waiting = await self.blocking(partial(take_for_body, user, upload_id, home=self.home))
        if waiting is None:
            raise MyDataNotFound(f"no upload {upload_id!r} is waiting; announce it first "
                                 "with POST mydata/uploads")
        return waiting

    async def prepare(self) -> None:
        """Match the body to its announced upload and open the staging file.

        A PUT refused here (not signed in, unknown id, wrong length) is answered only after
        its body has been read and dropped: answering first would close the connection
        under the proxy while it still sends, and configurable-http-proxy then answers 503
        (ECONNRESET), to the next requests on its kept-alive connections too. A body larger
        than ``UploadLimits.refused_drain_bytes`` (64 MiB; ``c.TerralabHub.upload_limits``)
        is refused at once, with ``Connection: close``.
        """
        try:
            await super().prepare()  # authenticate first
            if self.request.method == "PUT":
                await self._open_upload()
        except (web.HTTPError, MyDataError) as refusal:
            if self.request.method != "PUT":
                raise
            self._refuse_after_body(refusal)

    async def _open_upload(self) -> None:
        self.entry = await self._claim(self.path_args[0])
        pending = self.entry.pending
        length = self.request.headers.get("Content-Length", "")
        if length != str(pending.declared):
            self._discard()
            raise MyDataError(f"send exactly the {pending.declared} bytes announced, with "
                              "their Content-Length")
        self.request.connection.set_max_body_size(pending.declared)
        self._file = open(pending.source, "wb")  # noqa: SIM115 (closed in put / on close)

    def _refuse_after_body(self, refusal: Exception) -> None:
        """Drop the body of a refused PUT, then answer ``refusal`` (from :meth:`put`)."""
        most = UploadLimits.from_env().refused_drain_bytes
        text = self.request.headers.get("Content-Length", "")
        length = int(text) if text.isdigit() else None
        if length is not None and length > most:
            self.set_header("Connection", "close")
            self._answer_refusal(refusal)
        self.refusal = refusal
        self.request.connection.set_max_body_size(most if length is None else length)

    def _answer_refusal(self, refusal: Exception) -> None:
        if isinstance(refusal, web.HTTPError):  # the caller's credentials
            raise refusal
        self.stop(refusal)

    def data_received(self, chunk: bytes) -> None:
        """Append a piece of the body to the staging file (a refused body is dropped)."""
        if self._file is not None:
            self._received += len(chunk)
            self._file.write(chunk)

    def _discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.entry is not None:
            drop(self.entry)
            self.entry = None

    def on_connection_close(self) -> None:
        """A client that goes away mid-upload leaves nothing behind."""
        self._discard()
        super().on_connection_close()

    def on_finish(self) -> None:
        """Whatever happened, nothing stays open or reserved (unless queued to publish)."""
        self._discard()

    async def put(self, upload_id: str) -> None:
        """Check the received file's header, queue its publishing, answer 202 and the job."""
        if self.refusal is not None:
            self._answer_refusal(self.refusal)
        self._file.close()
        self._file = None
        waiting = self.entry
        pending = waiting.pending
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
                         "job": job.to_dict(), "status": status_path(pending.item_id)},
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
