"""terralab.areas: drawn geometries, the safe vector-file reader and the CRS rule."""

import json
import zipfile

import geopandas
import pytest
from pyproj import CRS
from pyproj.enums import WktVersion
from shapely.geometry import MultiPolygon, Point, Polygon, box, mapping

from terralab.areas import (
    AreaError,
    check_crs,
    parse_geometry,
    read_vector_file,
    resolve_area,
)
from terralab.areas.vector_files import check_shapefile_zip

AOI = Point(119.96, 30.545).buffer(0.05)


def frame(crs="EPSG:4326", geometry=AOI):
    return geopandas.GeoDataFrame({"name": ["aoi"]}, geometry=[geometry],
                                  crs="EPSG:4326").to_crs(crs)


def write_shapefile(folder, stem="aoi", crs="EPSG:4326"):
    frame(crs).to_file(folder / f"{stem}.shp")
    return {ext: folder / f"{stem}.{ext}" for ext in ("shp", "shx", "dbf", "prj")}


def zip_files(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, source in members.items():
            data = source if isinstance(source, bytes) else source.read_bytes()
            archive.writestr(zipfile.ZipInfo(name), data)  # names kept as given, even "/x"
    return path


@pytest.fixture
def shapefile(tmp_path):
    return write_shapefile(tmp_path)


# --- drawn geometries ----------------------------------------------------------------------

def test_geojson_shapes_and_bbox():
    feature = {"type": "Feature", "properties": {"name": "my aoi"}, "geometry": mapping(AOI)}
    collection = {"type": "FeatureCollection", "features": [feature, {
        "type": "Feature", "properties": {}, "geometry": mapping(box(120, 30, 120.1, 30.1))}]}
    assert parse_geometry(mapping(AOI)).equals(AOI)
    assert parse_geometry(feature).equals(AOI)
    assert parse_geometry(collection).contains(Point(120.05, 30.05))
    assert resolve_area(geometry=feature).name == "my aoi"
    area = resolve_area(geometry=(119.9, 30.5, 120.0, 30.6))
    assert area.kind == "geometry" and area.geometry.equals(box(119.9, 30.5, 120.0, 30.6))
    assert parse_geometry(geopandas.GeoSeries([AOI], crs="EPSG:4326").to_crs(4549)) \
        .symmetric_difference(AOI).area < 1e-12


@pytest.mark.parametrize(("value", "message"), [
    ({"type": "Polygon", "coordinates": []}, "empty"),
    ({"type": "FeatureCollection", "features": []}, "empty"),
    ({"type": "Feature", "geometry": None}, "empty"),
    ('{"type": "Polygon", "coordinates": [[1, 2]', "JSON"),
    ({"type": "Polygon", "coordinates": [[1, 2]]}, "not a valid GeoJSON Polygon"),
    ({"type": "Circle"}, "not GeoJSON"),
    ((120, 30, 119, 31), "west < east"),
    ((119, 30, 120), "bbox"),
    ((0, 0, 500000, 3000000), "outside"),
    (Point(500000, 3300000).buffer(100), "projected"),
    (Polygon(), "empty"),
    ("POLYGON ((0 0, 1", "WKT"),
    (42, "must be"),
])
def test_bad_geometries_are_clear_errors(value, message):
    with pytest.raises(AreaError, match=message):
        resolve_area(geometry=value)


def test_self_intersecting_polygon_is_repaired():
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    repaired = parse_geometry(bowtie)
    assert repaired.is_valid and isinstance(repaired, MultiPolygon)
    assert repaired.area == pytest.approx(0.5)


def test_old_style_crs_member_is_honoured():
    gk = frame("EPSG:4527").geometry.iloc[0]
    data = {"type": "Feature", "geometry": mapping(gk),
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4527"}}}
    assert parse_geometry(data).symmetric_difference(AOI).area < 1e-10


# --- the CRS rule --------------------------------------------------------------------------

@pytest.mark.parametrize(("crs", "datum"), [
    ("EPSG:4326", "WGS 84"), ("OGC:CRS84", "WGS 84"), ("EPSG:32650", "WGS 84"),
    ("EPSG:4490", "CGCS2000"), ("EPSG:4513", "CGCS2000"), ("EPSG:4554", "CGCS2000"),
    ("EPSG:4610", "Xian 1980"), ("EPSG:2327", "Xian 1980"),
    ("EPSG:4214", "Beijing 1954"), ("EPSG:2401", "Beijing 1954"),
    (CRS("EPSG:4527").to_wkt(WktVersion.WKT1_ESRI), "CGCS2000"),
])
def test_allowed_crs(crs, datum):
    assert check_crs(crs).datum == datum


@pytest.mark.parametrize("crs", ["EPSG:3857", "IAU_2015:49900", "EPSG:4269", "EPSG:4284",
                                 "EPSG:4978", "not a crs", None])
def test_refused_crs(crs):
    with pytest.raises(AreaError):
        check_crs(crs)


# --- vector files --------------------------------------------------------------------------

def test_zipped_shapefile(tmp_path, shapefile):
    archive = zip_files(tmp_path / "aoi.zip", {f"aoi.{e}": p for e, p in shapefile.items()})
    data = read_vector_file(archive)
    assert data.frame.crs.to_epsg() == 4326 and len(data.frame) == 1
    assert data.geometry.symmetric_difference(AOI).area < 1e-12
    area = resolve_area(archive)
    assert area.kind == "file" and area.name == "aoi.zip" and "WGS 84" in area.note
    assert resolve_area(file=str(archive)).geometry.equals(area.geometry)


def test_geojson_file(tmp_path):
    path = tmp_path / "aoi.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": mapping(AOI)}]}))
    area = resolve_area(file=path)
    assert area.geometry.symmetric_difference(AOI).area < 1e-12
    assert resolve_area(str(path)).kind == "file"


