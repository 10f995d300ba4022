"""tl.search over the indexed demo region: the four kinds of area, filters, paging, results."""

import json
import zipfile
from datetime import UTC, datetime

import geopandas
import pystac
import pytest
from shapely.geometry import Point, box, mapping, shape

from terralab.areas import AreaError, resolve_area
from terralab.catalog.search import parse_time, search

DEQING = Point(119.96, 30.545)


def ids(result):
    return [item.id for item in result]


@pytest.fixture(scope="module")
def deqing_polygon():
    return resolve_area(admin="330521").geometry


def test_admin_name_and_code_find_the_same_cloud_filtered_sentinel2_items(demo_home):
    by_name = search(admin="湖州市", collections="sentinel-2-l2a", max_cloud=30, home=demo_home)
    by_code = search(admin="330500", collections="sentinel-2-l2a", max_cloud=30, home=demo_home)
    assert len(by_name) >= 2
    assert ids(by_name) == ids(by_code)
    assert {item.collection_id for item in by_name} == {"sentinel-2-l2a"}
    assert all(item.properties["eo:cloud_cover"] <= 30 for item in by_name)
    everything = search(admin="湖州市", collections="sentinel-2-l2a", home=demo_home)
    assert len(everything) > len(by_name), "the demo has cloudier scenes the filter removes"


def test_results_are_newest_first_and_paged(demo_home):
    first = search(admin="德清县", limit=3, home=demo_home)
    second = search(admin="德清县", limit=3, offset=3, home=demo_home)
    both = search(admin="德清县", limit=6, home=demo_home)
    assert ids(both) == ids(first) + ids(second)
    times = [item.datetime for item in both]
    assert times == sorted(times, reverse=True)


def test_place_name_finds_the_demo_items(demo_home):
    result = search(place="德清", collections=["landsat-c2-l2"], home=demo_home)
    assert len(result) >= 2
    assert result.area.kind in {"admin", "place"}


def test_a_far_away_region_finds_nothing(demo_home):
    assert len(search(admin="北京市", home=demo_home)) == 0


def test_dates_are_inclusive_whole_periods(demo_home):
    every = search(admin="湖州市", limit=1000, home=demo_home)
    years = {item.datetime.year for item in every}
    assert len(years) >= 2
    year = min(years)
    only = search(admin="湖州市", start=str(year), end=str(year), limit=1000, home=demo_home)
    assert {item.datetime.year for item in only} == {year}
    assert len(only) == sum(1 for item in every if item.datetime.year == year)


def test_geojson_file_and_zipped_shapefile_find_the_same_items(demo_home, deqing_polygon,
                                                                tmp_path):
    aoi = DEQING.buffer(0.05)
    path = tmp_path / "aoi.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "aoi"}, "geometry": mapping(aoi)}]}))
    frame = geopandas.GeoDataFrame({"name": ["aoi"]}, geometry=[aoi], crs="EPSG:4326")
    frame.to_file(tmp_path / "aoi.shp")
    archive = tmp_path / "aoi.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for ext in ("shp", "shx", "dbf", "prj"):
            handle.write(tmp_path / f"aoi.{ext}", f"aoi.{ext}")
    from_geojson = search(file=path, home=demo_home)
    from_zip = search(file=archive, home=demo_home)
    from_dict = search(geometry=mapping(aoi), home=demo_home)
    assert len(from_geojson) > 0
    assert ids(from_geojson) == ids(from_zip) == ids(from_dict)


def test_an_area_beside_the_footprints_finds_nothing_one_inside_finds_the_item(demo_home):
    items = search(admin="德清县", limit=1000, home=demo_home).dicts()
    footprint = shape(items[0]["geometry"])
    _, _, east, north = footprint.bounds
    far = box(east + 0.5, north + 0.5, east + 0.6, north + 0.6)
    assert len(search(geometry=far, home=demo_home)) == 0
    inside = footprint.representative_point().buffer(0.001)
    assert items[0]["id"] in {i["id"] for i in search(geometry=inside, limit=1000,
                                                      home=demo_home).dicts()}


def test_result_is_an_item_collection_and_a_geodataframe(demo_home):
    result = search(admin="330500", limit=5, home=demo_home)
    assert isinstance(result, pystac.ItemCollection)
    frame = result.gdf
    assert list(frame["id"]) == ids(result)
    assert frame.crs.to_epsg() == 4326
    assert frame.geometry.intersects(resolve_area(admin="330500").geometry).all()
    assert result.to_dict()["type"] == "FeatureCollection"
    assert "5 items" in repr(result)


def test_bad_areas_give_clear_errors(demo_home, tmp_path):
    with pytest.raises(AreaError, match="Nowhereville"):
        search(place="Nowhereville", home=demo_home)
    with pytest.raises(AreaError, match="empty"):
        search(geometry={"type": "Polygon", "coordinates": []}, home=demo_home)
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json")
    with pytest.raises(AreaError):
        search(file=bad, home=demo_home)


def test_bad_filters_give_clear_errors(demo_home):
    with pytest.raises(ValueError, match="cloud"):
        search(admin="330500", max_cloud=120, home=demo_home)
    with pytest.raises(ValueError, match="not a date"):
        search(admin="330500", start="last tuesday", home=demo_home)
    with pytest.raises(ValueError, match="after"):
        search(admin="330500", start="2025", end="2024", home=demo_home)


def test_parse_time_takes_whole_periods():
    assert parse_time("2024") == datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_time("2024", end=True) == datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert parse_time("2024-02", end=True).day == 29
    assert parse_time("2024-12", end=True).year == 2024
    assert parse_time("2024-05-10T02:30:00Z") == datetime(2024, 5, 10, 2, 30, tzinfo=UTC)
    assert parse_time(None) is None
