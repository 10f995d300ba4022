"""The same-origin bridge of a user's Jupyter server to the hub service.

Two servers of their own: one in front of a stand-in service (a small HTTP server in this
process that records what reaches it), for the forwarding itself — paths, query, bodies and
headers both ways, the server's token, nothing of the browser's — and one without a hub
(503). Then the real thing: a user's server started by the test hub, called as a browser
calls it (the hub's cookies, Jupyter's XSRF).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from terralab.extension.bridge import service_path
from terralab.hub.ports import free_port
from terralab.service.endpoint import RequestError
from tests.extension.test_tiles_extension import start_jupyter_server

TOKEN = "bridge-test-token"  # the browser's login to the server (a token, in these tests)
SERVER_TOKEN = "the-servers-own-hub-token"  # what the server sends the service
BASE = "/user/carol/"
BIG = 20 * 1024**2 + 123  # a download and an upload larger than a few buffers


@dataclass
class StandIn:
    """A stand-in hub service: records each request it is sent."""

    url: str
    seen: list[dict[str, Any]] = field(default_factory=list)


def _stand_in_handler(seen: list[dict[str, Any]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _record(self, body: bytes | None = None) -> dict[str, Any]:
            record = {"method": self.command, "path": self.path,
                      "headers": {k.lower(): v for k, v in self.headers.items()},
                      "bytes": len(body or b""),
                      "sha": hashlib.sha256(body or b"").hexdigest()}
            seen.append(record)
            return record

        def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None
                  ) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Set-Cookie", "service-cookie=1")  # never passed on
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            record = self._record()
            if self.path.startswith("/services/terralab/file"):
                self.send_response(200)
                self.send_header("Content-Type", "image/tiff")
                self.send_header("Content-Length", str(BIG))
                self.send_header("Content-Disposition", 'attachment; filename="field.tif"')
                self.end_headers()
                block = bytes(range(256)) * 4096
                left = BIG
                while left:
                    piece = block[:min(left, len(block))]
                    self.wfile.write(piece)
                    left -= len(piece)
                return
            if self.path.startswith("/services/terralab/moved"):
                self.send_response(302)
                self.send_header("Location", "/services/terralab/echo?from=moved")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.path.startswith("/services/terralab/missing"):
                self._json(404, {"status": 404, "message": "no such thing", "error": "x"})
                return
            self._json(200, record)

        def _with_body(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            record = self._record(body)
            self._json(200, record, {"Range": f"bytes=0-{max(length - 1, 0)}"})

        do_PUT = do_POST = do_PATCH = _with_body  # noqa: N815

        def do_DELETE(self) -> None:
            self._record()
            self.send_response(204)
            self.end_headers()

    return Handler


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StandIn]:
    seen: list[dict[str, Any]] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _stand_in_handler(seen))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield StandIn(f"http://127.0.0.1:{server.server_address[1]}/services/terralab/", seen)
    server.shutdown()


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def bridged(stand_in, tmp_path_factory) -> Iterator[str]:
    """A Jupyter server whose settings name the stand-in service; its bridge's URL."""
    port = free_port()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TERRALAB_SERVICE_URL", stand_in.url)
        patch.setenv("JUPYTERHUB_API_TOKEN", SERVER_TOKEN)
        process = start_jupyter_server(tmp_path_factory.mktemp("bridge"), "carol", port,
                                       TOKEN, base_url=BASE)
    yield f"http://127.0.0.1:{port}{BASE}terralab/api/service/"
    _stop(process)


def _auth() -> dict[str, str]:
    return {"Authorization": f"token {TOKEN}"}


def test_service_paths_are_checked():
    assert service_path("mydata/items/a%20b/download") == "mydata/items/a%20b/download"
    for bad in ["", "../hub/api/users", "mydata/../../hub", "a//b", "mydata/%2E%2E/x",
                "mydata%2F..%2Fhub", "http:/evil", "a/%5C..", "a/%0a"]:
        with pytest.raises(RequestError):
            service_path(bad)


def test_get_with_query_goes_with_the_servers_token_only(bridged, stand_in):
    answer = requests.get(bridged + "echo/a%20b", params={"q": "x y", "n": "2"},
                          headers={**_auth(), "Cookie": "jupyterhub-session-id=secret",
                                   "Accept-Language": "zh-CN"}, timeout=30)
    assert answer.status_code == 200, answer.text
    seen = answer.json()
    assert seen["path"] == "/services/terralab/echo/a%20b?q=x+y&n=2"
    assert seen["headers"]["authorization"] == f"token {SERVER_TOKEN}"
    assert seen["headers"]["accept-language"] == "zh-CN"
    assert "cookie" not in seen["headers"]
    assert "service-cookie" not in answer.headers.get("Set-Cookie", "")
    again = requests.get(bridged + "echo", headers=_auth(), timeout=30).json()
    assert "cookie" not in again["headers"]  # the service's cookie is kept for nobody
    assert answer.headers["Content-Type"] == "application/json"


