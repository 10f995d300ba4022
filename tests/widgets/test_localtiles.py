"""localtileserver habits: ``m.add(TileClient)`` and ``get_leaflet_tile_layer`` on terralab's
tile endpoint (no localtileserver needed, no server started)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
import rasterio
from ipyleaflet import TileLayer
from rasterio.transform import from_bounds

from terralab.widgets import Map
from terralab.widgets.localtiles import get_leaflet_tile_layer, is_tile_client

BOUNDS = (119.9, 30.5, 120.0, 30.6)  # west, south, east, north


class StandInTileClient:
    """The parts of ``localtileserver.TileClient`` terralab reads (same names and forms)."""

    def __init__(self, source: str | Path) -> None:
        self._filename = source

    @property
    def filename(self) -> str | Path:
        return self._filename

    def get_tile_url(self, indexes=None, colormap=None, vmin=None, vmax=None, nodata=None,
                     client=False) -> str:
        return "http://127.0.0.1:40000/api/tiles/{z}/{x}/{y}.png?filename=" + str(self.filename)

    def bounds(self, projection: str = "EPSG:4326") -> tuple[float, float, float, float]:
        west, south, east, north = BOUNDS
        return south, north, west, east  # (ymin, ymax, xmin, xmax), as localtileserver

    def center(self) -> tuple[float, float]:
        return 30.55, 119.95


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def image(widget_env: Path) -> Path:
    """A 4-band uint16 GeoTIFF in alice's folder, band b holding values 100·b … 100·b + 99."""
    path = widget_env / "users" / "alice" / "uploads" / "scene.tif"
    path.parent.mkdir(parents=True)
    data = np.stack([100 * band + np.arange(100, dtype="uint16").reshape(10, 10)
                     for band in range(1, 5)])
    with rasterio.open(path, "w", driver="GTiff", width=10, height=10, count=4, dtype="uint16",
                       crs="EPSG:4326", transform=from_bounds(*BOUNDS, 10, 10)) as dst:
        dst.write(data)
    return path


def test_a_tile_client_is_shown_on_terralabs_tiles(image: Path) -> None:
    client = StandInTileClient(image)
    assert is_tile_client(client) and not is_tile_client(str(image))
    m = Map()
    layer = m.add(client, bands="3,2,1", rescale="100,500")
    assert isinstance(layer, TileLayer) and layer.name == "scene.tif"
    assert "/terralab/tiles/{z}/{x}/{y}.png?" in layer.url and "127.0.0.1:40000" not in layer.url
    assert _query(layer.url) == {"path": "uploads/scene.tif", "bands": "3,2,1",
                                 "rescale": "100,500"}
    assert layer.bounds == [[pytest.approx(30.5), pytest.approx(119.9)],
                            [pytest.approx(30.6), pytest.approx(120.0)]]
    assert m.zoom > 4                                   # the map opened on it
    assert Map().fit(client) == [[30.5, 119.9], [30.6, 120.0]]
    assert _query(Map().add("uploads/scene.tif").url)["path"] == "uploads/scene.tif"


def test_get_leaflet_tile_layer_takes_localtileservers_arguments(image: Path) -> None:
    client = StandInTileClient(image)
    layer = get_leaflet_tile_layer(client, port=0, debug=True, indexes=[4, 3, 2], vmin=0,
                                   vmax=[3000, 2500, 2000], nodata=0, name="false colour",
                                   opacity=0.7, max_zoom=20, attribution="my survey")
    assert _query(layer.url) == {"path": "uploads/scene.tif", "bands": "4,3,2",
                                 "rescale": "0,3000;0,2500;0,2000", "nodata": "0"}
    assert (layer.name, layer.opacity, layer.max_zoom) == ("false colour", 0.7, 20)
    assert layer.attribution == "my survey"
    one = get_leaflet_tile_layer(image, indexes=2, colormap="Viridis", vmin=150)
    assert _query(one.url) == {"path": "uploads/scene.tif", "bands": "2", "colormap": "viridis",
                               "rescale": "150,299"}    # vmax: the band's maximum
    older = get_leaflet_tile_layer(client, band=1, palette=SimpleColormap("magma"))
    assert _query(older.url)["bands"] == "1" and _query(older.url)["colormap"] == "magma"
    with pytest.raises(TypeError, match="no option 'colour'"):
        get_leaflet_tile_layer(client, colour="red")


def test_sources_terralab_cannot_read_are_refused(widget_env: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="remote raster"):
        Map().add(StandInTileClient("https://example.org/cog.tif"))
    outside = tmp_path / "elsewhere.tif"
    outside.write_bytes(b"")
    with pytest.raises(ValueError, match="outside your folder"):
        get_leaflet_tile_layer(StandInTileClient(outside))
    with pytest.raises(TypeError, match="TileClient"):
        get_leaflet_tile_layer(42)


class SimpleColormap:
    """A matplotlib-like colormap object: only its name matters here."""

    def __init__(self, name: str) -> None:
        self.name = name
