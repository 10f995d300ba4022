"""Vector editing: each edit saved at once (re-read from disk by GDAL), undo, refusals."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely import affinity
from shapely.geometry import Point, box

from terralab.mydata.errors import MyDataError
from terralab.mydata.uploads import upload_file
from terralab.mydata.vector_edit import EditError, VectorLayer


@pytest.fixture
def layer(tmp_path: Path) -> VectorLayer:
    home = tmp_path / "home"
    home.mkdir()
    frame = gpd.GeoDataFrame({"name": ["a", "b"], "area_ha": [9.0, 12.0]},
                             geometry=[box(220_000, 3_399_000, 220_300, 3_399_300),
                                       box(220_500, 3_399_000, 220_800, 3_399_400)],
                             crs="EPSG:32651")
    frame.to_file(tmp_path / "fields.shp")
    archive = tmp_path / "fields.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            if (tmp_path / f"fields{ext}").exists():
                handle.write(tmp_path / f"fields{ext}", f"fields{ext}")
    record = upload_file(archive, owner="alice", home=home)
    return VectorLayer("alice", record.id, home=home)


def on_disk(layer: VectorLayer) -> gpd.GeoDataFrame:
    """The layer as GDAL reads the file now."""
    return pyogrio.read_dataframe(layer.path, fid_as_index=True)


def _outward(layer: VectorLayer, fid: int, index: int, factor: float) -> tuple[float, float]:
    """Corner ``index`` of ``fid`` pushed away from the centroid (stays a valid polygon)."""
    polygon = on_disk(layer).geometry[fid]
    x, y = polygon.exterior.coords[index]
    cx, cy = polygon.centroid.coords[0]
    return x + (x - cx) * factor, y + (y - cy) * factor


def test_each_edit_is_saved_at_once_and_undone(layer: VectorLayer) -> None:
    first = int(on_disk(layer).index[0])
    original = on_disk(layer).geometry[first]
    target = _outward(layer, first, 0, 0.1)
    layer.move_vertex(first, 0, target)
    moved = on_disk(layer).geometry[first]
    assert moved.exterior.coords[0] == pytest.approx(target)
    assert moved.exterior.coords[0] == moved.exterior.coords[-1]        # still closed

    (x0, y0), (x1, y1) = moved.exterior.coords[0], moved.exterior.coords[1]
    cx, cy = moved.centroid.coords[0]
    mid = ((x0 + x1) / 2, (y0 + y1) / 2)
    layer.insert_vertex(first, 1, (mid[0] + (mid[0] - cx) * 0.1, mid[1] + (mid[1] - cy) * 0.1))
    assert len(on_disk(layer).geometry[first].exterior.coords) == 6
    layer.delete_vertex(first, 1)
    assert len(on_disk(layer).geometry[first].exterior.coords) == 5

    new = layer.add_polygon(box(221_000, 3_399_000, 221_100, 3_399_100), {"name": "c"})
    assert on_disk(layer).loc[new, "name"] == "c"
    layer.set_attributes(new, name="c2", area_ha=1.0)
    assert on_disk(layer).loc[new, "area_ha"] == 1.0
    layer.delete_polygon(new)
    assert new not in on_disk(layer).index

    # map coordinates in longitude, latitude
    corner = _outward(layer, first, 2, 0.05)
    lon, lat = gpd.GeoSeries([Point(corner)], crs="EPSG:32651").to_crs(4326).iloc[0].coords[0]
    layer.move_vertex(first, 2, (lon, lat), crs="EPSG:4326")
    assert on_disk(layer).geometry[first].exterior.coords[2] == pytest.approx(corner, abs=0.01)

    operations = [h["operation"] for h in layer.history()]
    assert operations == ["move vertex", "insert vertex", "delete vertex", "add polygon",
                          "set attributes", "delete polygon", "move vertex"]
    while layer.undo():
        pass
    restored = on_disk(layer)
    assert list(restored.index) == [first, first + 1]
    assert restored.geometry[first].equals(original)
    assert layer.history() == []
    # the spatial index still answers after the edits (GDAL reads with a bbox through it)
    found = pyogrio.read_dataframe(layer.path, bbox=(220_400, 3_398_900, 220_900, 3_399_500))
    assert list(found["name"]) == ["b"]


def test_bad_edits_change_nothing(layer: VectorLayer) -> None:
    first = int(on_disk(layer).index[0])
    before = on_disk(layer)
    ring = before.geometry[first].exterior.coords
    with pytest.raises(EditError, match="invalid"):   # the ring would run through corner 2
        (x2, y2), (x3, y3) = ring[2], ring[3]
        layer.move_vertex(first, 0, (2 * x2 - x3, 2 * y2 - y3))
    for call in (lambda: layer.delete_vertex(first, 0) or layer.delete_vertex(first, 0),
                 lambda: layer.move_vertex(first, 9, (0, 0)),
                 lambda: layer.move_vertex(999, 0, (0, 0)),
                 lambda: layer.set_attributes(first, colour="red"),
                 lambda: layer.move_vertex(first, 0, (0, 0), ring=3)):
        with pytest.raises(EditError):
            call()
    while layer.undo():
        pass
    after = on_disk(layer)
    assert after.geometry.geom_equals(before.geometry).all()


def test_replace_geometry_keeps_attributes_and_undoes(layer: VectorLayer) -> None:
    first = int(on_disk(layer).index[0])
    before = on_disk(layer)
    moved = before.to_crs("EPSG:4326").geometry[first].buffer(0)
    shifted = affinity.translate(moved, xoff=0.001, yoff=0.0005)
    layer.replace_geometry(first, shifted.__geo_interface__, crs="EPSG:4326")
    now = on_disk(layer)
    assert now.loc[first, "name"] == before.loc[first, "name"]
    back = now.to_crs("EPSG:4326").geometry[first]
    assert back.equals_exact(shifted, tolerance=1e-7) or back.symmetric_difference(
        shifted).area < 1e-12
    assert layer.history()[-1]["operation"] == "replace geometry"
    with pytest.raises(EditError, match="invalid"):
        layer.replace_geometry(first, {"type": "Polygon", "coordinates": [
            [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]})
    assert layer.undo() == f"replace geometry of feature {first}"
    assert on_disk(layer).geometry[first].equals(before.geometry[first])


def test_only_the_owners_vector_layers_open(layer: VectorLayer) -> None:
    with pytest.raises(MyDataError):
        VectorLayer("bob", layer.item_id, home=layer.home)
