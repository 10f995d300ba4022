"""Vector uploads: zip-slip and zip-bomb refusals, encodings, CRS rules, publishing."""

import json
import stat
import struct
import tempfile
import warnings
import zipfile

import geopandas
import numpy as np
import pyogrio
import pytest
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from shapely.geometry import LineString, Point, box, mapping

from terralab.areas import AreaError, read_vector_file
from terralab.areas.vector_files import check_shapefile_zip
from terralab.mydata.errors import UploadError
from terralab.mydata.limits import UploadLimits
from terralab.mydata.vector_publish import list_layers, publish_vector

LIMITS = UploadLimits()
HUZHOU = Point(119.96, 30.545)
EXTS = ("shp", "shx", "dbf", "prj")


def frame(crs="EPSG:4326", names=("湖州市", "杭州")):
    shapes = [HUZHOU.buffer(0.05), box(120.0, 30.6, 120.05, 30.65)][:len(names)]
    return geopandas.GeoDataFrame({"name": list(names)}, geometry=shapes,
                                  crs="EPSG:4326").to_crs(crs)


def shapefile(folder, crs="EPSG:4326", stem="aoi", encoding=None, names=("湖州市", "杭州")):
    """Write a shapefile and return its files' bytes by extension (no .cpg)."""
    folder.mkdir(exist_ok=True)
    pyogrio.write_dataframe(frame(crs, names), folder / f"{stem}.shp", encoding=encoding)
    return {ext: (folder / f"{stem}.{ext}").read_bytes() for ext in EXTS
            if (folder / f"{stem}.{ext}").exists()}


def zip_of(path, members, *, attrs=None):
    """Zip ``{name: bytes}`` (names kept exactly as given), deflated."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if attrs and name in attrs:
                info.external_attr = attrs[name]
            archive.writestr(info, data)
    return path


def shapefile_zip(tmp_path, zip_name="aoi.zip", stem="aoi", **options):
    files = shapefile(tmp_path / "src", stem=stem, **options)
    return zip_of(tmp_path / zip_name, {f"{stem}.{ext}": data for ext, data in files.items()})


def refused(rule, path, folder, limits=LIMITS, **options):
    with pytest.raises(UploadError) as caught:
        publish_vector(path, folder, limits, **options)
    assert caught.value.rule == rule, str(caught.value)
    return str(caught.value)


def alpha_of(png_path):
    """The alpha band of a 256×256 RGBA thumbnail."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(png_path) as png:
            assert (png.count, png.width, png.height) == (4, 256, 256)
            return png.read(4)


@pytest.fixture
def files(tmp_path):
    return shapefile(tmp_path / "src")


# --- zip slip ------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["../aoi.shp", "/etc/aoi.shp", "C:/aoi.shp", "C:\\aoi.shp",
                                 "C:aoi.shp", "./../aoi.shp", "./aoi.shp", "a//aoi.shp"])
def test_unsafe_member_names_are_refused(tmp_path, files, bad):
    members = {f"aoi.{ext}": data for ext, data in files.items() if ext != "shp"}
    members[bad] = files["shp"]
    archive = zip_of(tmp_path / "slip.zip", members)
    message = refused("zip", archive, tmp_path / "out")
    assert "unsafe member name" in message and "slip.zip" in message
    assert not (tmp_path / "out").exists()
    with pytest.raises(AreaError, match="unsafe"):  # search areas too
        read_vector_file(archive)


def test_symlink_member_is_refused(tmp_path, files):
    members = {f"aoi.{ext}": data for ext, data in files.items()}
    members["aoi.shp"] = b"/etc/passwd"
    archive = zip_of(tmp_path / "link.zip", members,
                     attrs={"aoi.shp": (stat.S_IFLNK | 0o777) << 16})
    assert "link" in refused("zip", archive, tmp_path / "out")


def test_nul_in_a_member_name_is_refused(tmp_path, files):
    members = {f"aoi.{ext}": data for ext, data in files.items()}
    members["aoi.shpX.txt"] = b"hidden"
    archive = zip_of(tmp_path / "nul.zip", members)
    raw = archive.read_bytes()
    assert raw.count(b"aoi.shpX.txt") == 2  # local header and central directory
    archive.write_bytes(raw.replace(b"aoi.shpX.txt", b"aoi.shp\x00.txt"))
    assert "\\x00" in refused("zip", archive, tmp_path / "out")


def test_members_differing_only_by_case(tmp_path, files):
    mixed = {"AOI.SHP": files["shp"], "aoi.shx": files["shx"], "Aoi.dbf": files["dbf"],
             "aoi.Prj": files["prj"]}
    published = publish_vector(zip_of(tmp_path / "mixed.zip", mixed), tmp_path / "ok", LIMITS)
    assert published.feature_count == 2 and published.source_layer == "AOI"
    twice = zip_of(tmp_path / "twice.zip", {**mixed, "aoi.dbf": files["dbf"]})
    assert "holds both" in refused("zip", twice, tmp_path / "out")


