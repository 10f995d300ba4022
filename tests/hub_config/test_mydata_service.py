"""Uploads and my data through the real hub: the service publishes and charges, the user's
own Jupyter server serves the tiles, and nobody else reaches any of it."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
import requests
from rasterio.io import MemoryFile
from rasterio.windows import Window

from terralab.client.mydata import MyDataService
from terralab.mydata.errors import MyDataError, UploadError
from terralab.service.http_client import ServiceClient

pytestmark = pytest.mark.hub

MB = 1024**2



def token(hub, user: str) -> str:
    """A token of ``user`` (a plain user the admin creates, unless admin or demo)."""
    return hub.token(user)


def service(hub, user: str) -> MyDataService:
    return MyDataService(ServiceClient(f"{hub.url}/services/terralab/", token(hub, user)))


def api(hub, path: str) -> str:
    return f"{hub.url}/services/terralab/{path}"


def auth(hub, user: str) -> dict[str, str]:
    return {"Authorization": f"token {token(hub, user)}"}


def pad_to_1024(source: Path, target: Path) -> Path:
    """The real 400×400 aerial sample in the top-left of a 1024×1024 image (nodata 0)."""
    with rasterio.open(source) as src:
        profile = src.profile | {"width": 1024, "height": 1024, "nodata": 0,
                                 "tiled": True, "blockxsize": 256, "blockysize": 256,
                                 "compress": "deflate"}
        data = src.read()
    with rasterio.open(target, "w", **profile) as dst:
        dst.write(np.zeros((data.shape[0], 1024, 1024), dtype=data.dtype))
        dst.write(data, window=Window(0, 0, data.shape[2], data.shape[1]))
    return target


def decode_png(content: bytes) -> np.ndarray:
    with MemoryFile(content) as memory, memory.open() as png:
        return png.read()


@pytest.fixture(scope="module")
def padded(real_data, tmp_path_factory) -> Path:
    return pad_to_1024(real_data / "aerial_0p1m" / "OSBS_029.tif",
                       tmp_path_factory.mktemp("upload") / "OSBS_029_padded.tif")


@pytest.fixture(scope="module")
def uploaded(hub, padded):
    """demo's upload of the padded real sample, through the service."""
    return service(hub, "demo").upload(padded, title="OSBS forest")


def test_upload_is_published_and_listed(hub, uploaded, padded):
    assert uploaded.owner == "demo" and uploaded.title == "OSBS forest"
    folder = hub.home / "users" / "demo" / uploaded.folder
    with rasterio.open(folder / "data.tif") as cog, rasterio.open(padded) as src:
        assert cog.crs == src.crs and cog.overviews(1)
        assert np.array_equal(cog.read(), src.read())
    listing = requests.get(api(hub, "mydata/items"), headers=auth(hub, "demo"), timeout=30)
    assert uploaded.id in [item["id"] for item in listing.json()["items"]]
    found = requests.post(api(hub, "catalog/search"), headers=auth(hub, "demo"), timeout=30,
                          json={"collections": ["my-data"], "bbox": uploaded.item["bbox"]})
    assert [f["id"] for f in found.json()["features"]] == [uploaded.id]
    storage = requests.get(api(hub, "mydata/storage"), headers=auth(hub, "demo"), timeout=30)
    assert storage.json()["used"] >= uploaded.bytes > 0
    thumb = requests.get(api(hub, f"catalog/items/{uploaded.id}/thumbnail"),
                         headers=auth(hub, "demo"), timeout=30)
    assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/png"
    assert decode_png(thumb.content)[:3].max() > 0


def _centre_tile(item: dict, zoom: int) -> tuple[int, int, int]:
    import morecantile

    west, south, east, north = item["bbox"]
    # the real image is the top-left 400×400 of the padded 1024×1024
    lon = west + (east - west) * 0.2
    lat = north - (north - south) * 0.2
    tile = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, zoom)
    return tile.z, tile.x, tile.y


