"""Tile display parameters a file cannot take are refused with 400, never a 500.

Issue failure 14: a ``nodata`` override outside the band's sample type (``nodata=300`` or
``-1`` on a uint8 file, ``inf``) made the tile endpoint answer 500.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import rasterio
import requests
from rasterio.transform import from_origin

from terralab.home import user_dir
from terralab.hub.ports import free_port
from tests.extension.test_tiles_extension import start_jupyter_server

USER = "nodata-tester"
TOKEN = "nodata-test-token"
TILE = "terralab/tiles/14/8192/8191.png"  # a tile that holds the files' pixels


def _write(path: Path, dtype: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = np.arange(256 * 256, dtype="float64").reshape(1, 256, 256) % 200 + 1
    with rasterio.open(path, "w", driver="GTiff", width=256, height=256, count=1,
                       dtype=dtype, crs="EPSG:3857",
                       transform=from_origin(0, 2560, 10, 10)) as dst:
        dst.write(data.astype(dtype))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("nodata-home")
    root = user_dir(USER, home=home)
    _write(root / "uploads" / "u8" / "data.tif", "uint8")
    _write(root / "uploads" / "f32" / "data.tif", "float32")
    port = free_port()
    process = start_jupyter_server(home, USER, port, TOKEN)
    yield f"http://127.0.0.1:{port}/"
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()


def _get(server: str, route: str, **params: str) -> requests.Response:
    return requests.get(server + route, params=params, timeout=60,
                        headers={"Authorization": f"token {TOKEN}"})


@pytest.mark.parametrize("nodata", ["300", "-1", "inf", "nan", "2.5"])
@pytest.mark.parametrize("route", [TILE, "terralab/tiles/info"])
def test_nodata_outside_the_sample_type_is_400(server: str, route: str, nodata: str) -> None:
    """issue failure 14: nodata=300 / -1 / inf on uint8 → 500; it must be 400 with a message."""
    response = _get(server, route, path="uploads/u8/data.tif", nodata=nodata)
    assert response.status_code == 400, (response.status_code, response.text[:300])
    message = response.json()["message"]
    assert "nodata" in message and "uint8" in message and "0…255" in message


def test_nodata_the_file_can_hold_still_works(server: str) -> None:
    """issue failure 14 (control): values the sample type holds keep rendering."""
    for path, nodata in (("uploads/u8/data.tif", "0"), ("uploads/u8/data.tif", "255"),
                         ("uploads/f32/data.tif", "nan"), ("uploads/f32/data.tif", "-inf"),
                         ("uploads/f32/data.tif", "-1.5")):
        response = _get(server, TILE, path=path, nodata=nodata)
        assert response.status_code == 200, (path, nodata, response.text[:300])
        assert response.content[:8] == b"\x89PNG\r\n\x1a\n"
    response = _get(server, TILE, path="uploads/f32/data.tif", nodata="1e300")
    assert response.status_code == 400 and "float32" in response.json()["message"]
