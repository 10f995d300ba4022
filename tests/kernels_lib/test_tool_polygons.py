"""The polygon optimisation tool: valid, same features, shared edges kept, area reported."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio.features
import shapely
from affine import Affine
from shapely.geometry import Point, Polygon, box, shape

from terralab.tools.inputs import InputError
from terralab.tools.processing.polygon_optimisation import chaikin
from terralab.tools.registry import default_registry
from terralab.tools.runner import run_tool

CRS = "EPSG:32651"


def staircase() -> Polygon:
    """A rotated rectangle rasterized at 0.5 m and vectorized: a stepped 'AI building'."""
    side = 80
    yy, xx = np.mgrid[0:side, 0:side]
    u, v = (xx - 40) * 0.8 + (yy - 40) * 0.6, -(xx - 40) * 0.6 + (yy - 40) * 0.8
    mask = ((np.abs(u) < 25) & (np.abs(v) < 12)).astype("uint8")
    transform = Affine(0.5, 0, 1000, 0, -0.5, 2000)
    found = [shape(g) for g, value in rasterio.features.shapes(mask, transform=transform)
             if value == 1]
    assert len(found) == 1
    return found[0]


def hand_made() -> gpd.GeoDataFrame:
    """A stepped building, two parcels sharing an edge (a T-junction one side), a hole."""
    building = staircase()
    left = box(1100, 1900, 1120, 1930)  # straight shared edge x=1120, no inner vertices
    right = Polygon([(1120, 1900), (1140, 1900), (1141, 1910), (1140, 1915), (1139.8, 1920),
                     (1140, 1930), (1120, 1930), (1120, 1922.5), (1120, 1911)])
    ring = Polygon(box(1200, 1900, 1240, 1940).exterior.coords,
                   [box(1210, 1910, 1230, 1930).exterior.coords])
    jagged_ring = shapely.segmentize(ring, 0.5)  # many collinear vertices
    return gpd.GeoDataFrame(
        {"id": [7, 11, 12, 30], "name": ["building", "parcel A", "parcel B", "pond"],
         "score": [0.9, 0.5, 0.6, 0.7]},
        geometry=[building, left, right, jagged_ring], crs=CRS)


def _run(layer, home: Path, **params):
    return run_tool("polygon_optimisation", user="alice", home=home, save=False, layer=layer,
                    **params)


def _check_same_features(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame) -> None:
    assert len(after) == len(before) and after.crs == before.crs
    assert list(after.index) == list(before.index)
    attributes = [c for c in before.columns if c != before.geometry.name]
    assert after[attributes].equals(before[attributes])
    assert after.geometry.is_valid.all() and not after.geometry.is_empty.any()
    assert set(after.geom_type) <= {"Polygon", "MultiPolygon"}


def _vertices(frame: gpd.GeoDataFrame) -> int:
    return int(shapely.get_num_coordinates(frame.geometry.values).sum())


def test_registered_with_bilingual_params() -> None:
    tool = default_registry()["polygon_optimisation"]
    assert tool.info.title == "Polygon optimisation" and tool.info.title_zh == "多边形优化"
    assert tool.info.inputs == ("vector",) and tool.info.outputs == ("vector",)
    props = tool.schema()["properties"]
    assert set(props) == {"layer", "iterations", "tolerance", "keep_shared_edges", "id_field"}
    assert all(p.get("help_zh") and p.get("description") for p in props.values())


def test_chaikin_cuts_corners_and_is_symmetric() -> None:
    square = np.array([(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)], dtype=float)
    once = chaikin(square, 1)
    assert len(once) == 9 and shapely.Polygon(once).area == pytest.approx(0.875)
    fixed = np.array([True, False, True, False])
    kept = chaikin(square, 2, fixed)
    assert {(0.0, 0.0), (1.0, 1.0)} <= set(map(tuple, kept))
    assert shapely.Polygon(kept).is_valid
    # a section smoothed backwards gives exactly the same points (shared edges stay shared)
    back = chaikin(square[::-1], 2, fixed[[0, 3, 2, 1]])
    assert set(map(tuple, back)) == set(map(tuple, kept))


def test_simplify_hand_made_layer(tmp_path) -> None:
    layer = hand_made()
    result = _run(layer, tmp_path, iterations=0, tolerance=1.0)  # two 0.5 m pixels
    out, extra = result.data, result.extra
    _check_same_features(layer, out)
    assert extra["features"] == 4 and extra["simplification"] == "coverage"
    assert extra["id_field"] == "id" and set(extra["per_feature"]) == {"7", "11", "12", "30"}
    assert abs(extra["area_change_percent"]) < 1 and extra["max_feature_change_percent"] < 2
    assert _vertices(out) < _vertices(layer) / 3
    assert extra["vertices_after"] == _vertices(out)
    building = out.geometry.iloc[0]
    assert shapely.get_num_coordinates(building) < shapely.get_num_coordinates(
        layer.geometry.iloc[0]) / 4
    assert len(out.geometry.iloc[3].interiors) == 1  # the hole is kept
    _check_shared_edge(out)


def _check_shared_edge(out: gpd.GeoDataFrame) -> None:
    a, b = out.geometry.iloc[1], out.geometry.iloc[2]
    assert a.intersection(b).area == pytest.approx(0, abs=1e-9)  # no overlap
    union = shapely.union_all([a, b])
    assert union.geom_type == "Polygon" and len(union.interiors) == 0  # no gap
    assert union.area == pytest.approx(a.area + b.area, abs=1e-9)
    assert a.boundary.intersection(b.boundary).length > 25


def test_smooth_and_simplify_keeps_shared_edges(tmp_path) -> None:
    layer = hand_made()
    result = _run(layer, tmp_path, iterations=2, tolerance=0.5)
    out, extra = result.data, result.extra
    _check_same_features(layer, out)
    _check_shared_edge(out)
    assert shapely.coverage_is_valid(out.geometry.values)
    assert abs(extra["area_change_percent"]) < 5
    assert extra["vertices_after"] < extra["vertices_before"]
    smooth_only = _run(layer, tmp_path, iterations=2, tolerance=0)
    assert smooth_only.extra["simplification"] == "none"
    assert smooth_only.extra["vertices_after"] > smooth_only.extra["vertices_before"]
    _check_shared_edge(smooth_only.data)


def test_per_feature_when_not_a_coverage(tmp_path) -> None:
    layer = hand_made()
    overlapping = layer.copy()
    overlapping.loc[overlapping.index[2], "geometry"] = layer.geometry.iloc[2].buffer(1)
    result = _run(overlapping, tmp_path, iterations=1, tolerance=0.5)
    assert result.extra["simplification"] == "per feature"
    _check_same_features(overlapping, result.data)
    off = _run(layer, tmp_path, iterations=0, tolerance=0.5, keep_shared_edges=False)
    assert off.extra["simplification"] == "per feature"
    _check_same_features(layer, off.data)


def test_geographic_layer_tolerance_in_metres(tmp_path) -> None:
    layer = hand_made()
    layer.geometry = layer.geometry.translate(420_000, 3_400_000)  # onto land, zone 51N
    geographic = layer.to_crs("EPSG:4326")
    projected = _run(layer, tmp_path, iterations=0, tolerance=1.0)
    result = _run(geographic, tmp_path, iterations=0, tolerance=1.0)
    assert result.extra["units"] == "metres" and result.data.crs.to_epsg() == 4326
    _check_same_features(geographic, result.data)
    # the stepped building has many equal triangles: the round trip through degrees breaks
    # their ties differently, so the counts are close, not equal
    assert result.extra["vertices_after"] == pytest.approx(projected.extra["vertices_after"],
                                                           rel=0.3)
    assert result.extra["vertices_after"] < result.extra["vertices_before"] / 3
    assert result.extra["area_before"] == pytest.approx(projected.extra["area_before"],
                                                        rel=1e-3)
    assert abs(result.extra["area_change_percent"]) < 1


def test_other_geometries_pass_and_errors(tmp_path) -> None:
    layer = hand_made()
    mixed = gpd.GeoDataFrame({"id": [1, 2]}, geometry=[Point(1000, 2000),
                                                       layer.geometry.iloc[0]], crs=CRS)
    result = _run(mixed, tmp_path, iterations=0, tolerance=0.5)
    assert result.data.geometry.iloc[0].equals(Point(1000, 2000))
    assert result.extra["unchanged_other_geometries"] == 1
    with pytest.raises(InputError, match="no polygon"):
        _run(mixed.iloc[:1], tmp_path)
    with pytest.raises(InputError, match="no attribute 'nope'"):
        _run(layer, tmp_path, id_field="nope")
    named = _run(layer, tmp_path, tolerance=0.5, id_field="name")
    assert "parcel A" in named.extra["per_feature"]


@pytest.mark.parametrize("name", ["buildings", "parcels", "water"])
def test_demo_truth_polygons(demo_home, tmp_path, name) -> None:
    truth = next((demo_home / "catalog" / "demo" / "demo-aerial").rglob("truth.gpkg"))
    layer = gpd.read_file(truth, layer=name)
    result = run_tool("polygon_optimisation", user="alice", home=tmp_path, layer=layer,
                      iterations=1, tolerance=0.2)
    extra = result.extra
    assert extra["features"] == len(layer) == len(extra["per_feature"])
    # one Chaikin pass cuts a rectangle's corners: at most 1/8 of its area
    assert -12.6 < extra["area_change_percent"] < 0
    saved = gpd.read_file(result.path)
    assert len(saved) == len(layer) and saved.geometry.is_valid.all()
    id_column = next(c for c in layer.columns if c.endswith("id"))
    assert saved[id_column].tolist() == layer[id_column].tolist()
    assert saved.crs == layer.crs
    simplified = _run(layer, tmp_path, iterations=0, tolerance=0.2)
    _check_same_features(layer, simplified.data)
    assert simplified.extra["vertices_after"] <= simplified.extra["vertices_before"]
    assert abs(simplified.extra["area_change_percent"]) < 1
