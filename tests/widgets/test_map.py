"""``Map.add`` for every kind of data, and ``Map.aoi`` following draw events (no browser)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from ipyleaflet import GeoJSON, Marker, TileLayer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from terralab.mydata.store import MyDataRecord
from terralab.widgets import Map
from terralab.widgets.array_cache import CACHE_FOLDER, clear_cache

SQUARE = {"type": "Polygon", "coordinates": [[[120, 30], [121, 30], [121, 31], [120, 31],
                                              [120, 30]]]}
MOVED = {"type": "Polygon", "coordinates": [[[120, 30], [121.5, 30], [121.5, 31.2],
                                             [120, 31], [120, 30]]]}
FAR = {"type": "Polygon", "coordinates": [[[100, 20], [101, 20], [101, 21], [100, 20]]]}


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def _feature(geometry: dict) -> dict:
    return {"type": "Feature", "properties": {"style": {"color": "red"}}, "geometry": geometry}


def _event(m: Map, action: str, geometry: dict) -> None:
    """What the front end sends: one message per shape (ipyleaflet's DrawControl)."""
    m.draw_control._handle_leaflet_event(
        None, {"event": f"draw:{action}", "geo_json": _feature(geometry)}, None)


# ------------------------------------------------------------------- rasters
def test_add_catalog_item(monkeypatch: pytest.MonkeyPatch) -> None:
    pystac = pytest.importorskip("pystac")
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    item = pystac.Item("S2B_51RUQ", SQUARE, [120, 30, 121, 31], datetime(2024, 5, 10, tzinfo=UTC),
                       {}, collection="sentinel-2-l2a")
    m = Map()
    layer = m.add(item, bands="B08,B04,B03", rescale="0,0.3", opacity=0.8)
    assert isinstance(layer, TileLayer) and layer in m.layers and not layer.base
    assert layer.name == "S2B_51RUQ" and layer.opacity == 0.8
    assert layer.url.startswith("/user/alice/terralab/tiles/{z}/{x}/{y}.png?")
    assert _query(layer.url) == {"item": "S2B_51RUQ", "collection": "sentinel-2-l2a",
                                 "bands": "B08,B04,B03", "rescale": "0,0.3"}
    assert layer.bounds == [[30, 120], [31, 121]]
    one = m.add(item.to_dict(), name="NDVI-ish", bands="B08", colormap="rdylgn",
                asset="B08")
    assert _query(one.url)["colormap"] == "rdylgn" and _query(one.url)["asset"] == "B08"
    with pytest.raises(TypeError, match="rasters take"):
        m.add(item, color="red")


def test_add_uses_the_maps_base_url() -> None:
    m = Map(tile_base_url="/proxy/")
    layer = m.add("item:abc")
    assert layer.url.startswith("/proxy/terralab/tiles/") and m.tile_base() == "/proxy/"


def test_add_mydata_raster_record() -> None:
    record = MyDataRecord(id="up-1", owner="alice", kind="upload", data_type="raster",
                          title="My field", source_name="field.tif", folder="uploads/up-1",
                          bytes=1, created="2024-01-01T00:00:00Z",
                          item={"id": "up-1", "collection": "uploads", "bbox": [1, 2, 3, 4]})
    layer = Map().add(record)
    assert layer.name == "My field"
    assert _query(layer.url) == {"item": "up-1", "collection": "uploads"}
    assert layer.bounds == [[2, 1], [4, 3]]


def test_add_dataarray_writes_to_the_users_cache(widget_env: Path) -> None:
    xr = pytest.importorskip("xarray")
    pytest.importorskip("rioxarray")
    data = xr.DataArray(np.linspace(0, 1, 40 * 50, dtype="float32").reshape(40, 50),
                        dims=("y", "x"),
                        coords={"y": np.linspace(31, 30, 40), "x": np.linspace(120, 121, 50)},
                        name="ndvi")
    m = Map()
    layer = m.add(data, colormap="viridis", rescale=(0, 1))
    query = _query(layer.url)
    assert query["path"].startswith(f"{CACHE_FOLDER}/ndvi-") and query["path"].endswith(".tif")
    assert query["colormap"] == "viridis" and query["rescale"] == "0,1"
    written = widget_env / "users" / "alice" / query["path"]
    assert written.is_file()
    import rasterio

    with rasterio.open(written) as src:
        assert src.crs.to_epsg() == 4326 and (src.width, src.height) == (50, 40)
    south, west = layer.bounds[0]
    assert west == pytest.approx(120, abs=0.05) and south == pytest.approx(30, abs=0.05)
    assert clear_cache() == 1 and not written.exists()
    with pytest.raises(ValueError, match="CRS"):
        m.add(data.assign_coords(x=data.x * 1e4))


def test_add_file_path(widget_env: Path, tmp_path: Path) -> None:
    folder = widget_env / "users" / "alice" / "results"
    folder.mkdir()
    (folder / "out.tif").write_bytes(b"not really a tiff")
    layer = Map().add(folder / "out.tif")
    assert _query(layer.url) == {"path": "results/out.tif"} and layer.name == "out.tif"
    assert layer.bounds is None or layer.bounds == []
    outside = tmp_path / "x.tif"
    outside.write_bytes(b"")
    with pytest.raises(ValueError, match="outside your folder"):
        Map().add(outside)


# ------------------------------------------------------------------- vectors
def test_add_geodataframe_with_popups() -> None:
    geopandas = pytest.importorskip("geopandas")
    frame = geopandas.GeoDataFrame({"name": ["德清 <b>"], "area": [1.5]},
                                   geometry=[shape(SQUARE)], crs="EPSG:4326")
    frame = frame.to_crs("EPSG:32651")
    m = Map()
    layer = m.add(frame, name="fields", color="orange", fillOpacity=0.4)
    assert isinstance(layer, GeoJSON) and layer.name == "fields"
    assert layer.style["color"] == "orange" and layer.style["fillOpacity"] == 0.4
    feature = layer.data["features"][0]
    lon, lat = feature["geometry"]["coordinates"][0][0]
    assert lon == pytest.approx(120) and lat == pytest.approx(30)
    layer._handle_mouse_events(None, {"event": "click", "feature": feature,
                                      "properties": feature["properties"]}, None)
    assert "德清 &lt;b&gt;" in layer.popup.value and "area" in layer.popup.value


def test_add_geojson_forms(widget_env: Path) -> None:
    m = Map()
    assert len(m.add(SQUARE).data["features"]) == 1
    assert m.add(_feature(SQUARE)).data["features"][0]["geometry"] == SQUARE
    collection = {"type": "FeatureCollection", "features": [_feature(SQUARE), _feature(FAR)]}
    layer = m.add(collection, popups=False)
    assert len(layer.data["features"]) == 2 and layer.popup is None
    path = widget_env / "users" / "alice" / "area.geojson"
    import json

    path.write_text(json.dumps(collection))
    assert m.add("area.geojson").name == "area"
    with pytest.raises(TypeError, match="cannot show"):
        m.add(object())


def test_add_still_takes_layers_and_controls() -> None:
    m = Map()
    marker = Marker(location=(30, 120))
    m.add(marker)
    assert marker in m.layers
    with pytest.raises(TypeError):
        m.add(Marker(location=(30, 120)), name="x")


# ------------------------------------------------------------------- the AOI
def test_aoi_follows_created_edited_deleted() -> None:
    m = Map()
    assert m.aoi is None
    _event(m, "created", SQUARE)
    assert m.aoi.equals(_shape(SQUARE)) and m.aoi_geojson == SQUARE
    _event(m, "created", FAR)
    assert m.aoi.equals(_shape(FAR))
    _event(m, "edited", MOVED)  # the first square, edited: the AOI is still the last drawn
    assert m.aoi.equals(_shape(FAR))
    _event(m, "deleted", FAR)
    assert m.aoi.equals(_shape(MOVED))  # the earlier shape, as edited
    _event(m, "deleted", MOVED)
    assert m.aoi is None and m.aoi_geojson is None


def test_aoi_edit_of_the_only_shape() -> None:
    m = Map()
    seen: list = []
    m.on_aoi_change(seen.append)
    _event(m, "created", SQUARE)
    _event(m, "edited", MOVED)
    assert m.aoi.equals(_shape(MOVED))
    assert [g.bounds[2] for g in seen] == [121, 121.5]


def test_aoi_follows_the_synced_data() -> None:
    m = Map()
    _event(m, "created", SQUARE)
    m.draw_control.data = [_feature(SQUARE), _feature(FAR)]
    assert m.aoi.equals(_shape(FAR))
    m.draw_control.data = [_feature(MOVED)]
    assert m.aoi.equals(_shape(MOVED))
    m.draw_control.data = []
    assert m.aoi is None
    _event(m, "created", SQUARE)
    m.clear_aoi()
    assert m.aoi is None and m.draw_control.data == []


def test_a_drawn_circle_is_its_geodesic_area() -> None:
    from pyproj import Geod

    m = Map()
    circle = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [120.0, 30.6]},
              "properties": {"style": {"radius": 500.0, "color": "#e4572e"}}}
    m.draw_control._draw_callbacks(m.draw_control, action="created", geo_json=circle)
    aoi = m.aoi
    assert aoi.geom_type == "Polygon" and len(aoi.exterior.coords) == 65
    area, _ = Geod(ellps="WGS84").geometry_area_perimeter(aoi)
    assert abs(area) == pytest.approx(3.14159 * 500 ** 2, rel=0.01)
    assert aoi.centroid.x == pytest.approx(120.0, abs=1e-6)
    assert m.aoi_geojson["type"] == "Polygon"
    m.draw_control.data = [circle]                 # the front end's sync: still an area
    assert m.aoi.equals(aoi)
    no_radius = {**circle, "properties": {}}
    m.draw_control.data = [no_radius]              # a plain point stays a point
    assert m.aoi.geom_type == "Point"