def test_header_name_differing_from_directory_is_refused(tmp_path, files):
    archive = zip_of(tmp_path / "liar.zip", {f"aoi.{e}": d for e, d in files.items()})
    raw = archive.read_bytes()
    archive.write_bytes(raw.replace(b"aoi.dbf", b"aoi.dbg", 1))  # the local header only
    assert "damaged" in refused("zip", archive, tmp_path / "out")


def test_member_larger_than_declared_is_refused(tmp_path, files):
    archive = zip_of(tmp_path / "grow.zip", {f"aoi.{e}": d for e, d in files.items()})
    raw = bytearray(archive.read_bytes())
    at = raw.find(b"PK\x01\x02")
    while at >= 0:  # shrink the .dbf's declared size in the central directory
        length = struct.unpack_from("<H", raw, at + 28)[0]
        if raw[at + 46:at + 46 + length] == b"aoi.dbf":
            struct.pack_into("<L", raw, at + 24, 10)
        at = raw.find(b"PK\x01\x02", at + 1)
    archive.write_bytes(bytes(raw))
    assert "grow.zip" in refused("zip", archive, tmp_path / "out")


# --- zip bombs: refused from the central directory, before anything is unpacked --------------

@pytest.fixture
def no_unpacking(tmp_path, monkeypatch):
    """Fail on any decompression; point tempfile at an empty folder to check it stays so."""
    def forbidden(*args, **kwargs):
        raise AssertionError("a member was decompressed")

    monkeypatch.setattr(zipfile.ZipExtFile, "read", forbidden)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    yield tmp_path / "out"
    assert not list(scratch.iterdir())
    assert not (tmp_path / "out").exists()


def test_too_many_entries(tmp_path, files, no_unpacking):
    members = {f"aoi.{e}": d for e, d in files.items()}
    members.update({f"note{i}.txt": b"x" for i in range(20)})
    archive = zip_of(tmp_path / "many.zip", members)
    message = refused("zip", archive, no_unpacking, LIMITS.with_(zip_max_entries=10))
    assert message == "many.zip holds 24 entries; at most 10 are allowed"


def test_total_unpacked_size(tmp_path, files, no_unpacking):
    members = {f"aoi.{e}": d for e, d in files.items()}
    members["readme.txt"] = b"r" * 5000
    archive = zip_of(tmp_path / "big.zip", members)
    message = refused("zip", archive, no_unpacking, LIMITS.with_(zip_max_unpacked=4000))
    assert "would unpack to" in message and "more than the 3.91 kB allowed" in message


def test_member_with_a_huge_compression_ratio(tmp_path, files, no_unpacking):
    members = {f"aoi.{e}": d for e, d in files.items()}
    members["aoi.dbf"] = bytes(50 * 1024**2)
    archive = zip_of(tmp_path / "bomb.zip", members)
    assert archive.stat().st_size < 200_000
    message = refused("zip", archive, no_unpacking)
    assert "member aoi.dbf is compressed" in message and "200:1 allowed (a zip bomb?)" in message


def test_empty_and_stored_members_are_not_bombs(tmp_path, files):
    with zipfile.ZipFile(tmp_path / "plain.zip", "w", zipfile.ZIP_STORED) as archive:
        for ext, data in files.items():
            archive.writestr(f"aoi.{ext}", data)
        archive.writestr("empty.txt", b"")
        archive.writestr("docs/", b"")  # a folder entry outside the shapefile is still refused
    assert "folder" in refused("zip", tmp_path / "plain.zip", tmp_path / "out")
    with zipfile.ZipFile(tmp_path / "plain.zip", "w", zipfile.ZIP_STORED) as archive:
        for ext, data in files.items():
            archive.writestr(f"aoi.{ext}", data)
        archive.writestr("aoi.cpg", b"")
    published = publish_vector(tmp_path / "plain.zip", tmp_path / "ok", LIMITS)
    assert published.feature_count == 2 and published.flags == ()


# --- what is accepted ----------------------------------------------------------------------

