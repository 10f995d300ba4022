"""The same-origin bridge from a user's pages to the terralab hub service.

The no-code pages (Voilà dashboards, widgets in JupyterLab) run in the browser under the
user's own Jupyter server (``/user/<name>/``). They reach the hub service through this
server, never with a token in page script:

``<base_url>terralab/api/service/<path>`` forwards ``GET``, ``POST``, ``PUT``, ``PATCH`` and
``DELETE`` to ``<service URL><path>`` (the service URL of terralab's settings, e.g.
``http://127.0.0.1:8181/services/terralab/``), with the query string, with the server's own
token (``Authorization: token $JUPYTERHUB_API_TOKEN``), so the service sees the server's
owner. Request and response bodies are streamed both ways (an upload's chunks, a download of
gigabytes), with back-pressure: memory stays bounded by a few chunks. Passed through: the
status, ``Content-Type``, ``Content-Length``, ``Content-Disposition``, ``Content-Range``,
``Range`` and a few caching headers; nothing else of the browser's request (no cookie)
reaches the service.

The bridge is an ordinary Jupyter API handler: it needs the server's login (the hub's
cookie or a token; 403 otherwise, checked before the body is read, whatever the server's
``allow_unauthenticated_access``) and, for a cookie login, Jupyter's XSRF check (the page
sends the ``_xsrf`` cookie's value as ``X-XSRFToken``; fetches of a page are checked on
``GET`` too). Only paths under the service are forwarded: a path with an empty, ``.`` or
``..`` segment, or a segment that decodes to a slash, is refused (400). Without a hub (no
service in the settings, no token) it answers 503 with a message.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import iostream, web

from terralab.mydata.limits import UploadLimits
from terralab.service.endpoint import RequestError
from terralab.service.error_table import ERRORS, ServiceUnavailable
from terralab.settings import settings

if TYPE_CHECKING:
    import httpx

__all__ = ["BRIDGE_PATH", "ServiceBridgeHandler", "bridge_routes", "service_path"]

BRIDGE_PATH = "terralab/api/service/"
"""Where the bridge answers, under the server's base URL."""

_REQUEST_HEADERS = ("Accept", "Accept-Language", "Content-Type", "Content-Length",
                    "Content-Range", "Range", "If-None-Match", "If-Modified-Since")
_RESPONSE_HEADERS = ("Content-Type", "Content-Length", "Content-Disposition", "Content-Range",
                     "Range", "Content-Encoding", "Cache-Control", "ETag", "Last-Modified",
                     "Accept-Ranges", "Location")
_BODY_METHODS = ("POST", "PUT", "PATCH")
_QUEUED_CHUNKS = 4
_DRAIN_BYTES = 64 * 1024**2
_TIMEOUT = {"connect": 10.0, "read": 3600.0, "write": 600.0, "pool": 60.0}
_CLIENTS: dict[int, httpx.AsyncClient] = {}


