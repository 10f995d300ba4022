"""Uploads through the real hub (JupyterHub, configurable-http-proxy, the hub service):
a refused PUT does not poison the proxy (issue failure 10), heavy uploads are published on
the workers (failure 9), and a restart of the service strands no reservation (quota hole)."""

from __future__ import annotations

import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
import rasterio
import requests
from rasterio.crs import CRS
from rasterio.transform import from_origin

from terralab.client.mydata import MyDataService
from terralab.quotas.ledger import AI_SECONDS
from terralab.quotas.ledger import used as used_quota
from terralab.service.http_client import ServiceClient
from terralab.settings import DOCUMENT_VARIABLE, read_settings

pytestmark = pytest.mark.hub

MB = 1024**2


def _url(hub, path: str) -> str:
    return f"{hub.url}/services/terralab/{path}"


def _auth(hub, user: str) -> dict[str, str]:
    return {"Authorization": f"token {hub.token(user)}"}


def test_a_refused_put_does_not_break_other_users_requests(hub):
    """issue failure 10: a PUT refused before its body was read reset the proxy's
    connection (ECONNRESET) and other users' next requests got 503. Each refused PUT now
    gets its own answer and the requests right after it answer normally."""
    body = b"\0" * (8 * MB)
    others = [f"bystander{i}" for i in range(3)]
    for user in others:
        hub.token(user)
    announced = requests.post(_url(hub, "mydata/uploads"), headers=_auth(hub, "refused10"),
                              json={"name": "small.tif", "size": 1000}, timeout=30)
    assert announced.status_code == 201, announced.text
    refusals = [
        (announced.json()["put"], 400),            # more bytes than announced
        ("mydata/uploads/no-such-upload", 404),    # an id nobody announced
        (announced.json()["put"], 404),            # the refused upload is gone
    ]
    for path, status in refusals:
        with requests.Session() as session:
            response = session.put(_url(hub, path), data=body, timeout=60,
                                   headers=_auth(hub, "refused10"))
            assert response.status_code == status, (path, response.status_code,
                                                    response.text[:200])
        for _ in range(2):
            for user in others:
                answer = requests.get(_url(hub, "mydata/storage"), headers=_auth(hub, user),
                                      timeout=30)
                assert answer.status_code == 200, (path, user, answer.status_code,
                                                   answer.text[:200])
    storage = requests.get(_url(hub, "mydata/storage"), headers=_auth(hub, "refused10"),
                           timeout=30).json()
    assert storage["used"] == 0  # the refused upload's reservation is released


def _sparse_tif(path: Path, side: int) -> Path:
    """A GeoTIFF of ``side``² pixels with no block written: a few KB that pass every upload
    rule but take seconds to publish (every pixel is read, a COG with overviews written)."""
    with rasterio.open(path, "w", driver="GTiff", width=side, height=side, count=3,
                       dtype="uint8", crs="EPSG:4326", tiled=True, blockxsize=512,
                       blockysize=512, compress="deflate", sparse_ok=True,
                       transform=from_origin(119.0, 31.0, 1e-5, 1e-5)):
        pass
    return path


def _upload(hub, user: str, path: Path) -> requests.Response:
    """Announce and PUT a file as raw requests (the answer of the PUT)."""
    announced = requests.post(_url(hub, "mydata/uploads"), headers=_auth(hub, user),
                              json={"name": path.name, "size": path.stat().st_size},
                              timeout=30)
    assert announced.status_code == 201, announced.text
    return requests.put(_url(hub, announced.json()["put"]), data=path.read_bytes(),
                        headers=_auth(hub, user), timeout=600)


def _uploads_beside_another_user(hub, uploader: str, path: Path, count: int, other: str,
                                 tries: int) -> tuple[list[requests.Response], float]:
    """PUT ``count`` copies of ``path`` at once as ``uploader`` while ``other`` asks for their
    storage ``tries`` times; returns the PUTs' answers and the slowest of ``other``'s."""
    with ThreadPoolExecutor(count) as pool:
        puts = [pool.submit(_upload, hub, uploader, path) for _ in range(count)]
        time.sleep(1.5)
        slowest = 0.0
        for _ in range(tries):
            started = time.monotonic()
            answer = requests.get(_url(hub, "mydata/storage"), headers=_auth(hub, other),
                                  timeout=600)
            slowest = max(slowest, time.monotonic() - started)
            assert answer.status_code == 200
            time.sleep(0.3)
        return [put.result() for put in puts], slowest


