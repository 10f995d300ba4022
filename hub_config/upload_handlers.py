"""The upload endpoints of the terralab hub service (PRODUCT.md §2).

Uploads are checked, reserved and charged here, not in the user's own server, and their
heavy publishing runs on the workers as a queued job, never on the service's request threads.

- ``POST mydata/uploads`` ``{"name", "size"[, "title", "layer", "bands"]}``: announce an
  upload. Its type, size limit and the storage quota are checked and the size reserved
  **before** a byte is sent (413 with the message when too large or over quota); answers
  ``{"id", "put"}``.
- ``PUT mydata/uploads/{id}``: the file as the body, exactly the announced size. It is
  streamed to a private staging file (never held in memory) and its header checked at once:
  a file that breaks a rule the header shows gets 400 ``{"message", "rule"[, "layers"]}``,
  nothing is kept and the reservation is released. Publishing (COG, overviews, statistics,
  thumbnail) is queued for the workers as a job of kind ``publish`` (in the owner's job
  limit, never in the AI-time quota); the PUT answers 202 ``{"id", "state", "job",
  "status"}``. ``GET mydata/uploads/{id}`` says where it stands (``received``,
  ``publishing``, ``ready`` with the ``item``, or ``failed`` with the refusal, nothing kept);
  ``DELETE`` cancels an announced or queued upload. Uploads being received when the service
  stops are released when it starts again (:mod:`terralab.mydata.upload_jobs`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial
from http import HTTPStatus
from pathlib import Path
from typing import Any

from tornado import ioloop, web

from terralab.hub.mydata_handlers import MyDataHandler, publish_job_outcome, user_groups
from terralab.service.endpoints.catalog import CatalogState

__all__ = ["HEADER_CHECK_THREADS", "release_interrupted_uploads", "upload_routes"]

HEADER_CHECK_THREADS = 2
"""Threads that check received uploads' headers. The checks open the file with GDAL, which
can take seconds for a tiny file (an Erdas Imagine header whose CRS GDAL must identify), so
they run on a pool of their own: many uploads at once wait for each other, never hold the
threads that answer everybody's other requests."""

_HEADER_CHECKS = ThreadPoolExecutor(HEADER_CHECK_THREADS, thread_name_prefix="upload-check")


class UploadsHandler(MyDataHandler):
    """``POST mydata/uploads``: announce an upload; its quota is reserved or refused here."""

    async def post(self) -> None:
        """Check name, size and quota from the body ``{"name", "size"[, "title", "layer"]}``."""
        from terralab.mydata.errors import UploadError
        from terralab.mydata.limits import UploadLimits
        from terralab.mydata.upload_jobs import announce, forget_abandoned
        from terralab.mydata.uploads import abort_upload, start_upload

        user = self.require_user()
        body = self.body_json()
        name, size = body.get("name"), body.get("size")
        if not isinstance(name, str) or not isinstance(size, int) or size < 0:
            raise web.HTTPError(HTTPStatus.BAD_REQUEST,
                                'send {"name": "file.tif", "size": bytes}')
        bands = body.get("bands")
        if bands is not None and (not isinstance(bands, list)
                                  or not all(isinstance(b, str) for b in bands)):
            raise web.HTTPError(HTTPStatus.BAD_REQUEST, "bands is a list of band names")
        title, layer = body.get("title"), body.get("layer")
        if not isinstance(title, str | None) or not isinstance(layer, str | None):
            raise web.HTTPError(HTTPStatus.BAD_REQUEST, "title and layer are text")
        limits = UploadLimits.from_env()
        await self.blocking(partial(forget_abandoned, self.home))
        try:
            pending = await self.blocking(partial(
                start_upload, user["name"], name, size, limits=limits, groups=user_groups(user),
                home=self.home))
        except UploadError as error:
            self.write_refusal(error)
            return
        try:
            await self.blocking(partial(announce, pending, limits, title=title, layer=layer,
                                        bands=bands))
        except BaseException:
            await self.blocking(partial(abort_upload, pending))
            raise
        self.write_json({"id": pending.item_id, "name": pending.name, "size": size,
                         "put": f"mydata/uploads/{pending.item_id}"}, HTTPStatus.CREATED)