def test_geoman_actions() -> None:
    from terralab.widgets.aoi import AoiTracker

    tracker = AoiTracker()
    tracker.handle_draw(None, action="create", geo_json=[_feature(SQUARE)])
    tracker.handle_draw(None, action="edit", geo_json=[_feature(MOVED)])
    assert tracker.geometry.equals(_shape(MOVED))
    tracker.handle_draw(None, action="vertexadded", geo_json=_feature(FAR))
    tracker.handle_draw(None, action="remove", geo_json=[_feature(MOVED)])
    assert tracker.geometry is None


def _shape(geometry: dict) -> BaseGeometry:
    return shape(geometry)


def test_add_mydata_vector_record_and_result(widget_env: Path) -> None:
    import json
    from types import SimpleNamespace

    folder = widget_env / "users" / "alice" / "uploads" / "v1"
    folder.mkdir(parents=True)
    (folder / "fields.geojson").write_text(json.dumps(
        {"type": "FeatureCollection", "features": [_feature(SQUARE)]}))
    record = MyDataRecord(id="v1", owner="alice", kind="upload", data_type="vector",
                          title="Fields", source_name="fields.zip", folder="uploads/v1",
                          bytes=1, created="2024-01-01T00:00:00Z",
                          item={"id": "v1", "assets": {"data": {"href": "fields.geojson"}}})
    m = Map()
    layer = m.add(record, color="green")
    assert isinstance(layer, GeoJSON) and layer.name == "Fields"
    assert layer.data["features"][0]["geometry"]["type"] == "Polygon"
    # a tool run: its saved record is shown, named after the tool by default
    run = SimpleNamespace(tool="building_extraction", output=None, record=record, data=None)
    assert m.add(run).name == "building_extraction"
    unsaved = SimpleNamespace(tool="ndvi", output=None, record=None, data=SQUARE)
    assert m.add(unsaved).name == "ndvi"


def test_add_search_result_footprints() -> None:
    from terralab.catalog import SearchResult

    item = {"type": "Feature", "stac_version": "1.0.0", "id": "S2_A", "geometry": SQUARE,
            "bbox": [120, 30, 121, 31], "collection": "sentinel-2-l2a", "links": [],
            "properties": {"datetime": "2024-05-10T00:00:00Z", "eo:cloud_cover": 3.0},
            "assets": {}}
    layer = Map().add(SearchResult([item]))
    assert isinstance(layer, GeoJSON) and layer.name == "Search results"
    assert layer.data["features"][0]["properties"]["id"] == "S2_A"