def test_tiles_come_from_the_users_own_server(hub, uploaded, padded):
    from rio_tiler.io import Reader

    hub.start_server("demo")
    # at zoom 21 (7.5 cm pixels) both sides read the full-resolution 10 cm pixels
    z, x, y = _centre_tile(uploaded.item, 21)
    url = f"{hub.url}/user/demo/terralab/tiles/{z}/{x}/{y}.png"
    response = requests.get(url, params={"item": uploaded.id, "rescale": "0,255"},
                            headers=auth(hub, "demo"), timeout=60)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "image/png"
    pixels = decode_png(response.content)
    with Reader(str(padded)) as source:
        expected = source.tile(x, y, z, tilesize=256)
    rgb = pixels[:3]
    assert rgb.max() > 0 and rgb.std() > 5                      # a real image, not blank
    valid = expected.mask > 0
    assert valid.mean() > 0.2                                   # the image fills part of it
    difference = np.abs(rgb.astype(int) - expected.data.astype(int))[:, valid]
    assert np.median(difference) <= 1 and difference.mean() < 3


def test_a_second_user_reaches_none_of_it(hub, uploaded):
    item = uploaded.id
    for path in (f"catalog/items/{item}/thumbnail", f"catalog/items/{item}/download?asset=data",
                 f"mydata/items/{item}", f"mydata/items/{item}/download",
                 f"mydata/items/{item}/thumbnail"):
        response = requests.get(api(hub, path), headers=auth(hub, "bob"), timeout=30)
        assert response.status_code in (403, 404), (path, response.status_code)
    for method in ("PATCH", "DELETE"):
        response = requests.request(method, api(hub, f"mydata/items/{item}"),
                                    json={"title": "mine now"}, headers=auth(hub, "bob"),
                                    timeout=30)
        assert response.status_code == 404
    # through demo's server: the hub refuses bob's token
    z, x, y = _centre_tile(uploaded.item, 21)
    tile = f"/terralab/tiles/{z}/{x}/{y}.png?item={item}"
    response = requests.get(f"{hub.url}/user/demo{tile}", headers=auth(hub, "bob"),
                            timeout=60, allow_redirects=False)
    assert response.status_code in (302, 403, 404)
    assert response.headers.get("Content-Type") != "image/png"
    # through bob's own server (started by the admin): demo's item is not found
    admin = {"Authorization": f"token {hub.token('admin')}"}
    started = requests.post(f"{hub.url}/hub/api/users/bob/server", headers=admin, timeout=30)
    assert started.status_code in (201, 202, 400)
    response = None
    for _ in range(120):
        response = requests.get(f"{hub.url}/user/bob{tile}", headers=auth(hub, "bob"),
                                timeout=60, allow_redirects=False)
        if response.status_code not in (302, 503):  # 302/503 while bob's server starts
            break
        time.sleep(1)
    assert response is not None and response.status_code == 404, response.text
    # and the owner still has it
    assert (hub.home / "users" / "demo" / uploaded.folder / "data.tif").is_file()


def test_quota_refuses_an_11_mb_upload_of_a_user_with_10_mb(hub, tmp_path):
    big = tmp_path / "big.tif"
    with open(big, "wb") as handle:  # the size is what is refused, before any byte is sent
        handle.truncate(11 * MB)
    with pytest.raises(UploadError) as caught:
        service(hub, "admin").upload(big)
    assert caught.value.rule == "quota"
    assert "storage quota" in str(caught.value) and "10 MB" in str(caught.value)
    response = requests.post(api(hub, "mydata/uploads"), headers=auth(hub, "admin"),
                             json={"name": "big.tif", "size": 11 * MB}, timeout=30)
    assert response.status_code == 413 and response.json()["rule"] == "quota"
    uploads = hub.home / "users" / "admin" / "uploads"
    assert not list(uploads.glob("big-*"))
    staging = hub.home / "staging"
    assert not staging.exists() or not any(staging.iterdir())
    storage = requests.get(api(hub, "mydata/storage"), headers=auth(hub, "admin"), timeout=30)
    assert storage.json()["used"] == 0 and storage.json()["limit"] == 10 * MB


