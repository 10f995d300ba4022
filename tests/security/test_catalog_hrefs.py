"""Public catalog items name files under the data roots or URLs on allowed hosts only.

Issue failure 3: an ItemCollection with hrefs ``file:///…/jupyterhub_cookie_secret``,
``/etc/shadow``, ``http://127.0.0.1:P/internal`` (and a 302 to it), ingested by an admin, let
any user download them; the thumbnail route redirected to any URL an item named. The
"internal" URL is served here by a loopback HTTP server of the test (no network).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from terralab.catalog.index import CatalogIndex, default_index_path
from terralab.hub.ports import free_port

INTERNAL = b"INTERNAL-ONLY: the admin console's token is 12345"
PUBLIC = b"a public file on an allowed host"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        port = self.server.internal_port  # type: ignore[attr-defined]
        internal = f"http://127.0.0.1:{port}/internal"
        if self.path == "/internal":
            self._send(200, INTERNAL)
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", internal)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/public.tif":
            self._send(200, PUBLIC)
        else:
            self._send(404, b"no such file")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _serve(host: str, internal_port: int) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer((host, free_port()), _Handler)
    server.internal_port = internal_port  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}"


@pytest.fixture(scope="module")
def internal() -> Iterator[str]:
    """An "internal" web server on 127.0.0.1: /internal, /redirect (302 to /internal)."""
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    server.internal_port = port  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


def _item(item_id: str, assets: dict[str, str]) -> dict:
    return {
        "type": "Feature", "stac_version": "1.0.0", "id": item_id, "collection": "href-test",
        "geometry": {"type": "Polygon", "coordinates": [[[120, 30], [120.1, 30], [120.1, 30.1],
                                                         [120, 30.1], [120, 30]]]},
        "bbox": [120, 30, 120.1, 30.1], "properties": {"datetime": "2024-06-01T00:00:00Z"},
        "links": [],
        "assets": {key: {"href": href, "type": "image/tiff; application=geotiff",
                         "roles": ["data"]} for key, href in assets.items()},
    }


def _secret_hrefs(home: Path, outside: Path, internal: str) -> dict[str, str]:
    return {"cookie": f"file://{home / 'hub' / 'jupyterhub_cookie_secret'}",
            "shadow": str(outside), "internal": f"{internal}/internal",
            "redirect": f"{internal}/redirect"}


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file of the test's own outside every data root (standing in for /etc/shadow)."""
    path = tmp_path / "shadow"
    path.write_bytes(b"root:$6$not-for-users:19000:0:99999:7:::\n")
    return path


