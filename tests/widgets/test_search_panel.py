"""The search panel against the small demo catalog (Deqing county), in-process, no browser."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from ipyleaflet import GeoJSON, TileLayer, WidgetControl
from ipywidgets import HTML, HBox, Image

from terralab.widgets import Map, SearchPanel
from terralab.widgets.search_panel import search_layout

# inside Deqing county (德清县), where the demo items lie
DEQING = {"type": "Polygon", "coordinates": [[[119.9, 30.5], [120.1, 30.5], [120.1, 30.6],
                                              [119.9, 30.6], [119.9, 30.5]]]}


@pytest.fixture
def home(demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo catalog as TERRALAB_HOME (user alice, set by the widgets' conftest)."""
    monkeypatch.setenv("TERRALAB_HOME", str(demo_home))
    return demo_home


@pytest.fixture
def writable_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A demo catalog of this test's own, for favourites and projects (they write)."""
    from tests.conftest import write_small_demo

    target = write_small_demo(tmp_path / "demo")
    monkeypatch.setenv("TERRALAB_HOME", str(target))
    return target


def _button(panel: SearchPanel, row: int, label: str):
    """The button ``label`` of result row ``row``."""
    buttons = panel.rows.children[row].children[-1].children
    return next(b for b in buttons if b.description == label)


def _draw(m: Map, geometry: dict) -> None:
    """What the front end sends when a shape is drawn (ipyleaflet's DrawControl)."""
    feature = {"type": "Feature", "properties": {}, "geometry": geometry}
    m.draw_control._handle_leaflet_event(None, {"event": "draw:created", "geo_json": feature},
                                         None)


def test_admin_search_lists_results_and_footprints(home: Path) -> None:
    m = Map(layout={"height": "700px"})  # a tall map: the panel goes on it
    panel = m.add_search_panel(thumbnails=False)  # quicklooks would write into demo_home
    assert any(isinstance(c, WidgetControl) and c.widget is panel for c in m.controls)
    assert m.add_search_panel() is panel  # once
    assert "sentinel-2-l2a" in panel.collections.options
    panel.mode.value = "admin"
    panel.area_text.value = "德清县"
    panel.search_button.click()                 # searches in a thread, the button disabled
    assert panel.search_thread is not None
    panel.search_thread.join(60)
    assert not panel.search_button.disabled
    assert panel.result is not None and len(panel.result) > 0
    assert len(panel.rows.children) == min(len(panel.result), panel.page_size)
    assert panel.message_text.endswith("items found")
    first = panel.rows.children[0]
    text = next(c for c in first.children if isinstance(c, HTML)).value
    assert panel.result[0].id in text and "cloud" in text
    footprints = [layer for layer in m.layers if isinstance(layer, GeoJSON)
                  and layer.name == "Search results"]
    assert len(footprints) == 1
    assert len(footprints[0].data["features"]) == len(panel.result)
    # a narrower search replaces the footprint layer and the rows
    panel.collections.value = ("sentinel-2-l2a",)
    panel.max_cloud.value = 50
    found = panel.search()
    assert found is not None and all(i.collection_id == "sentinel-2-l2a" for i in found)
    assert all(float(i.properties["eo:cloud_cover"]) <= 50 for i in found)
    footprints = [layer for layer in m.layers if isinstance(layer, GeoJSON)
                  and layer.name == "Search results"]
    assert len(footprints) == 1 and len(footprints[0].data["features"]) == len(found)


def test_drawn_area_search(home: Path) -> None:
    m = Map()
    panel = SearchPanel(m, thumbnails=False)
    panel.mode.value = "drawn"
    _draw(m, DEQING)
    found = panel.search()
    assert found is not None and len(found) > 0
    assert len(panel.rows.children) == min(len(found), panel.page_size)
    assert not any(isinstance(c, Image) for c in panel.rows.children[0].children)


