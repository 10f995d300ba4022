"""``tl.Map()`` opens on its data, ``m.fit``, and class maps drawn over a transparent
background (no browser)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from shapely.geometry import box

from terralab.mydata.store import MyDataRecord
from terralab.widgets import Map
from terralab.widgets.legend import class_map

# a result of about 10 km by 10 km over Deqing
TEN_KM = [119.87, 30.55, 119.97, 30.64]


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def _raster_record(*, name: str = "water", dtype: str = "uint8", low: float = 0,
                   high: float = 1, bands: int = 1, nodata: float | None = 255,
                   record_id: str = "res-1") -> MyDataRecord:
    """A raster of my data as the publisher describes it (statistics of its bands)."""
    return MyDataRecord(
        id=record_id, owner="alice", kind="result", data_type="raster", title="Water",
        source_name="sar_water", folder=f"results/{record_id}", bytes=1,
        created="2024-01-01T00:00:00Z",
        item={"id": record_id, "collection": "my-data", "bbox": TEN_KM, "assets": {"data": {
            "href": "water.tif",
            "raster:bands": [{"data_type": dtype, "nodata": nodata,
                              "statistics": {"minimum": low, "maximum": high}}] * bands,
            "eo:bands": [{"name": name}] + [{"name": f"b{i}"} for i in range(2, bands + 1)]}}})


def _result(record: MyDataRecord, tool: str = "sar_water", **extra) -> SimpleNamespace:
    return SimpleNamespace(tool=tool, output=None, record=record, data=None, extra=extra)


# ------------------------------------------------------------------- opening on the data
def test_a_new_map_opens_on_its_first_data_layer() -> None:
    m = Map()
    assert m.zoom == 4
    layer = m.add(_raster_record(name="ndvi", dtype="float32", low=-1, high=1))
    assert layer.bounds == [[30.55, 119.87], [30.64, 119.97]]
    assert m.zoom == 12                                 # a 10 km result fills an 800×400 view
    assert m.center == pytest.approx([30.595, 119.92], abs=1e-3)
    m.zoom = 5
    m.add(_raster_record(name="ndvi", dtype="float32", high=2, record_id="res-2"))
    assert m.zoom == 5                                  # only the first layer sets the view


def test_a_map_given_a_view_keeps_it() -> None:
    m = Map(center=(30.595, 119.9265), zoom=15)
    m.add(_raster_record())
    assert (m.zoom, m.center) == (15, [30.595, 119.9265])
    opened = Map(fit=True, zoom=3)
    opened.add(box(*TEN_KM))
    assert opened.zoom == 12


def test_vectors_and_ready_made_layers_open_the_view_too() -> None:
    from ipyleaflet import TileLayer

    m = Map()
    m.add(box(*TEN_KM), name="area")
    assert m.zoom == 12
    bounded = TileLayer(url="/t/{z}/{x}/{y}.png")
    bounded.bounds = [[30.0, 120.0], [31.0, 121.0]]
    other = Map()
    other.add(TileLayer(url="/u/{z}/{x}/{y}.png"))     # no bounds: the view stays
    assert other.zoom == 4
    other.add(bounded)
    assert other.zoom == 8


def test_fit_takes_layers_boxes_geometries_frames_and_items() -> None:
    geopandas = pytest.importorskip("geopandas")
    m = Map(center=(0, 0), zoom=2)
    assert m.fit(TEN_KM) == [[30.55, 119.87], [30.64, 119.97]] and m.zoom == 12
    m.fit([[30, 120], [31, 121]])
    assert m.zoom == 8
    m.fit(box(*TEN_KM), max_zoom=10)
    assert m.zoom == 10
    frame = geopandas.GeoDataFrame(geometry=[box(*TEN_KM)], crs=4326).to_crs(32651)
    m.fit(frame)
    assert m.zoom == 12 and m.center[1] == pytest.approx(119.92, abs=1e-3)
    m.fit({"type": "Feature", "id": "x", "bbox": [120, 30, 121, 31], "assets": {}})
    assert m.zoom == 8
    with pytest.raises(ValueError, match="not known"):
        m.fit(object())


def test_fit_bounds_sets_centre_and_zoom_at_once() -> None:
    """ipyleaflet's own fit_bounds waited for the browser between zoom steps."""
    m = Map()
    m.fit_bounds([[30.55, 119.87], [30.64, 119.97]])
    assert m.zoom == 12 and 30.55 < m.center[0] < 30.64


# ------------------------------------------------------------------- class maps
def test_a_binary_mask_is_drawn_over_a_transparent_background() -> None:
    m = Map()
    layer = m.add(_result(_raster_record()))
    query = _query(layer.url)
    assert json.loads(query["colormap"]) == {"1": "#1f78b4"}   # water blue, land transparent
    assert query["bands"] == "1"
    assert layer.terralab_classes == ((1, "water", "#1f78b4"),)
    legend = m.add_legend(layer.terralab_classes)
    assert "water" in legend.html.value and "#1f78b4" in legend.html.value


def test_class_maps_from_the_tools_notes() -> None:
    record = _raster_record(name="change")
    change = _result(record, "change_detection",
                     legend={1: "change", 0: "no change", 255: "no data"},
                     legend_zh={1: "变化", 0: "未变化", 255: "无数据"})
    assert class_map(change, lang="en").classes == ((1, "change", "#e31a1c"),)
    assert class_map(change, lang="zh").classes == ((1, "变化", "#e31a1c"),)
    deep = _result(_raster_record(name="class", bands=2, nodata=0, high=2), "building_extraction",
                   classes={"1": "background", "2": "building"},
                   classes_zh={"1": "背景", "2": "建筑物"})
    found = class_map(deep, lang="zh")
    assert found.band == 1 and found.classes == ((2, "建筑物", "#d95f02"),)
    layer = Map().add(deep)
    assert json.loads(_query(layer.url)["colormap"]) == {"2": "#d95f02"}
    cover = _result(_raster_record(name="class", high=10), "land_cover",
                    colormap={1: "#006400", 2: "#ffbb22", 255: "#000000"}, nodata=255,
                    titles={1: "Tree cover", 2: "Shrubland"}, titles_zh={1: "林地", 2: "灌木"})
    assert class_map(cover, lang="en").classes == ((1, "Tree cover", "#006400"),
                                                   (2, "Shrubland", "#ffbb22"))


def test_rasters_that_are_not_class_maps_keep_their_display() -> None:
    ndvi = _raster_record(name="ndvi", dtype="float32", low=-1, high=1)
    assert class_map(ndvi) is None
    assert "colormap" not in _query(Map().add(_result(ndvi, "ndvi")).url)
    rgb = _raster_record(name="red", high=255, bands=3)
    assert class_map(rgb) is None
    vector = SimpleNamespace(tool="x", record=None, data=None, output=None, extra={})
    assert class_map(vector) is None


def test_the_caller_chooses_the_display_or_the_classes() -> None:
    m = Map()
    mask = _result(_raster_record())
    plain = m.add(mask, bands="1", rescale="0,1")
    assert "colormap" not in _query(plain.url) and not hasattr(plain, "terralab_classes")
    assert "colormap" not in _query(m.add(mask, classes=False).url)
    own = m.add(_raster_record(), classes={1: ("open water", "#0000ff")})
    assert json.loads(_query(own.url)["colormap"]) == {"1": "#0000ff"}
    with pytest.raises(TypeError, match="raster class map"):
        m.add(box(*TEN_KM), classes={1: ("x", "red")})