def test_a_large_body_is_streamed_through_with_its_range(bridged, stand_in):
    body = bytes(range(251)) * (BIG // 251 + 1)
    body = body[:BIG]
    answer = requests.put(bridged + "mydata/uploads/u1", data=body, timeout=60,
                          headers={**_auth(), "Content-Range": f"bytes 0-{BIG - 1}/{BIG}",
                                   "Content-Type": "application/octet-stream"})
    assert answer.status_code == 200, answer.text
    seen = answer.json()
    assert seen["bytes"] == BIG and seen["sha"] == hashlib.sha256(body).hexdigest()
    assert seen["headers"]["content-range"] == f"bytes 0-{BIG - 1}/{BIG}"
    assert seen["headers"]["content-length"] == str(BIG)
    assert "transfer-encoding" not in seen["headers"]
    assert answer.headers["Range"] == f"bytes=0-{BIG - 1}"
    posted = requests.post(bridged + "things", json={"a": 1}, headers=_auth(), timeout=30)
    assert posted.json()["bytes"] == len(b'{"a": 1}')
    gone = requests.delete(bridged + "things/1", headers=_auth(), timeout=30)
    assert gone.status_code == 204 and stand_in.seen[-1]["method"] == "DELETE"


def test_a_download_streams_back_with_its_headers(bridged):
    with requests.get(bridged + "file", headers=_auth(), stream=True, timeout=60) as answer:
        assert answer.status_code == 200
        assert answer.headers["Content-Disposition"] == 'attachment; filename="field.tif"'
        assert answer.headers["Content-Type"] == "image/tiff"
        assert answer.headers["Content-Length"] == str(BIG)
        size = sum(len(piece) for piece in answer.iter_content(1 << 20))
    assert size == BIG


def test_statuses_and_redirects_pass_through(bridged):
    missing = requests.get(bridged + "missing", headers=_auth(), timeout=30)
    assert missing.status_code == 404 and missing.json()["message"] == "no such thing"
    moved = requests.get(bridged + "moved", headers=_auth(), timeout=30,
                         allow_redirects=False)
    assert moved.status_code == 302
    assert moved.headers["Location"] == f"{BASE}terralab/api/service/echo?from=moved"


def test_no_login_no_escape(bridged, stand_in):
    before = len(stand_in.seen)
    assert requests.get(bridged + "echo", timeout=30).status_code == 403
    assert requests.put(bridged + "echo", data=b"x" * 1000, timeout=30).status_code == 403
    for bad in ["..%2F..%2Fhub%2Fapi", "mydata/%2E%2E/%2E%2E/hub", "a//b"]:
        refused = requests.get(bridged + bad, headers=_auth(), timeout=30)
        assert refused.status_code == 400, (bad, refused.text)
        assert "not a path of the hub service" in refused.json()["message"]
    assert [seen["path"] for seen in stand_in.seen[before:]] == []


def test_without_a_hub_the_bridge_says_so(tmp_path):
    port = free_port()
    process = start_jupyter_server(tmp_path, "dave", port, TOKEN, base_url=BASE)
    try:
        answer = requests.get(f"http://127.0.0.1:{port}{BASE}terralab/api/service/mydata/"
                              "storage", headers=_auth(), timeout=30)
    finally:
        _stop(process)
    assert answer.status_code == 503
    assert "without a terralab hub" in answer.json()["message"]


# --- through the real hub, as the browser calls it ---------------------------------------

BRIDGE_USER = "bridge-user"


@pytest.fixture(scope="module")
def browser_session(hub) -> Iterator[requests.Session]:
    """``bridge-user`` logged in, with their server started and its cookies (as a browser)."""
    if BRIDGE_USER not in hub.logins:
        hub.account(BRIDGE_USER, "bridge-pass-123")
    hub.start_server(BRIDGE_USER)
    session = hub.session(BRIDGE_USER)
    landing = session.get(f"{hub.url}/user/{BRIDGE_USER}/lab", timeout=120)
    assert landing.status_code == 200, landing.text  # the server's OAuth login is done
    yield session
    hub.stop_server(BRIDGE_USER)


def _xsrf(session: requests.Session) -> str:
    for cookie in session.cookies:
        if cookie.name == "_xsrf" and cookie.path.startswith(f"/user/{BRIDGE_USER}"):
            return cookie.value
    raise AssertionError("the user's server set no _xsrf cookie")


def test_the_bridge_through_the_hub(hub, browser_session):
    session = browser_session
    bridge = f"{hub.url}/user/{BRIDGE_USER}/terralab/api/service/"
    storage = session.get(bridge + "mydata/storage", timeout=60)
    assert storage.status_code == 200, storage.text
    assert storage.json()["used"] == 0 and storage.json()["limit"] > 0
    # a page's fetch (Sec-Fetch-Mode: cors) needs the XSRF header on GET too
    fetched = session.get(bridge + "mydata/storage", timeout=60,
                          headers={"Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "same-origin",
                                   "X-XSRFToken": _xsrf(session)})
    assert fetched.status_code == 200, fetched.text
    announce = {"name": "field.tif", "size": 2000}
    refused = session.post(bridge + "mydata/uploads", json=announce, timeout=60)
    assert refused.status_code == 403
    put = session.put(bridge + "mydata/uploads/nothing", data=b"x" * 10, timeout=60)
    assert put.status_code == 403
    announced = session.post(bridge + "mydata/uploads", json=announce, timeout=60,
                             headers={"X-XSRFToken": _xsrf(session)})
    assert announced.status_code == 201, announced.text
    upload = announced.json()
    chunk = session.put(bridge + upload["put"], data=b"\0" * 1000, timeout=60,
                        headers={"X-XSRFToken": _xsrf(session),
                                 "Content-Range": "bytes 0-999/2000"})
    assert chunk.status_code == 200, chunk.text
    assert chunk.json()["received"] == 1000 and chunk.headers["Range"] == "bytes=0-999"
    cancelled = session.delete(bridge + upload["put"], timeout=60,
                               headers={"X-XSRFToken": _xsrf(session)})
    assert cancelled.status_code == 204, cancelled.text
    # a path escaping the service is refused, not forwarded to the hub
    escaped = session.get(bridge + "..%2F..%2F..%2Fhub%2Fapi%2Fusers", timeout=60)
    assert escaped.status_code == 400 and escaped.json()["error"] == "bad_request"