def test_heavy_tiny_uploads_do_not_slow_other_users(hub, tmp_path):
    """issue failure 9: sparse GeoTIFFs of a few KB each took seconds to publish on the
    service's request threads, and a handful at once made another user's GET
    mydata/storage wait for them. Publishing now runs on the workers as queued jobs of kind
    ``publish`` of their owner; the service answers others at once."""
    tiny = _sparse_tif(tmp_path / "sparse.tif", 12_000)
    assert tiny.stat().st_size < 100_000
    heavy_user, other = "heavy9", "other9"
    for user in (heavy_user, other):  # both are signed in and known to the service
        assert requests.get(_url(hub, "mydata/storage"), headers=_auth(hub, user),
                            timeout=30).status_code == 200
    # a service that has run a while has its tool registry loaded (torch imported)
    assert requests.get(_url(hub, "tools"), headers=_auth(hub, other),
                        timeout=120).status_code == 200
    # more uploads at once than the service has threads for blocking work
    count = min(32, (os.cpu_count() or 1) + 4) + 2
    answers, slowest = _uploads_beside_another_user(hub, heavy_user, tiny, count, other,
                                                   tries=8)
    assert slowest < 2.0, f"another user's GET mydata/storage took {slowest:.1f} s"
    assert [a.status_code for a in answers] == [202] * count, answers[0].text[:300]
    body = answers[0].json()
    job = requests.get(_url(hub, f"jobs/{body['job']['id']}"), headers=_auth(hub, heavy_user),
                       timeout=30).json()
    assert job["kind"] == "publish" and job["owner"] == heavy_user
    assert job["status"] in ("queued", "running", "succeeded")
    listed = requests.get(_url(hub, "tools"), headers=_auth(hub, other), timeout=30).json()
    assert "publish_upload" not in [tool["name"] for tool in listed["tools"]]
    # the first one is published by a worker, like any upload; cancel the rest (a queued
    # one at once; one the worker has started may still finish, one it has published stays)
    for answer in answers[1:]:
        cancelled = requests.delete(_url(hub, answer.json()["status"]),
                                    headers=_auth(hub, heavy_user), timeout=30)
        # 404: the worker had published it already (no upload waits under that id)
        assert cancelled.status_code in (204, 404), cancelled.text
    client = MyDataService(ServiceClient(f"{hub.url}/services/terralab/",
                                         hub.token(heavy_user)))
    record = client.wait_published(body["status"], timeout=300)
    assert record.data_type == "raster" and record.title == "sparse.tif"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        states = [requests.get(_url(hub, a.json()["status"]), headers=_auth(hub, heavy_user),
                               timeout=30).json() for a in answers[1:]]
        if all(state["state"] in ("failed", "ready") for state in states):
            break
        time.sleep(0.5)
    ended = [state["state"] for state in states]
    assert set(ended) <= {"failed", "ready"} and "failed" in ended, states
    kept = client.list(kind="upload")
    assert {item.id for item in kept} == {record.id} | {
        state["id"] for state in states if state["state"] == "ready"}
    used = requests.get(_url(hub, "mydata/storage"), headers=_auth(hub, heavy_user),
                        timeout=30).json()["used"]
    assert used == sum(item.bytes for item in kept)  # the cancelled ones hold no quota
    leftovers = [p for p in (hub.home / "staging").glob(f"{heavy_user}-*")]
    assert leftovers == []
    assert used_quota(heavy_user, AI_SECONDS, home=hub.home) == 0  # never AI time


def _slow_header_img(path: Path) -> Path:
    """A 1,024² Erdas Imagine file on an unnamed GRS 1980 datum: refused for its datum, but
    only after GDAL spent seconds identifying its CRS (a finding of the upload fuzzer)."""
    crs = CRS.from_wkt(
        'GEOGCS["unnamed",DATUM["unnamed",SPHEROID["GRS 1980",6378137,298.257222101]],'
        'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]')
    with rasterio.open(path, "w", driver="HFA", width=1024, height=1024, count=3,
                       dtype="uint8", crs=crs, transform=from_origin(110.0, 30.0, 1e-5, 1e-5)):
        pass
    return path


