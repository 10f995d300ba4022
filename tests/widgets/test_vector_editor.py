"""The map's vector editor (no browser): Geoman's messages become saved edits on disk."""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import box, shape

from terralab.client.mydata import my_data
from terralab.mydata.uploads import upload_file
from terralab.widgets import Map, VectorEditor


@pytest.fixture
def fields(widget_env: Path, tmp_path: Path):
    """A two-polygon layer of alice's, uploaded as a zipped shapefile in UTM 51N."""
    frame = gpd.GeoDataFrame({"name": ["a", "b"]},
                             geometry=[box(220_000, 3_399_000, 220_300, 3_399_300),
                                       box(220_500, 3_399_000, 220_800, 3_399_400)],
                             crs="EPSG:32651")
    folder = tmp_path / "shp"
    folder.mkdir()
    frame.to_file(folder / "fields.shp")
    archive = tmp_path / "fields.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for part in sorted(folder.iterdir()):
            handle.write(part, part.name)
    return upload_file(archive, owner="alice", home=widget_env)


def on_disk(editor: VectorEditor) -> gpd.GeoDataFrame:
    """The layer as GDAL reads the GeoPackage now (layer CRS)."""
    return pyogrio.read_dataframe(editor.layer.path, layer=editor.layer.table,
                                  fid_as_index=True)


def send(editor: VectorEditor, event: str, geo_json, data: list | None = None) -> None:
    """Do what the front end of ipyleaflet's GeomanDrawControl does after an edit.

    It sends the event, then syncs ``data`` (all its shapes: ``geo_json`` for the events
    that list them all, else ``data``).
    """
    editor.draw._handle_leaflet_event(None, {"event": event, "geo_json": geo_json}, [])
    editor.draw.data = copy.deepcopy(data if data is not None else geo_json)


def features(editor: VectorEditor) -> list[dict]:
    """What the map shows now, as the front end would send it back (a deep copy)."""
    return copy.deepcopy(list(editor.draw.data))


def test_the_editor_shows_the_layer_in_wgs84_tagged_with_fids(fields):
    m = Map()
    editor = m.edit(fields.id, zoom=False)
    assert editor.draw in m.controls and editor in m.controls
    assert editor.draw.current_mode == "edit"
    shown = features(editor)
    assert sorted(f["properties"]["fid"] for f in shown) == sorted(on_disk(editor).index)
    disk = on_disk(editor).to_crs("EPSG:4326")
    for feature in shown:
        assert shape(feature["geometry"]).equals_exact(
            disk.geometry[feature["properties"]["fid"]], tolerance=1e-9)
    (south, west), (north, east) = editor.bounds()
    assert 120 < west < east < 122 and 30 < south < north < 31


def test_a_dragged_vertex_is_saved_alone(fields):
    editor = Map().edit(fields, zoom=False)
    before = on_disk(editor)
    sent = features(editor)
    fid = sent[0]["properties"]["fid"]
    ring = sent[0]["geometry"]["coordinates"][0]
    x, y = ring[1]
    ring[1] = [round(x + 0.0005, 6), round(y - 0.0004, 6)]     # Leaflet rounds to 1e-6
    send(editor, "pm:vertexdrag", sent)

    after = on_disk(editor)
    assert editor.layer.history()[-1]["operation"] == "move vertex"
    moved = after.to_crs("EPSG:4326").geometry[fid].exterior.coords[1]
    assert moved == pytest.approx(tuple(ring[1]), abs=1e-9)
    old, new = list(before.geometry[fid].exterior.coords), list(after.geometry[fid].exterior.coords)
    assert [c for i, c in enumerate(new) if i != 1] == [c for i, c in enumerate(old) if i != 1]
    other = next(i for i in before.index if i != fid)
    assert after.geometry[other].equals_exact(before.geometry[other], tolerance=0)
    assert "saved" in editor.message.value and "moved" in editor.message.value


