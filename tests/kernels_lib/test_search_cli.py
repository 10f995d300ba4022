"""The acceptance flow as a user types it: `terralab demo-data`, then `terralab search`."""

import json
import subprocess
import sys
import zipfile

import geopandas
import pytest
from shapely.geometry import Point, mapping


def terralab(*args, home):
    return subprocess.run([sys.executable, "-m", "terralab.cli", *args, "--home", str(home)],
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("cli-home")
    done = terralab("demo-data", "--size", "256", home=home)
    assert done.returncode == 0, done.stderr
    assert "indexed" in done.stdout
    return home


@pytest.fixture(scope="module")
def aoi_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("aoi")
    aoi = Point(119.96, 30.545).buffer(0.05)
    geojson = folder / "deqing.geojson"
    geojson.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": mapping(aoi)}))
    geopandas.GeoDataFrame(geometry=[aoi], crs="EPSG:4326").to_file(folder / "deqing.shp")
    archive = folder / "deqing.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for ext in ("shp", "shx", "dbf", "prj"):
            handle.write(folder / f"deqing.{ext}", f"deqing.{ext}")
    twice = folder / "two.zip"
    with zipfile.ZipFile(twice, "w") as handle:
        for stem in ("a", "b"):
            for ext in ("shp", "shx", "dbf", "prj"):
                handle.write(folder / f"deqing.{ext}", f"{stem}.{ext}")
    return {"geojson": geojson, "zip": archive, "two": twice}


def search_json(home, *area):
    done = terralab("search", *area, "--collection", "sentinel-2-l2a", "--max-cloud", "30",
                    "--json", home=home)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["type"] == "FeatureCollection"
    return payload


def test_admin_name_code_place_geojson_and_zip_all_find_demo_items(home, aoi_files):
    by_name = search_json(home, "--admin", "湖州市")
    features = by_name["features"]
    assert features, "no demo items found for 湖州市"
    assert all(f["collection"] == "sentinel-2-l2a" for f in features)
    assert all(f["properties"]["eo:cloud_cover"] <= 30 for f in features)
    expected = [f["id"] for f in features]
    assert [f["id"] for f in search_json(home, "--admin", "330500")["features"]] == expected
    assert [f["id"] for f in search_json(home, "--place", "德清")["features"]] == expected
    for key in ("geojson", "zip"):
        found = [f["id"] for f in search_json(home, "--file", str(aoi_files[key]))["features"]]
        assert found == expected, key


def test_the_table_lists_items_with_cloud_cover(home):
    done = terralab("search", "--admin", "330521", "--collection", "landsat-c2-l2", home=home)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "items in" in lines[0]
    assert any("landsat-c2-l2" in line and "%" in line for line in lines[1:])


@pytest.mark.parametrize(("args", "message"), [
    (["--place", "Nowhereville"], "Nowhereville"),
    (["--geojson", '{"type": "Polygon", "coordinates": []}'], "empty"),
    (["--geojson", '{"type": "Polygon", "coordinates": [[1, 2]'], "JSON"),
    (["--admin", "999999"], "999999"),
])
def test_bad_areas_fail_with_a_clear_message(home, args, message):
    done = terralab("search", *args, home=home)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_zip_with_two_shapefiles_is_refused(home, aoi_files):
    done = terralab("search", "--file", str(aoi_files["two"]), home=home)
    assert done.returncode != 0
    assert "shapefile" in done.stderr.lower() and "Traceback" not in done.stderr


def test_two_areas_at_once_are_refused(home):
    done = terralab("search", "--admin", "330500", "--place", "德清", home=home)
    assert done.returncode != 0 and "one area" in done.stderr


def test_ingested_real_items_and_a_users_geotiffs_are_found(tmp_path, real_data):
    items = real_data / "stac_items" / "sentinel-2-l2a-pc.json"
    done = terralab("catalog", "ingest", str(items), home=tmp_path)
    assert done.returncode == 0, done.stderr
    found = terralab("search", "--collection", "sentinel-2-l2a", "--json", home=tmp_path)
    features = json.loads(found.stdout)["features"]
    real = json.loads(items.read_text())
    assert {f["id"] for f in features} == {i["id"] for i in real}
    assert {f["id"]: f["properties"]["eo:cloud_cover"] for f in features} == \
        {i["id"]: i["properties"]["eo:cloud_cover"] for i in real}

    folder = tmp_path / "users" / "alice" / "uploads"
    folder.mkdir(parents=True)
    for tif in (real_data / "naip").glob("*.tif"):
        (folder / tif.name).write_bytes(tif.read_bytes())
    done = terralab("catalog", "ingest", str(folder), "--owner", "alice", home=tmp_path)
    assert done.returncode == 0, done.stderr
    mine = terralab("search", "--user", "alice", "--collection", "local-geotiff", "--json",
                    home=tmp_path)
    theirs = terralab("search", "--user", "bob", "--collection", "local-geotiff", "--json",
                      home=tmp_path)
    assert len(json.loads(mine.stdout)["features"]) == len(list(folder.glob("*.tif"))) > 0
    assert json.loads(theirs.stdout)["features"] == []


def test_ingest_of_something_that_is_no_catalog_fails_clearly(tmp_path):
    bad = tmp_path / "notes.json"
    bad.write_text('{"hello": "world"}')
    done = terralab("catalog", "ingest", str(bad), home=tmp_path)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "notes.json" in done.stderr
