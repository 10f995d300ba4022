"""The tile endpoints in a real Jupyter server, fetched over HTTP with the server's token."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from terralab.home import user_dir
from terralab.hub.ports import free_port
from tests.kernels_lib.test_tiles import PATTERN_ZOOM, TilesHome, decode, make_tiles_home

TOKEN = "tiles-test-token"
BASE = "/user/alice/"


@dataclass
class Server:
    url: str  # ends with the base URL
    th: TilesHome

    def get(self, route: str, /, *, token: bool = True, **params: str) -> requests.Response:
        headers = {"Authorization": f"token {TOKEN}"} if token else {}
        return requests.get(self.url + route, params=params, headers=headers, timeout=60)


def start_jupyter_server(home: Path, user: str, port: int, token: str, *,
                         base_url: str = "/") -> subprocess.Popen:
    """Start ``jupyter server`` for ``user`` on ``home`` (the terralab extension is enabled
    by the installed jupyter-config) and wait until it answers."""
    runtime = home / "jupyter-runtime"
    env = dict(os.environ, TERRALAB_HOME=str(home), TERRALAB_USER=user,
               JUPYTER_RUNTIME_DIR=str(runtime), JUPYTER_DATA_DIR=str(runtime / "data"))
    env.pop("JUPYTERHUB_USER", None)
    root = user_dir(user, home=home)
    root.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
         f"--port={port}", "--ip=127.0.0.1", f"--IdentityProvider.token={token}",
         f"--ServerApp.base_url={base_url}", f"--ServerApp.root_dir={root}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}{base_url}api/status"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter server exited:\n{process.stderr.read()[-3000:]}")
        try:
            if requests.get(url, headers={"Authorization": f"token {token}"},
                            timeout=2).status_code == 200:
                return process
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("jupyter server did not answer within 60 s")


@pytest.fixture(scope="module")
def server(tmp_path_factory, demo_home) -> Iterator[Server]:
    th = make_tiles_home(tmp_path_factory.mktemp("tiles-server"), demo_home)
    port = free_port()
    with pytest.MonkeyPatch.context() as patch:  # the demo catalog is a data root here
        patch.setenv("TERRALAB_CATALOG_ROOTS", str(demo_home / "catalog"))
        process = start_jupyter_server(th.home, "alice", port, TOKEN, base_url=BASE)
    yield Server(f"http://127.0.0.1:{port}{BASE}", th)
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()


def tile_path(server: Server, dx: int = 0, dy: int = 0, z: int = PATTERN_ZOOM) -> str:
    tile = server.th.tile
    return f"terralab/tiles/{z}/{tile.x + dx}/{tile.y + dy}.png"


def test_public_item_info_and_tile(server):
    info = server.get("terralab/tiles/info", item="deqing-aerial-20240510")
    assert info.status_code == 200, info.text
    body = info.json()
    assert body["tiles"] == [f"{BASE}terralab/tiles/{{z}}/{{x}}/{{y}}.png"
                             "?item=deqing-aerial-20240510"]
    assert body["shown"]["bands"] == ["red", "green", "blue"]
    z = body["maxzoom"]
    import morecantile

    tile = morecantile.tms.get("WebMercatorQuad").tile(*body["center"][:2], z)
    response = server.get(f"terralab/tiles/{z}/{tile.x}/{tile.y}.png",
                          item="deqing-aerial-20240510")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Cache-Control"].startswith("private")
    assert decode(response.content)[3].any()


def test_own_item_and_own_file(server):
    item = server.get(tile_path(server, 1, 1), item="alice-field", collection="my-data")
    assert item.status_code == 200, item.text
    rgba = decode(item.content)
    window = server.th.pattern[::-1, 256:, 256:].astype(float)
    assert abs(rgba[:3].astype(float) - ((window - 10) * 255 / 230).clip(0, 255)).max() <= 1
    own = server.get(tile_path(server, 1, 1), path="uploads/p/data.tif", bands="3,2,1",
                     rescale="0,255")
    assert own.status_code == 200
    assert (decode(own.content)[:3] == server.th.pattern[::-1, 256:, 256:]).all()
    info = server.get("terralab/tiles/info", path="uploads/p/data.tif", colormap="viridis",
                      bands="2").json()
    assert info["tiles"][0].endswith("?path=uploads%2Fp%2Fdata.tif&bands=2&colormap=viridis")


def test_repeated_rescale_is_per_band(server):
    response = server.get(tile_path(server, 1, 1) + "?rescale=0,255&rescale=0,255"
                          "&rescale=0,127.5", path="uploads/p/data.tif")
    assert response.status_code == 200
    rgba = decode(response.content)
    assert (rgba[2] == (server.th.pattern[2, 256:, 256:].astype(float) * 2).clip(0, 255)).all()


@pytest.mark.parametrize("path", ["../bob/secret.tif", "/etc/passwd", "link-to-bob.tif",
                                  "/vsicurl/http://127.0.0.1/x.tif", "WMTS:http://x",
                                  "disguised.tif", "bob-folder/secret.tif"])
def test_refused_paths_are_403(server, path):
    response = server.get(tile_path(server), path=path)
    assert response.status_code == 403
    body = response.json()
    assert body["status"] == 403 and body["message"]


def test_unknown_and_other_users_items_are_404(server):
    unknown = server.get(tile_path(server), item="no-such-item")
    other = server.get(tile_path(server), item="bob-field")
    assert unknown.status_code == other.status_code == 404
    assert other.json()["message"] == "no item 'bob-field' in the catalog"
    assert server.get("terralab/tiles/info", item="bob-field").status_code == 404


def test_no_token_is_403(server):
    response = server.get(tile_path(server), token=False, path="uploads/p/data.tif")
    assert response.status_code == 403
    assert response.json()["status"] == 403


def test_bad_parameters_are_400_and_outside_is_404(server):
    bad = server.get(tile_path(server), path="uploads/p/data.tif", bands="1,2")
    assert bad.status_code == 400 and "3 bands" in bad.json()["message"]
    assert server.get(tile_path(server), path="uploads/p/data.tif",
                      colormap="nope").status_code == 400
    assert server.get("terralab/tiles/info").status_code == 400  # neither item nor path
    outside = server.get(tile_path(server, 9, 0), path="uploads/p/data.tif")
    assert outside.status_code == 404
    assert outside.json() == {"status": 404, "message": "tile outside the image"}


def test_tiles_render_concurrently(server):
    paths = [tile_path(server, dx, dy) for dx in (0, 1) for dy in (0, 1)] * 4
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda p: server.get(p, path="uploads/p/data.tif"), paths))
    assert [r.status_code for r in responses] == [200] * len(paths)
    assert len({r.content for r in responses}) == 4