# -- at ingest --------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["cookie", "shadow", "internal", "redirect"])
def test_ingest_refuses_hrefs_outside_the_roots_and_hosts(tmp_path: Path, outside: Path,
                                                          internal: str, key: str,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """issue failure 3: `terralab catalog ingest` of such an ItemCollection stored them."""
    from terralab.cli import cli

    home = tmp_path / "home"
    (home / "hub").mkdir(parents=True)
    (home / "hub" / "jupyterhub_cookie_secret").write_text("c0ffee" * 10)
    monkeypatch.setenv("TERRALAB_HOME", str(home))
    href = _secret_hrefs(home, outside, internal)[key]
    collection = {"type": "FeatureCollection",
                  "features": [_item(f"evil-{key}", {"data": href})]}
    target = tmp_path / "items.json"
    target.write_text(json.dumps(collection))
    result = CliRunner().invoke(cli, ["catalog", "ingest", str(target)])
    assert result.exit_code != 0, result.output
    assert "asset 'data' of 'evil-" in result.output and "nothing was added" in result.output
    with CatalogIndex(default_index_path(home)) as index:
        assert len(index) == 0


# -- when served (an index written before the checks) -----------------------------------------

@pytest.mark.hub
def test_served_assets_never_leave_the_roots_and_hosts(hub, outside: Path,
                                                       internal: str) -> None:
    """issue failure 3: any user downloaded the hub's cookie secret, a file outside every
    root, and an internal URL (directly and through a 302) of items already in the index."""
    hrefs = _secret_hrefs(hub.home, outside, internal)
    with CatalogIndex(default_index_path(hub.home)) as index:
        index.add_items([_item("stored-evil-scene", hrefs)])
    headers = {"Authorization": f"token {hub.token('href-reader')}"}
    secrets = [INTERNAL, outside.read_bytes(),
               (hub.home / "hub" / "jupyterhub_cookie_secret").read_bytes()]
    for key in hrefs:
        response = requests.get(
            f"{hub.url}/services/terralab/catalog/items/stored-evil-scene/download",
            params={"asset": key}, headers=headers, timeout=60)
        assert not any(secret in response.content for secret in secrets), key
        assert response.status_code in (403, 404), (key, response.status_code)
        message = response.json()["message"]
        assert "outside the catalog's data folders" in message or "allowed catalog host" in \
            message, (key, message)


@pytest.mark.hub
def test_the_thumbnail_route_redirects_to_allowed_hosts_only(hub) -> None:
    """issue failure 3: the thumbnail route redirected to any URL an item named."""
    item = _item("stored-evil-preview", {"data": "https://evil.invalid/scene.tif"})
    item["assets"]["thumbnail"] = {"href": "https://evil.invalid/phish.png",
                                   "type": "image/png", "roles": ["thumbnail"]}
    good = _item("stored-good-preview", {"data": "https://x.blob.core.windows.net/s.tif"})
    good["assets"]["thumbnail"] = {"href": "https://x.blob.core.windows.net/s.png",
                                   "type": "image/png", "roles": ["thumbnail"]}
    with CatalogIndex(default_index_path(hub.home)) as index:
        index.add_items([item, good])
    headers = {"Authorization": f"token {hub.token('href-reader')}"}
    route = f"{hub.url}/services/terralab/catalog/items/{{}}/thumbnail"
    response = requests.get(route.format(item["id"]), headers=headers, timeout=60,
                            allow_redirects=False)
    assert response.status_code == 404, (response.status_code, response.headers)
    assert "evil.invalid" not in response.headers.get("Location", "")
    response = requests.get(route.format(good["id"]), headers=headers, timeout=60,
                            allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"] == "https://x.blob.core.windows.net/s.png"


# -- redirects --------------------------------------------------------------------------------

def test_a_redirect_off_the_allowed_hosts_is_not_followed(tmp_path: Path, internal: str,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """issue failure 3: downloads followed a 302 from an asset's host to an internal URL."""
    from terralab.catalog.assets import AssetAccessError
    from terralab.catalog.downloads import open_asset

    internal_port = int(internal.rsplit(":", 1)[1])
    server, allowed = _serve("127.0.0.2", internal_port)  # a host the site allows, literally
    monkeypatch.setenv("TERRALAB_CATALOG_HOSTS", "127.0.0.2")
    try:
        item = _item("hop", {"data": f"{allowed}/redirect", "fine": f"{allowed}/public.tif"})
        stream = open_asset(item, "fine", home=tmp_path)
        try:
            assert b"".join(stream.chunks) == PUBLIC
        finally:
            stream.close()
        with pytest.raises(AssetAccessError, match="not an allowed catalog host"):
            stream = open_asset(item, "data", home=tmp_path)
            leaked = b"".join(stream.chunks)
            stream.close()
            pytest.fail(f"the redirect was followed: {leaked[:40]!r}")
    finally:
        server.shutdown()


def test_an_allowed_host_name_that_resolves_to_loopback_is_not_fetched(
        tmp_path: Path, internal: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """issue failure 3: no loopback address is fetched, even through an allowed name."""
    from terralab.catalog.assets import AssetAccessError
    from terralab.catalog.downloads import open_asset

    monkeypatch.setenv("TERRALAB_CATALOG_HOSTS", "localhost")
    item = _item("named", {"data": internal.replace("127.0.0.1", "localhost") + "/internal"})
    with pytest.raises(AssetAccessError, match="non-public address"):
        open_asset(item, "data", home=tmp_path)


# -- the settings ------------------------------------------------------------------------------

def test_the_hubs_roots_and_hosts_reach_the_service_and_workers(tmp_path: Path) -> None:
    """issue failure 3: the allowed roots and hosts are hub settings the service reads back."""
    from traitlets import TraitError
    from traitlets.config import Config

    from terralab.catalog.asset_policy import DEFAULT_HOSTS, AssetPolicy, HrefRefusedError
    from terralab.hub.queue_settings import WORKERS_SERVICE
    from terralab.hub.settings import SERVICE_NAME, TerralabHub

    c = Config()
    c.TerralabHub.home = str(tmp_path)
    c.TerralabHub.catalog_asset_roots = ["/data/landsat"]
    c.TerralabHub.catalog_asset_hosts = ["*.Example.org"]
    TerralabHub(config=c).apply(c)
    for name in (SERVICE_NAME, WORKERS_SERVICE):
        env = next(s for s in c.JupyterHub.services if s["name"] == name)["environment"]
        policy = AssetPolicy.from_env(tmp_path, env=env)
        assert policy.roots == (tmp_path / "catalog", Path("/data/landsat"))
        assert policy.hosts == ("*.example.org",)
        policy.check_href("https://cogs.example.org/a.tif", "a")
        with pytest.raises(HrefRefusedError, match="not an allowed catalog host"):
            policy.check_href("https://x.blob.core.windows.net/a.tif", "a")
    assert AssetPolicy.from_env(tmp_path, env={}).hosts == DEFAULT_HOSTS
    for trait, bad in (("catalog_asset_roots", ["relative/folder"]),
                       ("catalog_asset_hosts", ["http://host/path"])):
        with pytest.raises(TraitError, match=trait):
            TerralabHub(**{trait: bad})