def test_drawn_area_without_drawing_says_so(home: Path) -> None:
    m = Map()
    panel = SearchPanel(m)
    panel.mode.value = "drawn"
    assert panel.search() is None
    assert "nothing is drawn" in panel.message_text
    assert panel.rows.children == ()
    alone = SearchPanel()
    alone.mode.value = "drawn"
    assert alone.search() is None and "nothing is drawn" in alone.message_text


def test_bad_place_and_no_results_are_messages(home: Path) -> None:
    m = Map()
    panel = SearchPanel(m, thumbnails=False)
    panel.mode.value = "place"
    panel.area_text.value = "Nowhereville Zzz"
    assert panel.search() is None
    assert "Nowhereville Zzz" in panel.message_text
    panel.area_text.value = ""
    assert panel.search() is None and "place name" in panel.message_text
    panel.mode.value = "admin"
    panel.area_text.value = "德清县"
    panel.start.value = panel.end.value = date(1990, 1, 1)
    found = panel.search()
    assert found is not None and len(found) == 0
    assert "no items found" in panel.message_text
    assert not any(isinstance(layer, GeoJSON) and layer.name == "Search results"
                   for layer in m.layers)


def test_uploaded_vector_file(home: Path) -> None:
    panel = SearchPanel(thumbnails=False)
    panel.mode.value = "upload"
    assert panel.search() is None and "no file uploaded" in panel.message_text
    content = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": DEQING}]}).encode()
    panel.upload.value = ({"name": "../deqing.geojson", "type": "application/json",
                           "size": len(content), "content": memoryview(content),
                           "last_modified": datetime(2025, 1, 1, tzinfo=UTC)},)
    found = panel.search()
    assert found is not None and len(found) > 0, panel.message_text


def test_add_to_map_adds_a_raster_layer(home: Path) -> None:
    m = Map()
    panel = SearchPanel(m, thumbnails=False)
    panel.area_text.value = "德清县"
    found = panel.search()
    before = len(m.layers)
    _button(panel, 0, "add to map").click()
    assert len(m.layers) == before + 1
    layer = m.layers[-1]
    assert isinstance(layer, TileLayer) and layer.name == found[0].id
    assert "added to the map" in panel.message_text
    alone = SearchPanel(thumbnails=False)
    alone.area_text.value = "德清县"
    alone.search()
    _button(alone, 0, "add to map").click()
    assert "no map attached" in alone.message_text


def test_favourite_and_add_to_project(writable_home: Path) -> None:
    import terralab.client.projects as projects
    from terralab.catalog import list_favourites

    project = projects.create("Deqing study")
    panel = SearchPanel(Map())
    panel.area_text.value = "德清县"
    found = panel.search()
    assert found is not None
    assert any(isinstance(c, Image) for c in panel.rows.children[0].children)  # a quicklook
    item = found[0]
    _button(panel, 0, "favourite").click()
    assert "added to favourites" in panel.message_text
    assert [f["id"] for f in list_favourites("alice")] == [item.id]
    _button(panel, 0, "favourite").click()
    assert "already a favourite" in panel.message_text
    assert panel.project.options == (("Deqing study", project.id),)
    panel.project.value = project.id
    _button(panel, 0, "to project").click()
    assert "added to project" in panel.message_text, panel.message_text
    assert [layer.ref for layer in projects.open(project.id).layers] == [item.id]


def test_download_writes_files_and_errors_are_messages(home: Path, tmp_path: Path) -> None:
    panel = SearchPanel(thumbnails=False, download_dir=tmp_path / "dl")
    panel.area_text.value = "德清县"
    found = panel.search()
    assert found is not None
    _button(panel, 0, "download").click()
    assert "files written" in panel.message_text, panel.message_text
    assert any((tmp_path / "dl").iterdir())
    panel.project.options = []
    _button(panel, 0, "to project").click()
    assert "no project chosen" in panel.message_text
    panel.download_dir.value = str(tmp_path / "dl" / next((tmp_path / "dl").iterdir()).name)
    _button(panel, 0, "download").click()                   # a file where a folder should be
    assert panel.message_text.endswith(f"({found[0].id})"), panel.message_text