def test_insert_delete_drag_add_and_remove_are_each_saved(fields):
    editor = Map().edit(fields, zoom=False)
    fid = features(editor)[0]["properties"]["fid"]

    sent = features(editor)
    ring = sent[0]["geometry"]["coordinates"][0]
    (x0, y0), (x1, y1) = ring[0], ring[1]
    ring.insert(1, [(x0 + x1) / 2, (y0 + y1) / 2 - 0.0003])
    send(editor, "pm:vertexadded", sent)
    assert len(on_disk(editor).geometry[fid].exterior.coords) == 6
    assert editor.layer.history()[-1]["operation"] == "insert vertex"

    sent = features(editor)
    assert len(sent[0]["geometry"]["coordinates"][0]) == 6          # the map shows it too
    del sent[0]["geometry"]["coordinates"][0][1]
    send(editor, "pm:vertexremoved", sent)
    assert len(on_disk(editor).geometry[fid].exterior.coords) == 5
    assert editor.layer.history()[-1]["operation"] == "delete vertex"

    sent = features(editor)
    for corner in sent[0]["geometry"]["coordinates"][0]:
        corner[0] += 0.002
    send(editor, "pm:drag", sent)
    assert editor.layer.history()[-1]["operation"] == "replace geometry"
    assert on_disk(editor).loc[fid, "name"] == "a"                  # attributes kept

    drawn = {"type": "Feature", "properties": {"style": {}, "type": "polygon"},
             "geometry": box(120.9, 30.69, 120.91, 30.70).__geo_interface__}
    send(editor, "pm:create", drawn, data=[*features(editor), drawn])
    assert len(on_disk(editor)) == 3
    new_fid = max(on_disk(editor).index)
    shown = {f["properties"]["fid"] for f in features(editor)}     # redrawn, with its fid
    assert new_fid in shown

    removed = next(f for f in features(editor) if f["properties"]["fid"] == fid)
    send(editor, "pm:remove", removed,
         data=[f for f in features(editor) if f["properties"]["fid"] != fid])
    assert fid not in on_disk(editor).index
    assert [h["operation"] for h in editor.layer.history()][-2:] == ["add polygon",
                                                                    "delete polygon"]


def test_a_refused_edit_changes_nothing_and_redraws_the_file(fields):
    editor = Map().edit(fields, zoom=False)
    before = on_disk(editor)
    sent = features(editor)
    ring = sent[0]["geometry"]["coordinates"][0]
    (x0, y0), (x1, y1), (x2, y2) = ring[0], ring[1], ring[2]
    ring[0] = [(x1 + x2) / 2 + x1 - x0, (y1 + y2) / 2 + y1 - y0]   # past the far side
    ring[-1] = ring[0]
    send(editor, "pm:vertexdrag", sent)
    assert "not saved" in editor.message.value and "invalid" in editor.message.value
    assert on_disk(editor).geometry.geom_equals(before.geometry).all()
    assert features(editor) == editor.features()                     # back to the file
    assert editor.layer.history() == []


def test_a_polygon_drawn_without_fid_is_tagged_when_the_map_syncs(fields):
    editor = Map().edit(fields, zoom=False)
    untagged = {"type": "Feature", "properties": {"style": {}},
                "geometry": box(120.9, 30.69, 120.91, 30.70).__geo_interface__}
    editor.draw.data = [*features(editor), untagged]               # the front end's sync
    assert all(isinstance(f["properties"].get("fid"), int) for f in editor.draw.data)
    assert len(editor.draw.data) == 2                              # unsaved shape dropped


def test_undo_and_done_buttons(fields):
    m = Map()
    editor = m.edit(fields, zoom=False)
    sent = features(editor)
    sent[0]["geometry"]["coordinates"][0][2][1] += 0.001
    send(editor, "pm:vertexdrag", sent)
    assert len(editor.layer.history()) == 1
    editor.undo_button.click()
    assert editor.layer.history() == [] and "undone: move vertex" in editor.message.value
    editor.undo_button.click()
    assert "nothing to undo" in editor.message.value
    second = m.edit(fields, zoom=False)                             # replaces the first
    assert editor not in m.controls and second in m.controls
    second.done_button.click()
    assert second not in m.controls and second.draw not in m.controls


def test_only_my_vector_layers_open(fields, widget_env, monkeypatch):
    with pytest.raises(ValueError, match="you have no item"):
        Map().edit("no-such-item", zoom=False)
    monkeypatch.setenv("TERRALAB_USER", "bob")
    (widget_env / "users" / "bob").mkdir()
    with pytest.raises(ValueError, match="you have no item"):
        Map().edit(fields.id, zoom=False)


def test_drawn_shapes_are_saved_to_my_data(widget_env):
    m = Map()
    with pytest.raises(ValueError, match="nothing is drawn"):
        m.save_aoi("empty")
    first = box(120.0, 30.0, 120.1, 30.1).__geo_interface__
    second = box(120.2, 30.2, 120.3, 30.3).__geo_interface__
    m.draw_control.data = [{"type": "Feature", "properties": {"style": {"color": "red"}},
                            "geometry": g} for g in (first, second)]
    record = m.save_aoi("two areas")
    assert record.title == "two areas" and record.data_type == "vector"
    assert record.id in {r.id for r in my_data()}
    saved = editor_frame = gpd.read_file(VectorEditor(m, record).layer.path, layer="data")
    assert len(saved) == 2 and saved.crs.to_epsg() == 4326
    assert saved.geometry.iloc[1].equals(shape(second))
    only = m.save_aoi("the aoi", everything=False)
    assert len(gpd.read_file(VectorEditor(m, only).layer.path, layer="data")) == 1
    assert json.loads(json.dumps(editor_frame.total_bounds.tolist()))[0] == pytest.approx(120.0)