def test_slow_header_checks_do_not_hold_other_users_requests(hub, tmp_path):
    """The header check of a received upload opens it with GDAL, which takes seconds for
    some tiny files; a user sending many at once held every thread the service answers
    other users with. The checks now run on a pool of their own."""
    slow = _slow_header_img(tmp_path / "slow.img")
    started = time.monotonic()
    with rasterio.open(slow) as dataset:
        assert dataset.crs is not None
    if time.monotonic() - started < 0.5:
        pytest.skip("this GDAL identifies the CRS at once: nothing is slow to check")
    uploader, other = "slowheader", "otherheader"
    for user in (uploader, other):
        assert requests.get(_url(hub, "mydata/storage"), headers=_auth(hub, user),
                            timeout=30).status_code == 200
    count = min(32, (os.cpu_count() or 1) + 4) + 1  # one more than the shared threads
    answers, slowest = _uploads_beside_another_user(hub, uploader, slow, count, other,
                                                   tries=5)
    assert slowest < 2.0, f"another user's GET mydata/storage took {slowest:.1f} s"
    assert [a.status_code for a in answers] == [400] * count, answers[0].text[:300]
    assert "datum" in answers[0].json()["message"]


def _service_process(hub) -> psutil.Process:
    """The hub service process of this hub (its command, and the home of its settings)."""
    for process in psutil.process_iter(["cmdline"]):
        try:
            if "terralab.hub.service" not in " ".join(process.info["cmdline"] or ()):
                continue
            document = process.environ().get(DOCUMENT_VARIABLE)
            if document and read_settings({DOCUMENT_VARIABLE: document}).home == hub.home:
                return process
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    raise AssertionError("the hub service process was not found")


def _wait_restarted(hub, old_pid: int, timeout: float = 120) -> None:
    """Wait until JupyterHub has started the service again (it polls every 30 s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            restarted = _service_process(hub).pid != old_pid
        except AssertionError:
            restarted = False
        try:
            if restarted and requests.get(_url(hub, "health"), timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError("the hub service did not come back")


def test_a_service_restart_mid_upload_releases_its_reservation(hub):
    """Quota hole: a restart of the service during an upload left its reservation and its
    staging file for 6 h, and the user could not cancel it (404). Announced uploads are
    recorded in the platform database and released when the service starts again."""
    user, size = "restart15", 6 * MB
    announced = requests.post(_url(hub, "mydata/uploads"), headers=_auth(hub, user),
                              json={"name": "big.tif", "size": size}, timeout=30).json()
    staging = hub.home / "staging" / f"{user}-{announced['id']}"
    # a PUT that sends its headers and a part of its body, then stalls
    port = int(hub.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall((f"PUT /services/terralab/{announced['put']} HTTP/1.1\r\n"
                      f"Host: 127.0.0.1:{port}\r\nAuthorization: token {hub.token(user)}\r\n"
                      f"Content-Length: {size}\r\n\r\n").encode() + b"\0" * MB)
        deadline = time.monotonic() + 30
        source = staging / "source.tif"
        while not (source.is_file() and source.stat().st_size > 0):
            assert time.monotonic() < deadline, "the body never reached the staging file"
            time.sleep(0.1)
        used = requests.get(_url(hub, "mydata/storage"), headers=_auth(hub, user),
                            timeout=30).json()["used"]
        assert used == size  # reserved while it is received
        service = _service_process(hub)
        service.kill()  # the service stops mid-upload (a crash, a deploy)
        _wait_restarted(hub, service.pid)
    storage = requests.get(_url(hub, "mydata/storage"), headers=_auth(hub, user),
                           timeout=30).json()
    assert storage["used"] == 0, storage
    assert not staging.exists()
    # and the user can start again at once
    again = requests.post(_url(hub, "mydata/uploads"), headers=_auth(hub, user),
                          json={"name": "big.tif", "size": size}, timeout=30)
    assert again.status_code == 201
    assert requests.delete(_url(hub, again.json()["put"]), headers=_auth(hub, user),
                           timeout=30).status_code == 204