def test_a_bad_upload_leaves_nothing(hub, padded, tmp_path):
    """A file whose header is fine but whose pixels are cut off is refused by the publish
    job on a worker (the client gets the same UploadError), and nothing is kept."""
    before = requests.get(api(hub, "mydata/storage"), headers=auth(hub, "demo"),
                          timeout=30).json()["used"]
    cut = tmp_path / "cut.tif"
    cut.write_bytes(padded.read_bytes()[: padded.stat().st_size // 2])
    with pytest.raises(UploadError) as caught:
        service(hub, "demo").upload(cut)
    assert caught.value.rule == "truncated"
    names = [r.source_name for r in service(hub, "demo").list()]
    assert "cut.tif" not in names
    staging = hub.home / "staging"
    deadline = time.monotonic() + 15  # the worker removes its run folder as the job ends
    while staging.exists() and any(staging.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not staging.exists() or not any(staging.iterdir())
    after = requests.get(api(hub, "mydata/storage"), headers=auth(hub, "demo"),
                         timeout=30).json()["used"]
    assert after == before
    # a body shorter than announced is refused and released too
    announce = requests.post(api(hub, "mydata/uploads"), headers=auth(hub, "demo"),
                             json={"name": "short.tif", "size": 1000}, timeout=30).json()
    response = requests.put(api(hub, announce["put"]), data=b"x" * 10,
                            headers=auth(hub, "demo"), timeout=30)
    assert response.status_code == 400
    assert requests.get(api(hub, "mydata/storage"), headers=auth(hub, "demo"),
                        timeout=30).json()["used"] == before


def test_rename_download_delete(hub, padded, tmp_path):
    client = service(hub, "demo")
    record = client.upload(padded, title="to delete")
    renamed = client.rename(record.id, "renamed")
    assert renamed.title == "renamed"
    [copy] = client.download(record.id, tmp_path / "out")
    assert copy.name == "renamed.tif"
    [exported] = client.download(record.id, tmp_path / "geotiff", format="geotiff")
    assert exported.read_bytes() == copy.read_bytes()
    with pytest.raises(MyDataError, match=r"cog, geotiff"):
        client.download(record.id, tmp_path / "bad", format="shapefile")
    folder = hub.home / "users" / "demo" / record.folder
    assert copy.read_bytes() == (folder / "data.tif").read_bytes()
    used = client.storage().used
    assert client.delete(record.id) == record.bytes
    assert client.storage().used == used - record.bytes
    assert not folder.exists()
    assert record.id not in [r.id for r in client.list()]


def test_header_refusals_are_answered_at_once_and_publishing_is_a_job(hub, padded, tmp_path):
    """The PUT checks the header in the service (400 with the rule, nothing kept); a good
    file is answered 202 with its publish job, whose progress reads like any job's."""
    small = tmp_path / "small.tif"
    with rasterio.open(padded) as src:
        profile = src.profile | {"width": 512, "height": 512, "tiled": False}
        data = src.read(window=Window(0, 0, 512, 512))
    with rasterio.open(small, "w", **{k: v for k, v in profile.items()
                                      if k not in ("blockxsize", "blockysize")}) as dst:
        dst.write(data)
    headers = auth(hub, "header_checks")
    for path, status in [(small, 400), (padded, 202)]:
        announced = requests.post(api(hub, "mydata/uploads"), headers=headers, timeout=30,
                                  json={"name": path.name, "size": path.stat().st_size})
        response = requests.put(api(hub, announced.json()["put"]), data=path.read_bytes(),
                                headers=headers, timeout=60)
        assert response.status_code == status, response.text
    assert response.json()["job"]["kind"] == "publish"
    job_id = response.json()["job"]["id"]
    record = service(hub, "header_checks").wait_published(response.json()["status"],
                                                          timeout=120)
    job = requests.get(api(hub, f"jobs/{job_id}"), headers=headers, timeout=30).json()
    assert job["status"] == "succeeded" and job["results"] == [record.id]
    assert job["progress"] == 100 and "reading every pixel" in job["log"]
    refused = requests.post(api(hub, "mydata/uploads"), headers=headers, timeout=30,
                            json={"name": small.name, "size": small.stat().st_size})
    put = requests.put(api(hub, refused.json()["put"]), data=small.read_bytes(),
                       headers=headers, timeout=60)
    assert put.json()["rule"] == "pixels"
    used = requests.get(api(hub, "mydata/storage"), headers=headers, timeout=30).json()
    assert used["used"] == record.bytes