@web.stream_request_body
class UploadHandler(MyDataHandler):
    """``PUT|GET|DELETE mydata/uploads/{id}``: the file (streamed), where it stands, cancel.

    The PUT checks the file's header at once (a broken rule: 400 with its message) and
    queues the publishing (COG, overviews, statistics, thumbnail) as a job of kind
    ``publish`` for the workers, so a heavy upload never holds the service's request
    threads: it answers 202 ``{"id", "state": "received", "job": {…}, "status":
    "mydata/uploads/{id}"}``. ``GET mydata/uploads/{id}`` then answers ``{"state":
    "received" | "publishing", "job"}``, ``{"state": "ready", "item"}`` or ``{"state":
    "failed", "message", "rule"}``.
    """

    entry: Any = None
    _file: Any = None
    _received = 0
    refusal: web.HTTPError | None = None

    async def _claim(self, upload_id: str) -> Any:
        """Take the caller's announced upload ``upload_id`` for this request, or 404."""
        from terralab.mydata.upload_jobs import take_for_body

        user = self.require_user()["name"]
        waiting = await self.blocking(partial(take_for_body, user, upload_id, home=self.home))
        if waiting is None:
            raise web.HTTPError(HTTPStatus.NOT_FOUND, f"no upload {upload_id!r} is waiting; "
                                "announce it first with POST mydata/uploads")
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
        except web.HTTPError as refusal:
            if self.request.method != "PUT":
                raise
            self._refuse_after_body(refusal)

    async def _open_upload(self) -> None:
        self.entry = await self._claim(self.path_args[0])
        pending = self.entry.pending
        length = self.request.headers.get("Content-Length", "")
        if length != str(pending.declared):
            self._discard()
            raise web.HTTPError(HTTPStatus.BAD_REQUEST, f"send exactly the {pending.declared} "
                                "bytes announced, with their Content-Length")
        self.request.connection.set_max_body_size(pending.declared)
        self._file = open(pending.source, "wb")  # noqa: SIM115 (closed in put / on close)

    def _refuse_after_body(self, refusal: web.HTTPError) -> None:
        """Drop the body of a refused PUT, then answer ``refusal`` (from :meth:`put`)."""
        from terralab.mydata.limits import UploadLimits

        most = UploadLimits.from_env().refused_drain_bytes
        text = self.request.headers.get("Content-Length", "")
        length = int(text) if text.isdigit() else None
        if length is not None and length > most:
            self.set_header("Connection", "close")
            raise refusal
        self.refusal = refusal
        self.request.connection.set_max_body_size(most if length is None else length)

    def data_received(self, chunk: bytes) -> None:
        """Append a piece of the body to the staging file (a refused body is dropped)."""
        if self._file is not None:
            self._received += len(chunk)
            self._file.write(chunk)

    def _discard(self) -> None:
        from terralab.mydata.upload_jobs import drop

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
        from terralab.mydata.errors import MyDataError
        from terralab.mydata.upload_jobs import PUBLISH_TOOL, mark_received, set_job
        from terralab.mydata.uploads import check_upload
        from terralab.queue import store as queue_store
        from terralab.queue.errors import JobError, JobLimitReached

        if self.refusal is not None:
            raise self.refusal
        self._file.close()
        self._file = None
        waiting = self.entry
        pending = waiting.pending
        try:
            await ioloop.IOLoop.current().run_in_executor(_HEADER_CHECKS, partial(
                check_upload, pending, limits=waiting.limits, layer=waiting.layer,
                bands=waiting.bands))
        except MyDataError as error:
            self.write_refusal(error)  # on_finish drops it
            return
        await self.blocking(partial(mark_received, waiting))
        user = self.require_user()
        try:
            job = await self.blocking(partial(
                queue_store.submit, pending.owner, PUBLISH_TOOL, {"upload": pending.item_id},
                title=f"publish {pending.name}", groups=user_groups(user), home=self.home))
        except JobError as error:
            status = (HTTPStatus.TOO_MANY_REQUESTS if isinstance(error, JobLimitReached)
                      else HTTPStatus.SERVICE_UNAVAILABLE)
            self.write_json({"status": status, "message": f"{pending.name} cannot be "
                             f"published now: {error}", "rule": "jobs"}, status)
            return
        self.entry = None  # the publish job owns it now
        await self.blocking(partial(set_job, waiting, job.id))
        self.write_json({"id": pending.item_id, "name": pending.name, "state": "received",
                         "job": job.to_dict(), "status": f"mydata/uploads/{pending.item_id}"},
                        HTTPStatus.ACCEPTED)

    async def get(self, upload_id: str) -> None:
        """Answer where one of the caller's uploads stands."""
        from terralab.mydata.upload_jobs import settle, upload_status

        user = self.require_user()["name"]
        outcome = partial(publish_job_outcome, self.home)
        await self.blocking(partial(settle, user, job_outcome=outcome, home=self.home))
        status = await self.blocking(partial(upload_status, user, upload_id, home=self.home))
        if status is None:
            raise web.HTTPError(HTTPStatus.NOT_FOUND, f"you have no upload {upload_id!r}")
        self.write_json(status)

    async def delete(self, upload_id: str) -> None:
        """Cancel an upload: an announced one at once, a queued one with its publish job."""
        from terralab.mydata.upload_jobs import settle, upload_status
        from terralab.queue import store as queue_store

        try:
            self.entry = await self._claim(upload_id)
        except web.HTTPError:
            user = self.require_user()["name"]
            status = await self.blocking(partial(upload_status, user, upload_id,
                                                 home=self.home))
            if not status or not status.get("job") or status["state"] not in (
                    "received", "publishing"):
                raise
            await self.blocking(partial(queue_store.cancel, status["job"], owner=user,
                                        home=self.home))
            await self.blocking(partial(settle, user, home=self.home,
                                        job_outcome=partial(publish_job_outcome, self.home)))
        self._discard()
        self.set_status(HTTPStatus.NO_CONTENT)
        self.finish()


def release_interrupted_uploads(home: Any) -> int:
    """As the service starts: release the uploads it was receiving when it last stopped.

    Their requests died with the old process, so their reservations and staging files go
    at once (:func:`terralab.mydata.upload_jobs.release_interrupted`); uploads queued for
    publishing are the workers'. Returns how many were released.
    """
    import logging

    from terralab.mydata.upload_jobs import release_interrupted

    released = release_interrupted(Path(home))
    if released:
        logging.getLogger("terralab.hub").info(
            "released %d upload(s) interrupted by the last stop of the service", released)
    return released


def upload_routes(prefix: str, state: CatalogState) -> list[tuple[str, type, dict[str, Any]]]:
    """Return the upload routes under the service ``prefix``."""
    base = prefix.rstrip("/") + "/mydata/uploads"
    args = {"state": state}
    return [(base, UploadsHandler, args), (base + r"/([^/]+)", UploadHandler, args)]
