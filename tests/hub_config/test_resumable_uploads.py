"""Resumable uploads: chunks with ``Content-Range`` to the hub service, going on after a
connection that broke half-way, and the refusals of chunks that do not fit.

The real hub (``hub`` fixture) for the protocol; the upload states in-process for what the
service does when it starts again (an upload half sent and abandoned is released).
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
import rasterio
import requests
from rasterio.transform import from_origin

from terralab.client.mydata import MyDataService
from terralab.client.upload_chunks import send_chunks
from terralab.mydata import store
from terralab.mydata.errors import MyDataError, UploadRangeError
from terralab.mydata.limits import UploadLimits
from terralab.mydata.upload_jobs import (
    announce,
    release_chunk,
    release_interrupted,
    take_for_body,
    upload_status,
)
from terralab.mydata.upload_ranges import ContentRange, parse_content_range, plan_chunk
from terralab.mydata.uploads import start_upload
from terralab.quotas.policy import StoragePolicy
from terralab.service.http_client import ServiceClient

MiB = 1024**2
SIDE = 8192  # 3 bands of uint8: 201 MB uncompressed


def write_big_geotiff(path: Path, side: int = SIDE) -> Path:
    """A real-format, uncompressed, tiled 3-band GeoTIFF on UTM 51N (WGS84), quickly."""
    ramp = np.arange(side, dtype=np.uint8)
    with rasterio.open(path, "w", driver="GTiff", width=side, height=side, count=3,
                       dtype="uint8", crs="EPSG:32651", tiled=True, blockxsize=512,
                       blockysize=512, transform=from_origin(220_000, 3_400_000, 1.0, 1.0)
                       ) as dst:
        for band in range(1, 4):
            dst.write(np.add.outer(ramp * np.uint8(band), ramp), band)
    return path


def api(hub, path: str) -> str:
    return f"{hub.url}/services/terralab/{path}"


def auth(hub, user: str) -> dict[str, str]:
    return {"Authorization": f"token {hub.token(user)}"}


def put_chunk(hub, user: str, put: str, data: bytes, start: int, total: int,
              **headers: str) -> requests.Response:
    span = f"bytes {start}-{start + len(data) - 1}/{total}"
    return requests.put(api(hub, put), data=data, timeout=120, headers={
        **auth(hub, user), "Content-Range": span, "Content-Type": "application/octet-stream",
        **headers})


def break_off(hub, user: str, put: str, data: bytes, start: int, total: int,
              sent: int) -> None:
    """Send one chunk's headers and only ``sent`` of its bytes, then drop the connection."""
    where = urlsplit(hub.url)
    path = urlsplit(api(hub, put)).path
    head = (f"PUT {path} HTTP/1.1\r\nHost: {where.netloc}\r\n"
            f"Authorization: token {hub.token(user)}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {len(data)}\r\n"
            f"Content-Range: bytes {start}-{start + len(data) - 1}/{total}\r\n\r\n")
    with socket.create_connection((where.hostname, where.port), timeout=30) as sock:
        sock.sendall(head.encode() + data[:sent])
        time.sleep(0.5)  # the bytes reach the service before the connection goes