def test_geojson_in_cgcs2000_and_gauss_kruger(tmp_path):
    frame("EPSG:4490").to_file(tmp_path / "cgcs.geojson", driver="GeoJSON")
    data = read_vector_file(tmp_path / "cgcs.geojson")
    assert data.crs.datum == "CGCS2000" and not data.crs.projected
    assert data.geometry.symmetric_difference(AOI).area < 1e-12
    # CGCS2000 / 3-degree Gauss-Kruger CM 120E: on the central meridian at 30°N the
    # easting is 500 000 m and the northing the meridian arc, 3 320 113.4 m (GRS80).
    point = {"type": "FeatureCollection",
             "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4549"}},
             "features": [{"type": "Feature", "properties": {},
                           "geometry": {"type": "Point", "coordinates": [500000, 3320113.4]}}]}
    (tmp_path / "gk.geojson").write_text(json.dumps(point))
    data = read_vector_file(tmp_path / "gk.geojson")
    assert data.crs.projected and data.crs.datum == "CGCS2000"
    assert data.geometry.x == pytest.approx(120.0, abs=1e-7)
    assert data.geometry.y == pytest.approx(30.0, abs=1e-6)


def test_xian80_and_beijing54_files_report_their_accuracy(tmp_path):
    frame("EPSG:2385").to_file(tmp_path / "xian.gpkg")
    data = read_vector_file(tmp_path / "xian.gpkg")
    assert data.crs.datum == "Xian 1980" and "100 m" in data.crs.accuracy
    assert data.geometry.hausdorff_distance(AOI) < 0.01
    frame("EPSG:2436").to_file(tmp_path / "b54.gpkg")
    assert read_vector_file(tmp_path / "b54.gpkg").crs.datum == "Beijing 1954"


def test_geopackage_layers(tmp_path):
    path = tmp_path / "two.gpkg"
    frame().to_file(path, layer="one")
    frame().to_file(path, layer="two")
    with pytest.raises(AreaError, match="layer"):
        read_vector_file(path)
    assert read_vector_file(path, layer="two").layer == "two"
    with pytest.raises(AreaError, match="three"):
        read_vector_file(path, layer="three")
    assert resolve_area(file=path, layer="one").name == "two.gpkg (one)"


def test_zip_with_two_shapefiles_is_refused(tmp_path, shapefile):
    members = {f"{stem}.{e}": p for stem in ("a", "b") for e, p in shapefile.items()}
    archive = zip_files(tmp_path / "two.zip", members)
    with pytest.raises(AreaError, match="2 shapefiles"):
        resolve_area(file=archive)