# ------------------------------------------------------------------- layout, pages, hooks
def test_beside_a_short_map_the_panel_has_its_own_column(home: Path) -> None:
    m = Map()                                   # 400 px: a panel on it would be cut off
    panel = m.add_search_panel(thumbnails=False)
    assert not any(getattr(c, "widget", None) is panel for c in m.controls)
    box = panel.side_layout
    assert isinstance(box, HBox) and box.children == (m, panel)
    assert panel.layout.height == m.layout.height == "480px"
    assert panel.layout.overflow_y == "auto" and m.add_search_panel() is panel
    on_map = Map().add_search_panel(position="topleft", thumbnails=False)
    assert isinstance(on_map, SearchPanel)
    standalone = search_layout(Map(layout={"height": "600px"}), SearchPanel(thumbnails=False))
    assert standalone.children[1].layout.height == "600px"


def test_results_come_in_pages(home: Path) -> None:
    panel = SearchPanel(Map(), thumbnails=False, page_size=2)
    panel.area_text.value = "德清县"
    found = panel.search()
    assert found is not None and len(found) > 2, "the demo region has more than 2 items"
    ids = [item.id for item in found]
    assert panel.pager.layout.display == "flex" and panel.previous.disabled
    assert len(panel.rows.children) == 2 and ids[0] in panel.rows.children[0].children[0].value
    panel.next.click()
    assert panel.page == 1 and ids[2] in panel.rows.children[0].children[0].value
    assert panel.page_label.value.startswith("2 / ") and not panel.previous.disabled
    for _ in range(len(ids)):
        panel.next.click()
    assert panel.next.disabled and panel.page == panel.pages() - 1
    panel.previous.click()
    assert panel.page == panel.pages() - 2


def test_pages_hook_send_to_tool_download_links_and_choices(home: Path) -> None:
    m = Map()
    panel = SearchPanel(m, thumbnails=False)
    sent: list[str] = []
    chosen: list[tuple[str, str]] = []
    panel.on_send_to_tool(sent.append)
    panel.on_download_link(lambda item: f"/user/alice/download?item={item.id}&x=<1>")
    panel.on_choose(lambda action, item_id: chosen.append((action, item_id)))
    panel.area_text.value = "德清县"
    found = panel.search()
    first = found[0].id
    _button(panel, 0, "send to tool").click()
    assert sent == [first] and panel.chosen == first and chosen == [("tool", first)]
    link = next(c for c in panel.rows.children[0].children[-1].children if isinstance(c, HTML))
    assert f"href='/user/alice/download?item={first}&amp;x=&lt;1&gt;'" in link.value
    assert "download" in link.value
    _button(panel, 0, "add to map").click()
    assert chosen[-1] == ("map", first)


def test_an_ambiguous_name_offers_its_matches(home: Path) -> None:
    panel = SearchPanel(Map(), thumbnails=False)
    panel.area_text.value = "西湖区"            # Hangzhou's and Nanchang's
    assert panel.search() is None and "ambiguous" in panel.message_text
    assert panel.choice.layout.display == "flex"
    labels = [label for label, _ in panel.choice.options[1:]]
    assert len(labels) == 2 and any("浙江" in label for label in labels)
    hangzhou = next(value for label, value in panel.choice.options if "浙江" in label)
    panel.choice.value = hangzhou                # choosing one searches it
    assert panel.area_text.value == hangzhou and panel.choice.layout.display == "none"
    panel.search_thread.join(60)
    assert "ambiguous" not in panel.message_text, panel.message_text


def test_labels_in_chinese(home: Path) -> None:
    panel = SearchPanel(thumbnails=False, lang="zh")
    assert panel.search_button.description == "搜索"
    assert [label for label, _ in panel.mode.options] == ["地名", "行政区", "绘制区域", "上传文件"]
    panel.area_text.value = "德清县"
    panel.search()
    assert "加到地图" in [b.description for b in panel.rows.children[0].children[-1].children]