def test_cgcs2000_gauss_kruger_shapefile_publishes(tmp_path):
    archive = shapefile_zip(tmp_path, crs="EPSG:4549", encoding="UTF-8")
    published = publish_vector(archive, tmp_path / "out", LIMITS)
    assert published.gpkg == tmp_path / "out" / "data.gpkg"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["data.gpkg", "thumbnail.png"]
    stored = pyogrio.read_dataframe(published.gpkg, layer="data")
    assert stored.crs.to_epsg() == 4549 and len(stored) == 2 == published.feature_count
    assert stored["name"].tolist() == ["湖州市", "杭州"]
    assert pyogrio.list_layers(published.gpkg)[:, 0].tolist() == ["data"]
    assert published.crs_known and "CGCS2000" in published.crs_name
    assert published.geometry_types == ("Polygon",) and published.source_layer == "aoi"
    assert published.footprint_wgs84.contains(HUZHOU)
    west, _, _, north = published.bounds_wgs84
    assert west == pytest.approx(119.91, abs=1e-3) and north == pytest.approx(30.65, abs=1e-3)
    assert published.encoding == "UTF-8" and published.flags == ()
    alpha = alpha_of(published.thumbnail)
    assert (alpha == 255).sum() > 100 and (alpha == 90).sum() > 1000 and (alpha == 0).any()
    assert list_layers(archive) == ["aoi"]


def test_shapefile_without_prj_is_accepted_with_crs_unknown(tmp_path, files):
    members = {f"aoi.{e}": d for e, d in files.items() if e != "prj"}
    archive = zip_of(tmp_path / "noprj.zip", members)
    published = publish_vector(archive, tmp_path / "out", LIMITS)
    assert not published.crs_known and published.crs_name is None
    assert published.footprint_wgs84 is None and published.bounds_wgs84 is None
    assert published.flags[0].startswith("CRS unknown: the shapefile has no .prj")
    assert pyogrio.read_dataframe(published.gpkg).crs is None
    assert published.thumbnail.stat().st_size > 100
    with pytest.raises(AreaError, match=r"lacks aoi\.prj"):  # search areas still need it
        check_shapefile_zip(archive)
    garbage = zip_of(tmp_path / "garbage.zip", {**members, "aoi.prj": b"not a crs"})
    published = publish_vector(garbage, tmp_path / "out2", LIMITS)
    assert not published.crs_known and ".prj could not be read" in published.flags[0]


def test_geojson_publishes(tmp_path):
    features = [{"type": "Feature", "properties": {"kind": k}, "geometry": mapping(g)}
                for k, g in (("road", LineString([(120, 30), (120.1, 30.05)])),
                             ("well", Point(120.05, 30.0)))]
    path = tmp_path / "things.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    published = publish_vector(path, tmp_path / "out", LIMITS)
    assert published.feature_count == 2 and published.geometry_types == ("LineString", "Point")
    assert published.crs_known and published.encoding == "UTF-8"
    assert published.bounds_wgs84 == pytest.approx((120, 30, 120.1, 30.05))
    assert (alpha_of(published.thumbnail) == 255).sum() > 25
    assert list_layers(path) == ["things"]


def test_geopackage_with_two_layers(tmp_path):
    path = tmp_path / "two.gpkg"
    frame().to_file(path, layer="one")
    frame("EPSG:4490").to_file(path, layer="two")
    assert list_layers(path) == ["one", "two"]
    with pytest.raises(UploadError) as caught:
        publish_vector(path, tmp_path / "out", LIMITS)
    assert caught.value.rule == "layers" and caught.value.layers == ["one", "two"]
    assert "one, two" in str(caught.value) and "layer=" in str(caught.value)
    assert "one, two" in refused("layers", path, tmp_path / "out", layer="three")
    published = publish_vector(path, tmp_path / "out", LIMITS, layer="two")
    assert published.source_layer == "two" and published.feature_count == 2
    assert pyogrio.read_dataframe(published.gpkg).crs.to_epsg() == 4490


# --- text encodings ------------------------------------------------------------------------

def test_gbk_dbf_without_cpg(tmp_path):
    archive = shapefile_zip(tmp_path, encoding="GBK")
    published = publish_vector(archive, tmp_path / "out", LIMITS)
    assert published.encoding == "GB18030"
    assert "attribute text was not valid UTF-8 and was read as GB18030" in published.flags
    assert pyogrio.read_dataframe(published.gpkg)["name"].tolist() == ["湖州市", "杭州"]


def test_cpg_saying_utf8_over_invalid_bytes(tmp_path):
    files = shapefile(tmp_path / "src", encoding="GBK")
    members = {f"aoi.{e}": d for e, d in files.items()}
    archive = zip_of(tmp_path / "cpg.zip", {**members, "aoi.cpg": b"UTF-8"})
    published = publish_vector(archive, tmp_path / "out", LIMITS)
    assert published.encoding == "GB18030"
    assert any("as its .cpg says" in flag for flag in published.flags)
    junk = shapefile(tmp_path / "junk", stem="aoi", encoding="ISO-8859-1", names=("ÿÿÿ", "x"))
    archive = zip_of(tmp_path / "junk.zip", {f"aoi.{e}": d for e, d in junk.items()})
    published = publish_vector(archive, tmp_path / "out2", LIMITS)
    assert published.encoding == "ISO-8859-1" and "check that the text" in published.flags[0]