@pytest.mark.parametrize(("names", "message"), [
    ({"shp": "data/aoi.shp", "shx": "data/aoi.shx", "dbf": "data/aoi.dbf",
      "prj": "data/aoi.prj"}, "folder"),
    ({"shp": "aoi.shp", "shx": "aoi.shx", "dbf": "aoi.dbf", "prj": "sub/aoi.prj"}, "folder"),
    ({"shp": "aoi.shp", "shx": "aoi.shx", "dbf": "aoi.dbf", "prj": "../aoi.prj"}, "unsafe"),
    ({"shp": "/tmp/aoi.shp", "shx": "aoi.shx", "dbf": "aoi.dbf", "prj": "aoi.prj"}, "unsafe"),
    ({"shp": "aoi.shp", "shx": "aoi.shx", "dbf": "aoi.dbf", "prj": "x\\aoi.prj"}, "unsafe"),
    ({"shp": "aoi.shp", "shx": "aoi.shx", "dbf": "aoi.dbf"}, r"lacks aoi\.prj"),
    ({"shp": "aoi.shp", "dbf": "aoi.dbf", "prj": "aoi.prj"}, r"lacks aoi\.shx"),
    ({"dbf": "aoi.dbf"}, "no shapefile"),
])
def test_bad_zips_are_refused(tmp_path, shapefile, names, message):
    archive = zip_files(tmp_path / "bad.zip", {name: shapefile[e] for e, name in names.items()})
    with pytest.raises(AreaError, match=message):
        read_vector_file(archive)


def test_zip_extras_macos_metadata_and_limits(tmp_path, shapefile, monkeypatch):
    members = {f"aoi.{e}": p for e, p in shapefile.items()}
    members["__MACOSX/._aoi.shp"] = b"junk"
    members["readme.txt"] = b"hello"
    archive = zip_files(tmp_path / "extra.zip", members)
    assert set(check_shapefile_zip(archive)) == {".shp", ".shx", ".dbf", ".prj"}
    with pytest.raises(AreaError, match="allowed"):
        read_vector_file(archive, max_bytes=100)
    monkeypatch.setenv("TERRALAB_VECTOR_MAX_BYTES", "100")
    with pytest.raises(AreaError, match="100 bytes allowed"):
        read_vector_file(archive)


def test_not_a_zip_and_unsupported_types(tmp_path):
    fake = tmp_path / "fake.zip"
    fake.write_bytes(b"not a zip at all")
    with pytest.raises(AreaError, match="not a readable zip"):
        read_vector_file(fake)
    kml = tmp_path / "a.kml"
    kml.write_text("<kml/>")
    with pytest.raises(AreaError, match="unsupported"):
        read_vector_file(kml)
    with pytest.raises(AreaError, match="not found"):
        read_vector_file(tmp_path / "missing.geojson")
    bad = tmp_path / "bad.gpkg"
    bad.write_bytes(b"SQLite format 3\x00garbage")
    with pytest.raises(AreaError, match=r"bad\.gpkg"):
        read_vector_file(bad)


def test_crs_outside_the_rule_is_refused(tmp_path):
    frame("EPSG:3857").to_file(tmp_path / "web.geojson", driver="GeoJSON")
    with pytest.raises(AreaError, match="Pseudo-Mercator"):
        read_vector_file(tmp_path / "web.geojson")
    paths = write_shapefile(tmp_path, "aoi", "EPSG:4326")
    paths["prj"].write_text(CRS("IAU_2015:49900").to_wkt(WktVersion.WKT1_ESRI))
    archive = zip_files(tmp_path / "mars.zip", {f"aoi.{e}": p for e, p in paths.items()})
    with pytest.raises(AreaError, match="Mars"):
        read_vector_file(archive)


def test_invalid_and_empty_geojson_files(tmp_path):
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json")
    with pytest.raises(AreaError, match="not valid GeoJSON"):
        resolve_area(file=bad)
    empty = tmp_path / "empty.geojson"
    empty.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(AreaError, match="empty"):
        resolve_area(file=empty)
    nulls = tmp_path / "nulls.geojson"
    nulls.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"a": 1}, "geometry": None}]}))
    with pytest.raises(AreaError, match="empty"):
        resolve_area(file=nulls)
    projected = tmp_path / "projected.geojson"
    projected.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": {
        "type": "Point", "coordinates": [500000, 3320000]}}))
    with pytest.raises(AreaError, match="outside"):
        resolve_area(file=projected)
