"""Sending an upload's bytes to the hub service in chunks, going on after a broken connection.

``tl.upload`` announces a file (``mydata.announce_upload``), then :func:`send_chunks` sends
it as ``PUT mydata/uploads/{id}`` requests of :data:`CHUNK_BYTES` each, with
``Content-Range`` (:mod:`terralab.mydata.upload_ranges`). When a chunk's request breaks
(the connection drops, a proxy answers 502, the service restarts a worker) it asks
``mydata.upload_status`` for the bytes ``received`` and sends on from there, up to
:data:`RETRIES` times in a row, waiting longer each time; a chunk that does not fit is
answered with the bytes received (416) and the next one starts there. A file that breaks an
upload rule is refused once all of it is in (``UploadError``), as a whole-body upload is.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import requests

from terralab.mydata.errors import MyDataError, UploadError, UploadRangeError
from terralab.mydata.upload_ranges import ContentRange
from terralab.service.error_table import MyDataNotFound
from terralab.service.errors import ServiceError
from terralab.service.http_client import ServiceClient
from terralab.service.registry import endpoint

__all__ = ["CHUNK_BYTES", "RETRIES", "send_chunks"]

CHUNK_BYTES = 32 * 1024**2
"""The bytes of one chunk (well under the 64 MiB the service drains of a refused body)."""

RETRIES = 8
"""Broken chunks in a row before the upload gives up (the waits add up to about 4 min)."""

_TRANSIENT = (requests.ConnectionError, requests.Timeout, ServiceError)


def _transient(error: Exception) -> bool:
    """Whether a chunk's failure is worth sending on after (not a refusal of the file)."""
    if isinstance(error, _TRANSIENT):
        return True
    # a chunk's request still holding the upload, a bad chunk: plain refusals, no rule
    return isinstance(error, MyDataError) and not isinstance(error, UploadError | MyDataNotFound)


def send_chunks(client: ServiceClient, upload_id: str, path: Path, size: int, *,
                start: int | None = 0, chunk_bytes: int = CHUNK_BYTES,
                retries: int = RETRIES, pause: float = 1.0) -> dict[str, Any]:
    """Send the file ``path`` to the announced upload ``upload_id``, chunk by chunk.

    Args:
        client: the hub service's client.
        upload_id: the announced upload.
        path: the file.
        size: its size, as announced.
        start: the first byte to send; None asks the service where to go on from.
        chunk_bytes: the bytes of one chunk.
        retries: broken chunks in a row before giving up.
        pause: the first wait after a broken chunk, in seconds (doubled each time, ≤ 30 s).

    Returns:
        The answer of the last chunk (``{"id", "state": "received", "job", …}``), or the
        upload's status when the service had all of it already.

    Raises:
        UploadError: the file breaks an upload rule (nothing is kept).
        Exception: the last failure, after ``retries`` broken chunks in a row.
    """
    send = endpoint("mydata.send_upload")
    url = send.url({"upload_id": upload_id})
    failures = 0
    position = start
    with path.open("rb") as handle:
        while True:
            if position is None:
                state = client.request("mydata.upload_status", upload_id=upload_id)
                if state["state"] not in ("announced", "receiving"):
                    return state  # all in: received, publishing, ready or failed
                if state["state"] == "announced":
                    position = int(state.get("received") or 0)
                else:  # the broken chunk's request is still being let go
                    failures = _wait(failures, retries, pause, None)
                    continue
            span = ContentRange(position, min(position + chunk_bytes, size) - 1, size)
            handle.seek(span.start)
            data = handle.read(span.length)
            try:
                response = client.call(send.method, url, data=data, timeout=600, headers={
                    "Content-Range": span.header(), "Content-Type": "application/octet-stream"})
            except UploadRangeError as error:
                failures = _wait(failures, retries, 0, error)
                position = error.received
                continue
            except Exception as error:
                if not _transient(error):
                    raise
                failures = _wait(failures, retries, pause, error)
                position = None
                continue
            body = response.json()
            if response.status_code == send.status:  # the last chunk: all in, checked
                return body
            position, failures = int(body["received"]), 0


def _wait(failures: int, retries: int, pause: float, error: Exception | None) -> int:
    """Count one more broken chunk; wait before the next try, or raise after ``retries``."""
    failures += 1
    if failures > retries:
        if error is not None:
            raise error
        raise TimeoutError(f"the upload's chunks broke off {retries} times in a row")
    if pause:
        time.sleep(min(30.0, pause * 2 ** (failures - 1)))
    return failures