def test_cpg_naming_a_code_page(tmp_path):
    files = shapefile(tmp_path / "src", encoding="GBK")
    members = {f"aoi.{e}": d for e, d in files.items()}
    archive = zip_of(tmp_path / "936.zip", {**members, "aoi.cpg": b"936\n"})
    published = publish_vector(archive, tmp_path / "out", LIMITS)
    assert published.encoding == "GBK" and published.flags == ()
    assert pyogrio.read_dataframe(published.gpkg)["name"].tolist() == ["湖州市", "杭州"]


# --- refusals by rule ----------------------------------------------------------------------

def test_osgb_shapefile_is_refused_by_name(tmp_path):
    archive = shapefile_zip(tmp_path, zip_name="upload-1.zip", crs="EPSG:27700")
    message = refused("crs", archive, tmp_path / "out", name="britain.zip")
    assert "britain.zip" in message and "British National Grid" in message
    published = publish_vector(archive, tmp_path / "any", LIMITS.with_(crs="any"))
    assert published.crs_name == "OSGB36 / British National Grid"
    assert published.footprint_wgs84.contains(HUZHOU)


def test_kml_and_size_and_bad_files(tmp_path):
    kml = tmp_path / "a.kml"
    kml.write_text("<kml/>")
    assert "'.kml'" in refused("type", kml, tmp_path / "out")
    geojson = tmp_path / "a.geojson"
    geojson.write_text(json.dumps(mapping(HUZHOU.buffer(0.1))))
    assert "100 bytes allowed" in refused("size", geojson, tmp_path / "o",
                                          LIMITS.with_(max_bytes=100))
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json")
    assert "not valid GeoJSON" in refused("vector", bad, tmp_path / "out")
    empty = tmp_path / "empty.geojson"
    empty.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    assert "empty" in refused("vector", empty, tmp_path / "out")
    nulls = tmp_path / "nulls.geojson"
    nulls.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"a": 1}, "geometry": None}]}))
    assert "no geometry" in refused("vector", nulls, tmp_path / "out")
    fake = tmp_path / "fake.gpkg"
    fake.write_bytes(b"SQLite format 3\x00garbage")
    assert "fake.gpkg" in refused("vector", fake, tmp_path / "out")
    notzip = tmp_path / "notzip.zip"
    notzip.write_bytes(b"hello")
    assert "not a readable zip" in refused("zip", notzip, tmp_path / "out")


def test_coordinates_that_do_not_fit_the_crs(tmp_path):
    projected = tmp_path / "projected.geojson"  # metres, but GeoJSON means lon/lat
    projected.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": {
        "type": "Point", "coordinates": [500000, 3320000]}}))
    assert "check that the .prj" in refused("crs", projected, tmp_path / "out")


def test_features_without_geometry_are_kept_and_flagged(tmp_path):
    path = tmp_path / "some.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"fid": "a"}, "geometry": mapping(HUZHOU)},
        {"type": "Feature", "properties": {"fid": "a"}, "geometry": None}]}))
    published = publish_vector(path, tmp_path / "out", LIMITS)
    assert published.feature_count == 2 and "1 of 2 features" in published.flags[0]
    stored = pyogrio.read_dataframe(published.gpkg)
    assert stored["fid"].tolist() == ["a", "a"] and np.sum(stored.geometry.isna()) == 1


def test_ldid_code_page_and_search_areas_over_bad_text(tmp_path):
    files = shapefile(tmp_path / "src", encoding="GBK")
    dbf = bytearray(files["dbf"])
    dbf[29] = 0x4D  # language driver: code page 936
    archive = zip_of(tmp_path / "ldid.zip", {**{f"aoi.{e}": d for e, d in files.items()},
                                             "aoi.dbf": bytes(dbf)})
    published = publish_vector(archive, tmp_path / "out", LIMITS)
    assert published.encoding == "CP936" and published.flags == ()
    assert pyogrio.read_dataframe(published.gpkg)["name"].tolist() == ["湖州市", "杭州"]
    lying = zip_of(tmp_path / "lying.zip", {**{f"aoi.{e}": d for e, d in files.items()},
                                            "aoi.cpg": b"UTF-8"})
    assert len(read_vector_file(lying).frame) == 2  # a search area needs only the shapes


def test_gbk_member_names_give_the_layer_its_name(tmp_path, files):
    archive = zip_of(tmp_path / "names.zip", {f"abcd.{e}": d for e, d in files.items()})
    archive.write_bytes(archive.read_bytes().replace(b"abcd", "湖州".encode("gbk")))
    assert publish_vector(archive, tmp_path / "out", LIMITS).source_layer == "湖州"
    assert list_layers(archive) == ["湖州"]