def wait_state(hub, user: str, upload_id: str, wanted: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = requests.get(api(hub, f"mydata/uploads/{upload_id}"), headers=auth(hub, user),
                             timeout=30).json()
        if state["state"] == wanted or time.monotonic() > deadline:
            return state
        time.sleep(0.2)


# --- the protocol, in-process ------------------------------------------------------------

def test_content_range_and_the_plan_of_a_chunk():
    span = parse_content_range("bytes 0-8388607/20000000")
    assert (span.start, span.end, span.total, span.length) == (0, 8388607, 20000000, 8388608)
    assert not span.last and ContentRange(10, 19, 20).last
    assert span.header() == "bytes 0-8388607/20000000"
    for bad in ["bytes=0-10/20", "bytes 10-5/20", "0-10/20", "bytes 0-10/*", ""]:
        with pytest.raises(MyDataError):
            parse_content_range(bad)
    plan = lambda text, received: plan_chunk(parse_content_range(text), size=100,  # noqa: E731
                                             received=received, name="f.tif")
    assert plan("bytes 40-59/100", 40) == "append"
    assert plan("bytes 0-39/100", 40) == "repeat"
    assert plan("bytes 20-39/100", 40) == "repeat"
    for text, why in [("bytes 0-39/120", "announced with 100"), ("bytes 60-79/100", "gap"),
                      ("bytes 30-49/100", "overlap"), ("bytes 40-100/100", "beyond")]:
        with pytest.raises(UploadRangeError, match=why) as refused:
            plan(text, 40)
        assert refused.value.received == 40 and refused.value.size == 100


def test_a_half_sent_upload_is_released_when_the_service_starts_again(tmp_path):
    home = tmp_path / "home"
    policy = StoragePolicy(default=100 * MiB)
    pending = start_upload("ana", "field.tif", 10 * MiB, home=home, policy=policy)
    waiting = announce(pending, UploadLimits())
    taken = take_for_body("ana", pending.item_id, home=home)
    assert taken is not None and take_for_body("ana", pending.item_id, home=home) is None
    pending.source.write_bytes(b"\0" * MiB)
    assert release_chunk(taken) == MiB
    state = upload_status("ana", pending.item_id, home=home)
    assert state["state"] == "announced" and state["received"] == MiB
    assert state["size"] == 10 * MiB
    assert store.storage_usage("ana", policy=policy, home=home).used == 10 * MiB
    assert release_interrupted(home) == 1
    assert upload_status("ana", pending.item_id, home=home) is None
    assert not pending.staging.exists()
    assert store.storage_usage("ana", policy=policy, home=home).used == 0
    assert waiting.pending.item_id == pending.item_id


# --- through the real hub ----------------------------------------------------------------

def test_a_200_mb_upload_broken_off_half_way_goes_on_and_publishes(hub, tmp_path):
    user = "resumable-200"
    source = write_big_geotiff(tmp_path / "big-field.tif")
    size = source.stat().st_size
    assert size > 200 * 1000**2
    data = source.read_bytes()
    announced = requests.post(api(hub, "mydata/uploads"), headers=auth(hub, user),
                              json={"name": source.name, "size": size}, timeout=30)
    assert announced.status_code == 201, announced.text
    upload_id, put = announced.json()["id"], announced.json()["put"]
    chunk = 16 * MiB
    position = 0
    for _ in range(6):  # 96 MiB in
        answer = put_chunk(hub, user, put, data[position:position + chunk], position, size)
        assert answer.status_code == 200, answer.text
        position += chunk
        assert answer.json()["received"] == position
        assert answer.headers["Range"] == f"bytes=0-{position - 1}"
    break_off(hub, user, put, data[position:position + chunk], position, size, sent=5 * MiB)
    state = wait_state(hub, user, upload_id, "announced")
    assert state["state"] == "announced"
    received = state["received"]
    assert position <= received <= position + 5 * MiB, state
    assert state["size"] == size
    # the rest, from the byte the service says, by the client's own resuming sender
    client = ServiceClient(f"{hub.url}/services/terralab/", hub.token(user))
    last = send_chunks(client, upload_id, source, size, start=None, chunk_bytes=chunk)
    assert last["state"] == "received" and last["job"]["kind"] == "publish"
    record = MyDataService(client).wait_published(upload_id, timeout=300)
    assert record.id == upload_id
    published = hub.home / "users" / user / record.folder / "data.tif"
    with rasterio.open(published) as cog, rasterio.open(source) as original:
        assert (cog.width, cog.height, cog.count) == (SIDE, SIDE, 3)
        for band in (1, 2, 3):
            assert np.array_equal(cog.read(band), original.read(band)), band
    listing = requests.get(api(hub, "mydata/items"), headers=auth(hub, user), timeout=30)
    assert [item["id"] for item in listing.json()["items"]] == [upload_id]
    storage = requests.get(api(hub, "mydata/storage"), headers=auth(hub, user), timeout=30)
    assert storage.json()["used"] == record.bytes  # charged once, the reservation gone
    # the last chunk sent again after its answer was lost: answered, nothing changes
    again = put_chunk(hub, user, put, data[size - MiB:], size - MiB, size)
    assert again.status_code == 202 and again.json()["state"] == "ready"
    assert requests.get(api(hub, "mydata/storage"), headers=auth(hub, user),
                        timeout=30).json()["used"] == record.bytes


def test_chunks_that_do_not_fit_are_refused_with_what_was_received(hub):
    user = "resumable-refusals"
    headers = auth(hub, user)
    before = requests.get(api(hub, "mydata/storage"), headers=headers, timeout=30).json()
    announced = requests.post(api(hub, "mydata/uploads"), headers=headers, timeout=30,
                              json={"name": "chunks.tif", "size": 2000}).json()
    upload_id, put = announced["id"], announced["put"]
    first = put_chunk(hub, user, put, b"\1" * 1000, 0, 2000)
    assert first.status_code == 200 and first.json()["received"] == 1000
    for start, length, total, why in [(0, 1000, 3000, "announced with 2,000"),
                                      (1500, 500, 2000, "gap"), (500, 1000, 2000, "overlap"),
                                      (1000, 1500, 2000, "beyond the announced size")]:
        refused = put_chunk(hub, user, put, b"\2" * length, start, total)
        assert refused.status_code == 416, (start, refused.text)
        body = refused.json()
        assert body["error"] == "upload_range" and body["received"] == 1000
        assert why in body["message"] and "send on from byte 1000" in body["message"]
        assert refused.headers["Range"] == "bytes=0-999"
    repeated = put_chunk(hub, user, put, b"\1" * 1000, 0, 2000)  # an answer that was lost
    assert repeated.status_code == 200 and repeated.json()["received"] == 1000
    malformed = put_chunk(hub, user, put, b"\1" * 10, 0, 2000,
                          **{"Content-Range": "bytes=1000-1009"})
    assert malformed.status_code == 400 and "START-END/TOTAL" in malformed.json()["message"]
    state = requests.get(api(hub, f"mydata/uploads/{upload_id}"), headers=headers,
                         timeout=30).json()
    assert state["state"] == "announced" and state["received"] == 1000
    staging = hub.home / "staging" / f"{user}-{upload_id}"
    assert (staging / "source.tif").read_bytes() == b"\1" * 1000
    gone = requests.delete(api(hub, f"mydata/uploads/{upload_id}"), headers=headers,
                           timeout=30)
    assert gone.status_code == 204
    assert requests.get(api(hub, f"mydata/uploads/{upload_id}"), headers=headers,
                        timeout=30).status_code == 404
    assert not staging.exists()
    after = requests.get(api(hub, "mydata/storage"), headers=headers, timeout=30).json()
    assert after["used"] == before["used"]
    # a last chunk that completes a file that is no raster: the rule's message, nothing kept
    announced = requests.post(api(hub, "mydata/uploads"), headers=headers, timeout=30,
                              json={"name": "noise.tif", "size": 2000}).json()
    assert put_chunk(hub, user, announced["put"], b"\3" * 1000, 0, 2000).status_code == 200
    last = put_chunk(hub, user, announced["put"], b"\3" * 1000, 1000, 2000)
    assert last.status_code == 400 and last.json()["rule"], last.text
    assert requests.get(api(hub, f"mydata/uploads/{announced['id']}"), headers=headers,
                        timeout=30).status_code == 404
    assert not (hub.home / "staging" / f"{user}-{announced['id']}").exists()
    assert requests.get(api(hub, "mydata/storage"), headers=headers,
                        timeout=30).json()["used"] == before["used"]
