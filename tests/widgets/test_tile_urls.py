"""Tile URL building: base URL resolution, sources and display parameters."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from terralab.mydata.store import MyDataRecord
from terralab.widgets import tile_urls
from terralab.widgets.tile_urls import (
    display_query,
    source_query,
    tile_base_url,
    tile_info_url,
    tile_url,
)


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def test_base_url_order(monkeypatch: pytest.MonkeyPatch) -> None:
    assert tile_base_url() == "/"
    monkeypatch.setattr(tile_urls, "_server_base_url", lambda: "/lab-base")
    assert tile_base_url() == "/lab-base/"
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    assert tile_base_url() == "/user/alice/"
    monkeypatch.setenv("TERRALAB_TILE_BASE_URL", "https://lab.example.org/prefix")
    assert tile_base_url() == "https://lab.example.org/prefix/"
    assert tile_base_url("user/bob") == "/user/bob/"


def test_item_url_inside_a_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    source = source_query({"id": "S2B_X", "collection": "sentinel-2-l2a"}, asset="visual")
    url = tile_url(source, display_query(bands="B08,B04,B03", rescale="0,0.3"))
    assert url.startswith("/user/alice/terralab/tiles/{z}/{x}/{y}.png?")
    assert _query(url) == {"item": "S2B_X", "collection": "sentinel-2-l2a", "asset": "visual",
                           "bands": "B08,B04,B03", "rescale": "0,0.3"}
    assert "bands=B08,B04,B03" in url  # commas stay readable
    info = tile_info_url(source)
    assert info.startswith("/user/alice/terralab/tiles/info?item=S2B_X")


def test_display_query_encoding() -> None:
    query = display_query(bands=[4, 3, 2], rescale=[(0, 0.3), (0, 0.3), (0, 0.4)],
                          colormap="viridis", nodata=float("nan"), tilesize=512)
    assert query == {"bands": "4,3,2", "rescale": "0,0.3;0,0.3;0,0.4", "colormap": "viridis",
                     "nodata": "nan", "tilesize": "512"}
    assert display_query(rescale=(-25, 0)) == {"rescale": "-25,0"}
    url = tile_url({"item": "a b"}, query, base_url="/")
    assert "rescale=0,0.3%3B0,0.3%3B0,0.4" in url and "item=a%20b" in url
    assert _query(url)["rescale"] == "0,0.3;0,0.3;0,0.4"


def test_pystac_item_and_record() -> None:
    pystac = pytest.importorskip("pystac")
    item = pystac.Item("LC09_X", {"type": "Point", "coordinates": [120, 30]},
                       [120, 30, 120, 30], datetime(2024, 5, 10, tzinfo=UTC), {},
                       collection="landsat-c2-l2")
    assert source_query(item) == {"item": "LC09_X", "collection": "landsat-c2-l2"}
    record = MyDataRecord(id="up-1", owner="alice", kind="upload", data_type="raster",
                          title="field.tif", source_name="field.tif", folder="uploads/up-1",
                          bytes=1, created="2024-01-01T00:00:00Z",
                          item={"id": "up-1", "collection": "my-uploads"})
    assert source_query(record) == {"item": "up-1", "collection": "my-uploads"}
    assert source_query("item:abc") == {"item": "abc"}
    with pytest.raises(TypeError):
        source_query(3.5)


def test_paths_must_be_in_the_users_folder(widget_env: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    folder = widget_env / "users" / "alice" / "uploads" / "u1"
    folder.mkdir(parents=True)
    (folder / "data.tif").write_bytes(b"")
    assert source_query("uploads/u1/data.tif") == {"path": "uploads/u1/data.tif"}
    assert source_query(folder / "data.tif") == {"path": "uploads/u1/data.tif"}
    monkeypatch.chdir(folder)
    assert source_query("data.tif") == {"path": "uploads/u1/data.tif"}
    outside = tmp_path / "elsewhere.tif"
    outside.write_bytes(b"")
    with pytest.raises(ValueError, match="outside your folder"):
        source_query(outside)
    url = tile_url(source_query("uploads/u1/data.tif"), base_url="/")
    assert _query(url) == {"path": "uploads/u1/data.tif"}
