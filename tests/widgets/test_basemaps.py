"""Basemaps: the offline default, OSM and Tianditu URLs, the switcher."""

from __future__ import annotations

import pytest
from ipyleaflet import GeoJSON, TileLayer

from terralab.widgets import BASEMAPS, BasemapError, Map, basemap_layers
from terralab.widgets.basemaps import BLANK_TILE, graticule, tianditu_url


def _urls(layers: object) -> list[str]:
    return [layer.url for layer in layers if isinstance(layer, TileLayer)]


def test_default_map_is_offline() -> None:
    m = Map()
    assert m.basemap_name == "blank"
    urls = _urls(m.layers)
    assert urls == [BLANK_TILE]
    assert all(url.startswith("data:image/png") for url in urls)
    assert not any("http" in url for url in urls)
    grids = [layer for layer in m.layers if isinstance(layer, GeoJSON)]
    assert len(grids) == 1 and grids[0].name == "Graticule"
    assert all(layer.base for layer in m.layers)


def test_graticule_lines() -> None:
    features = graticule(30)["features"]
    labels = {f["properties"]["label"] for f in features}
    assert {"0°", "30°E", "30°W", "180°E", "60°N", "60°S"} <= labels
    assert all(f["geometry"]["type"] == "LineString" for f in features)
    with pytest.raises(ValueError):
        graticule(0)


def test_osm() -> None:
    (layer,) = basemap_layers("osm")
    assert layer.url == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert "OpenStreetMap" in layer.attribution and layer.base


@pytest.mark.parametrize(("name", "codes"), [("tianditu-vec", ("vec", "cva")),
                                             ("tianditu-img", ("img", "cia"))])
def test_tianditu_with_token(name: str, codes: tuple[str, str]) -> None:
    base, labels = basemap_layers(name, token="KEY123")
    for number, (layer, code) in enumerate(zip((base, labels), codes, strict=True)):
        assert layer.url.startswith(f"https://t{number}.tianditu.gov.cn/{code}_w/wmts?")
        assert f"LAYER={code}&" in layer.url and layer.url.endswith("tk=KEY123")
        assert "TILEMATRIX={z}&TILEROW={y}&TILECOL={x}" in layer.url


def test_tianditu_token_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(BasemapError, match="TIANDITU_TOKEN"):
        basemap_layers("tianditu-img")
    monkeypatch.setenv("TIANDITU_TOKEN", "ENVKEY")
    assert all(u.endswith("tk=ENVKEY") for u in _urls(basemap_layers("tianditu-img")))
    assert tianditu_url("cia", "K", server=9).startswith("https://t1.")


def test_unknown_basemap() -> None:
    with pytest.raises(BasemapError, match="blank"):
        basemap_layers("google")
    assert set(BASEMAPS) == {"blank", "osm", "tianditu-vec", "tianditu-img"}


def test_add_basemap_keeps_data_on_top() -> None:
    m = Map()
    data = m.add({"type": "Point", "coordinates": [120, 30]}, name="pt")
    m.add_basemap("osm")
    assert m.basemap_name == "osm"
    assert m.layers[-1] is data
    assert _urls(m.layers) == ["https://tile.openstreetmap.org/{z}/{x}/{y}.png"]
    assert not any(isinstance(layer, GeoJSON) and layer.name == "Graticule"
                   for layer in m.layers)
    assert m.switcher is not None and m.switcher.dropdown.value == "osm"


def test_switcher_switches_and_refuses_missing_key() -> None:
    m = Map()
    switcher = m.switcher
    assert switcher is not None
    assert "needs key" in dict((v, k) for k, v in switcher.dropdown.options)["tianditu-img"]
    switcher.dropdown.value = "osm"
    assert m.basemap_name == "osm"
    switcher.dropdown.value = "tianditu-img"
    assert m.basemap_name == "osm" and switcher.dropdown.value == "osm"
    assert "Tianditu key" in switcher.message.value


def test_map_with_tianditu_token() -> None:
    m = Map(basemap="tianditu-img", tianditu_token="TK")
    assert all(url.endswith("tk=TK") for url in _urls(m.layers))
    m.switcher.dropdown.value = "tianditu-vec"
    assert any("vec_w" in url for url in _urls(m.layers))


def test_map_without_controls() -> None:
    m = Map(draw=False, switcher=False)
    assert m.draw_control is None and m.switcher is None
    assert m.aoi is None