class _NoCookies(http.cookiejar.CookieJar):
    """Keeps no cookie: the service's answers to one user's requests set none for others."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        """Keep nothing."""

    def set_cookie(self, cookie: Any) -> None:
        """Keep nothing."""


def _client() -> httpx.AsyncClient:
    """This event loop's HTTP client of the hub service (kept, so connections are reused).

    httpx is imported here, on the first forwarded request, not with the extension: its
    import (with its command-line interface's ``rich``) costs ~0.2 s of every user server's
    start (benchmarks/hub.py).
    """
    import httpx

    loop = id(asyncio.get_running_loop())
    if loop not in _CLIENTS:
        _CLIENTS[loop] = httpx.AsyncClient(timeout=httpx.Timeout(**_TIMEOUT),
                                           follow_redirects=False, trust_env=False,
                                           cookies=_NoCookies())
    return _CLIENTS[loop]


def service_path(raw: str) -> str:
    """Check the part of a bridge URL after :data:`BRIDGE_PATH` (still percent-encoded).

    Returns:
        ``raw``, to be joined to the service's URL.

    Raises:
        RequestError: a path that could leave the service (empty, ``.`` or ``..`` segments,
            an encoded slash or backslash, control characters, a scheme).
    """
    segments = raw.split("/")
    for number, segment in enumerate(segments):
        text = unquote(segment)
        if (not text or text in (".", "..") or "/" in text or "\\" in text
                or any(ord(char) < 32 for char in text) or (number == 0 and ":" in text)):
            raise RequestError(f"{raw!r} is not a path of the hub service: the bridge "
                               "forwards plain relative paths only (no empty, '.' or '..' "
                               "segments)")
    return raw


def _target() -> tuple[str, str]:
    """The service's URL (ending with ``/``) and the server's token.

    Raises:
        ServiceUnavailable: this server has no terralab hub service.
    """
    configured = settings()
    url, token = configured.service.url, configured.hub.api_token
    if not url or not token:
        raise ServiceUnavailable("this Jupyter server runs without a terralab hub, so there "
                                 "is no hub service to forward to (the pages that need it "
                                 "work inside a terralab hub only)")
    return url.rstrip("/") + "/", token


@web.stream_request_body
class ServiceBridgeHandler(APIHandler):
    """``<base_url>terralab/api/service/<path>``: forwards to the hub service (see module)."""

    SUPPORTED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

    _task: asyncio.Future[None] | None = None
    _refusal: Exception | None = None
    _chunks: asyncio.Queue[bytes | None]
    _content_type: str | None = None

    async def prepare(self) -> None:  # type: ignore[override]
        """Check the login (and XSRF), the path and the hub; start forwarding the request.

        A refused request is answered once its body is read and dropped (up to
        :data:`_DRAIN_BYTES`; a larger one at once, closing the connection): a server that
        answers while the proxy in front still sends makes the proxy answer 503 instead.
        """
        self._chunks = asyncio.Queue(maxsize=_QUEUED_CHUNKS)
        try:
            await super().prepare()  # XSRF, origin: Jupyter's API rules
            if self.request.method == "OPTIONS":
                return
            if not self.current_user:  # checked here, before a byte of the body is read
                raise PermissionError("log in to this Jupyter server first (through the "
                                      "hub; a page sends its _xsrf cookie as X-XSRFToken)")
            path = service_path(self._raw_path())
            service, token = _target()
        except (web.HTTPError, PermissionError, RequestError, ServiceUnavailable) as error:
            self._refusal = error
            text = self.request.headers.get("Content-Length", "")
            length = int(text) if text.isdigit() else None
            if length is not None and length > _DRAIN_BYTES:
                self.set_header("Connection", "close")
                self._answer_refusal()
            self.request.connection.set_max_body_size(length or _DRAIN_BYTES)
            return
        if self.request.method in _BODY_METHODS:  # a whole upload goes through too
            self.request.connection.set_max_body_size(UploadLimits.from_env().max_bytes
                                                      + (1 << 20))
        url = service + path + (f"?{self.request.query}" if self.request.query else "")
        headers = {name: self.request.headers[name] for name in _REQUEST_HEADERS
                   if name in self.request.headers}
        headers["Authorization"] = f"token {token}"
        headers["Accept-Encoding"] = "identity"  # the bytes go through as they come
        self._task = asyncio.ensure_future(self._forward(url, headers, service))
        self._task.add_done_callback(self._drain)

    def _answer_refusal(self) -> None:
        """Answer the refusal :meth:`prepare` found (raises, to end the request)."""
        error = self._refusal
        if isinstance(error, web.HTTPError):
            raise error
        assert error is not None
        self._refuse(error)
        raise web.Finish()

    def _raw_path(self) -> str:
        """The requested path after the bridge's prefix, as sent (still percent-encoded)."""
        raw, prefix = self.request.path, url_path_join(self.base_url, BRIDGE_PATH)
        if raw.startswith(prefix):
            return raw[len(prefix):]
        return raw[raw.find("/" + BRIDGE_PATH) + len(BRIDGE_PATH) + 1:]

    def _refuse(self, error: Exception) -> None:
        """Answer ``error`` from the error table (JSON ``{"status", "message", "error"}``)."""
        status, body = ERRORS.answer_known(error)
        self.set_status(status)
        self.finish(json.dumps(body))

    def _has_body(self) -> bool:
        length = self.request.headers.get("Content-Length")
        return (self.request.method in _BODY_METHODS or (length not in (None, "0"))
                or "Transfer-Encoding" in self.request.headers)

    async def _body(self) -> Any:
        """The request's body, as it arrives (for the HTTP client)."""
        while True:
            chunk = await self._chunks.get()
            if chunk is None:
                return
            yield chunk

    def _drain(self, _task: Any) -> None:
        """The forwarding ended: unblock (and drop) what the body still queues."""
        while not self._chunks.empty():
            self._chunks.get_nowait()

    async def data_received(self, chunk: bytes) -> None:
        """Queue a piece of the request's body for the service (back-pressure: a few)."""
        if self._task is not None and not self._task.done():
            await self._chunks.put(chunk)

    def _location(self, location: str, service: str) -> str:
        """A redirect inside the service, pointed at the bridge; others as they are."""
        service_root = urlsplit(service).path
        for root in (service, service_root):
            if location.startswith(root):
                return url_path_join(self.base_url, BRIDGE_PATH, location[len(root):])
        return location

    async def _forward(self, url: str, headers: dict[str, str], service: str) -> None:
        """Send the request to the service; stream its answer back to the browser."""
        import httpx  # loaded by _client() already

        client = _client()
        content = self._body() if self._has_body() else None
        request = client.build_request(self.request.method or "GET", url, headers=headers,
                                       content=content)
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as error:
            self.log.warning("terralab bridge: %s %s: %s", request.method, url, error)
            raise ServiceUnavailable("the hub service does not answer; try again in a "
                                     "moment") from None
        try:
            self.set_status(response.status_code, response.reason_phrase or None)
            for name in _RESPONSE_HEADERS:
                if name in response.headers:
                    value = response.headers[name]
                    if name == "Location":
                        value = self._location(value, service)
                    self.set_header(name, value)
            self._content_type = response.headers.get("Content-Type")
            async for piece in response.aiter_raw():
                self.write(piece)
                await self.flush()
        finally:
            await response.aclose()

    async def _answer(self) -> None:
        """Wait for the forwarding; answer a failure before the service's answer began."""
        if self._refusal is not None:
            self._answer_refusal()
        if self._task is None:
            return
        if self._has_body():
            await self._chunks.put(None)  # the body is all in
        try:
            await self._task
        except ServiceUnavailable as error:
            if not self._headers_written:
                self._refuse(error)
            return
        except (iostream.StreamClosedError, asyncio.CancelledError):
            return  # the browser went away
        if not self._finished:
            self.finish()

    def finish(self, *args: Any, **kwargs: Any) -> Any:
        """Finish with the service's ``Content-Type`` (Jupyter's API answers say JSON)."""
        kwargs.setdefault("set_content_type", self._content_type or "application/json")
        return super().finish(*args, **kwargs)

    def on_finish(self) -> None:
        """The answer is sent (or refused early): nothing goes on forwarding."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def on_connection_close(self) -> None:
        """The browser went away: stop forwarding (a chunk's upload keeps what arrived)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        super().on_connection_close()

    @web.authenticated
    async def get(self, _path: str) -> None:
        """Forward a ``GET``."""
        await self._answer()

    @web.authenticated
    async def post(self, _path: str) -> None:
        """Forward a ``POST`` (body streamed)."""
        await self._answer()

    @web.authenticated
    async def put(self, _path: str) -> None:
        """Forward a ``PUT`` (body streamed: an upload or one chunk of it)."""
        await self._answer()

    @web.authenticated
    async def patch(self, _path: str) -> None:
        """Forward a ``PATCH``."""
        await self._answer()

    @web.authenticated
    async def delete(self, _path: str) -> None:
        """Forward a ``DELETE``."""
        await self._answer()


def bridge_routes(base_url: str) -> list[tuple[str, type[web.RequestHandler]]]:
    """The bridge's route under the server's ``base_url``."""
    return [(url_path_join(base_url, BRIDGE_PATH, "(.*)"), ServiceBridgeHandler)]
