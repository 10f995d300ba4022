"""Exports and downloads of my data: long non-ASCII titles still give valid files and
headers (issue failure 13), and a download the client abandons is charged for the bytes
sent (the interrupted-download quota hole), through the real hub and in-process."""

from __future__ import annotations

import io
import json
import os
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
import requests
from rasterio.transform import from_origin

from terralab.catalog.disposition import attachment_name
from terralab.client.mydata import MyDataService
from terralab.quotas.downloads import downloaded_bytes
from terralab.service.http_client import ServiceClient

LONG_TITLE = "湖州市土地利用遥感监测成果" * 7  # 91 characters, 273 bytes of UTF-8
MB = 1024**2


def _service(hub, user: str) -> MyDataService:
    return MyDataService(ServiceClient(f"{hub.url}/services/terralab/", hub.token(user)))


def _url(hub, path: str) -> str:
    return f"{hub.url}/services/terralab/{path}"


def _auth(hub, user: str) -> dict[str, str]:
    return {"Authorization": f"token {hub.token(user)}"}


def _raster(path: Path, side: int = 1024, *, noise: bool = False) -> Path:
    """A 3-band uint8 GeoTIFF on WGS84 (random bytes with ``noise``, else a gradient)."""
    if noise:
        data = np.random.default_rng(15).integers(0, 256, (3, side, side), dtype=np.uint8)
    else:
        ramp = (np.arange(side * side, dtype=np.uint32).reshape(side, side) % 251)
        data = np.stack([ramp, ramp[::-1], ramp.T]).astype(np.uint8)
    with rasterio.open(path, "w", driver="GTiff", width=side, height=side, count=3,
                       dtype="uint8", crs="EPSG:4326", tiled=True, blockxsize=256,
                       blockysize=256, transform=from_origin(120.0, 31.0, 1e-5, 1e-5)) as out:
        out.write(data)
    return path


def _geojson(path: Path) -> Path:
    features = [{"type": "Feature", "properties": {"name": f"地块{i}", "area": i * 1.5},
                 "geometry": {"type": "Polygon", "coordinates": [[
                     [120 + i * 0.01, 30], [120.005 + i * 0.01, 30], [120.005 + i * 0.01, 30.005],
                     [120 + i * 0.01, 30]]]}} for i in range(3)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}),
                    encoding="utf-8")
    return path


def _check_named(response: requests.Response, suffix: str) -> str:
    """The response is a download whose header names a usable file ending in ``suffix``."""
    assert response.status_code == 200, response.text[:300]
    header = response.headers["Content-Disposition"]
    header.encode("latin-1")  # a valid HTTP header value
    name = attachment_name(header, "fallback")
    assert name != "fallback" and name.endswith(suffix), header
    assert len(name.encode("utf-8")) <= 255, name
    assert name.startswith(LONG_TITLE[:20])  # the title still names the file
    return name


@pytest.mark.hub
def test_long_chinese_title_exports_in_every_format(hub, tmp_path):
    """issue failure 13: a 90-character Chinese title broke exports ("file name too long",
    500); every format now downloads, named after the title within 255 bytes."""
    client = _service(hub, "exports13")
    raster = client.upload(_raster(tmp_path / "field.tif"), title=LONG_TITLE)
    vector = client.upload(_geojson(tmp_path / "parcels.geojson"), title=LONG_TITLE)
    assert raster.title == vector.title == LONG_TITLE  # the title itself is kept for display
    for item, fmt, suffix in [(raster, "cog", ".tif"), (raster, "geotiff", ".tif"),
                              (vector, "gpkg", ".gpkg"), (vector, "geojson", ".geojson"),
                              (vector, "shapefile", ".zip")]:
        response = requests.get(_url(hub, f"mydata/items/{item.id}/download"),
                                params={"format": fmt}, headers=_auth(hub, "exports13"),
                                timeout=120)
        _check_named(response, suffix)
        if fmt == "shapefile":
            with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
                names = archive.namelist()
            assert {Path(n).suffix for n in names} >= {".shp", ".shx", ".dbf"}, names
            assert all(len(n.encode("utf-8")) <= 255 for n in names), names
        elif fmt == "geojson":
            assert len(response.json()["features"]) == 3
        else:
            assert len(response.content) > 1000
    # the stored file too (no format), and the client library writes it under that name
    response = requests.get(_url(hub, f"mydata/items/{raster.id}/download"),
                            headers=_auth(hub, "exports13"), timeout=120)
    _check_named(response, ".tif")
    for fmt in (None, "shapefile"):
        item = raster if fmt is None else vector
        [written] = client.download(item.id, tmp_path / f"out-{fmt}", format=fmt)
        assert written.is_file() and len(written.name.encode("utf-8")) <= 255


def _charged(hub, user: str) -> int:
    return downloaded_bytes(user, home=hub.home)


@pytest.mark.hub
def test_an_abandoned_download_is_charged_for_the_bytes_sent(hub, tmp_path):
    """Quota hole: the bytes of an interrupted download were never recorded. A client that
    reads part of a large download and closes the connection is charged what was sent."""
    user = "abandons"
    record = _service(hub, user).upload(_raster(tmp_path / "noise.tif", 4096, noise=True))
    assert record.bytes > 40 * MB  # random bytes do not compress
    before = _charged(hub, user)
    for path, params in [(f"mydata/items/{record.id}/download", None),
                         (f"mydata/items/{record.id}/download", {"format": "geotiff"})]:
        response = requests.get(_url(hub, path), params=params, headers=_auth(hub, user),
                                stream=True, timeout=120)
        assert response.status_code == 200
        read = 0
        for chunk in response.iter_content(64 * 1024):
            read += len(chunk)
            if read >= 3 * MB:
                break
        response.close()  # the client goes away
        deadline = time.monotonic() + 20
        while _charged(hub, user) == before and time.monotonic() < deadline:
            time.sleep(0.2)
        charged = _charged(hub, user) - before
        # what was sent: at least what the client read, far from the whole file (the
        # sockets and the proxy hold a few MB at most)
        assert read <= charged < record.bytes - 8 * MB, (params, read, charged)
        before += charged


def test_an_interrupted_download_in_process_is_charged_for_what_it_took(tmp_path,
                                                                        monkeypatch):
    """Quota hole, without a hub: a download whose writing fails half way (here the reader
    of the file goes away: a FIFO closed after 1 MB) recorded nothing; it is charged for
    the bytes it took from the source, within a chunk."""
    from terralab.catalog.downloads import CHUNK
    from terralab.mydata.library import download_item
    from terralab.mydata.uploads import upload_file

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("TERRALAB_HOME", str(home))
    record = upload_file(_raster(tmp_path / "noise.tif", 2048, noise=True), owner="carol",
                         home=home)
    dest = tmp_path / "out"
    dest.mkdir()
    os.mkfifo(dest / "data.tif.part")  # where the download writes first
    read = [0]

    def reader() -> None:
        with open(dest / "data.tif.part", "rb") as fifo:
            while read[0] < MB and (chunk := fifo.read(64 * 1024)):
                read[0] += len(chunk)

    thread = threading.Thread(target=reader)
    thread.start()
    with pytest.raises(BrokenPipeError):
        download_item("carol", record.id, dest, home=home)
    thread.join(10)
    charged = downloaded_bytes("carol", home=home)
    assert read[0] <= charged <= read[0] + 2 * CHUNK < record.bytes, (read, charged)
