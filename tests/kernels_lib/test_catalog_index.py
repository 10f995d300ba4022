"""The embedded catalog index: real STAC items, filters, sort order, paging, owners."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import Point, box, shape

from terralab.catalog import index as index_module
from terralab.catalog.index import CatalogIndex, default_index_path
from terralab.catalog.query import SearchQuery
from tests.stac_replay import real_items

LANDSAT = ["LC09_L2SP_089090_20240417_02_T1", "LC09_L2SP_089089_20240417_02_T1",
           "LC09_L2SP_089088_20240417_02_T2", "LC09_L2SP_089087_20240417_02_T2"]
S2 = ["S2B_MSIL2A_20240419T095549_R122_T46XER_20240419T124342",
      "S2B_MSIL2A_20240419T095549_R122_T46XES_20240419T123824",
      "S2B_MSIL2A_20240419T095549_R122_T47XMJ_20240419T122756",
      "S2B_MSIL2A_20240419T095549_R122_T47XML_20240419T123458"]
S1 = ["S1A_IW_GRDH_1SDV_20240419T045904_20240419T045916_053498_067DF2_rtc",
      "S1A_IW_GRDH_1SDV_20240419T045839_20240419T045904_053498_067DF2_rtc",
      "S1A_IW_GRDH_1SDV_20240419T045814_20240419T045839_053498_067DF2_rtc",
      "S1A_IW_GRDH_1SDV_20240419T045749_20240419T045814_053498_067DF2_rtc"]
NEWEST_FIRST = S2 + S1 + LANDSAT  # S2 share one datetime: then by id


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def item(name: str, geometry: Any, when: str = "2024-05-01T00:00:00Z", *,
         collection: str = "mine", cloud: float | None = None, **props: Any) -> dict[str, Any]:
    geom = geometry if isinstance(geometry, dict) else geometry.__geo_interface__
    properties = {"datetime": when, **props}
    if cloud is not None:
        properties["eo:cloud_cover"] = cloud
    return {"type": "Feature", "stac_version": "1.0.0", "id": name, "collection": collection,
            "geometry": geom, "bbox": list(shape(geom).bounds), "properties": properties,
            "links": [], "assets": {"data": {"href": f"/data/{name}.tif"}}}


@pytest.fixture
def index(tmp_path: Path) -> CatalogIndex:
    idx = CatalogIndex(tmp_path / "catalog" / "index.sqlite")
    yield idx
    idx.close()


@pytest.fixture
def real(index: CatalogIndex, real_data: Path) -> CatalogIndex:
    assert index.add_items(real_items(real_data / "stac_items")) == 12
    return index


def ids(found: list[dict[str, Any]]) -> list[str]:
    return [entry["id"] for entry in found]


def test_default_path(tmp_path: Path) -> None:
    assert default_index_path(tmp_path) == tmp_path / "catalog" / "index.sqlite"


def test_real_items_sorted_newest_first(real: CatalogIndex) -> None:
    found = real.search(SearchQuery())
    assert ids(found) == NEWEST_FIRST
    assert real.count(SearchQuery()) == 12 == len(real)
    raw = real.search_json(SearchQuery(limit=2, offset=1))
    assert [json.loads(text)["id"] for text in raw] == NEWEST_FIRST[1:3]
    first = found[0]
    assert first["properties"]["eo:cloud_cover"] == 0.126773
    assert first["assets"]["B04"]["href"].startswith("https://sentinel2l2a01.blob")


def test_cloud_filter_keeps_sar_and_real_values(real: CatalogIndex) -> None:
    found = real.search(SearchQuery(max_cloud=30))
    assert ids(found) == S2 + S1 + LANDSAT[2:]
    clouds = {e["id"]: e["properties"].get("eo:cloud_cover") for e in found}
    assert clouds[LANDSAT[2]] == 25.53 and clouds[LANDSAT[3]] == 25.41
    assert all(clouds[name] is None for name in S1)
    assert ids(real.search(SearchQuery(max_cloud=0.2))) == [S2[0], *S1]
    assert ids(real.search(SearchQuery(max_cloud=97.54, collections=("landsat-c2-l2",)))) == \
        LANDSAT


def test_collections_filter(real: CatalogIndex) -> None:
    assert ids(real.search(SearchQuery(collections=("landsat-c2-l2",)))) == LANDSAT
    both = SearchQuery(collections=("sentinel-1-rtc", "landsat-c2-l2"))
    assert ids(real.search(both)) == S1 + LANDSAT
    assert real.search(SearchQuery(collections=("nothing",))) == []


def test_area_filter_uses_the_real_footprint(real: CatalogIndex) -> None:
    footprint = shape(real.get(LANDSAT[0])["geometry"])
    inside = footprint.representative_point().buffer(0.01)
    assert LANDSAT[0] in ids(real.search(SearchQuery(geometry=inside)))
    # a corner of the bbox that the tilted scene does not cover
    x0, _, _, y1 = footprint.bounds
    corner = box(x0, y1 - 0.05, x0 + 0.05, y1)
    assert not corner.intersects(footprint)
    assert LANDSAT[0] not in ids(real.search(SearchQuery(geometry=corner)))
    tasmania = box(148, -44, 151, -40)
    assert ids(real.search(SearchQuery(geometry=tasmania, max_cloud=50))) == LANDSAT[1:3]


def test_exact_geometry_test_on_a_diagonal_footprint(index: CatalogIndex) -> None:
    triangle = {"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [10, 10], [0, 0]]]}
    index.add_items([item("diagonal", triangle)])
    above = box(1, 8, 2, 9)  # inside the bbox, outside the triangle
    assert index.search(SearchQuery(geometry=above)) == []
    assert index.count(SearchQuery(geometry=above)) == 0
    assert ids(index.search(SearchQuery(geometry=box(8, 1, 9, 2)))) == ["diagonal"]
    assert ids(index.search(SearchQuery(geometry=Point(5, 5)))) == ["diagonal"]


def test_datetime_range_inclusive_and_intervals(real: CatalogIndex) -> None:
    landsat = SearchQuery(start=utc("2024-04-17T23:45:56.518505"),
                          end=utc("2024-04-17T23:46:20.477296"))
    assert ids(real.search(landsat)) == LANDSAT[:2]
    # inside the first S1 scene's start…end interval, after its nominal datetime
    inside = SearchQuery(start=utc("2024-04-19T04:59:14"), end=utc("2024-04-19T04:59:15"))
    assert ids(real.search(inside)) == S1[:1]
    assert real.search(SearchQuery(end=utc("2024-04-17T00:00:00"))) == []
    assert ids(real.search(SearchQuery(start=utc("2024-04-19T09:00:00")))) == S2


def test_long_interval_item_found_by_time_only_and_area(index: CatalogIndex) -> None:
    index.add_items([item("short", box(0, 0, 1, 1), "2024-01-01T00:00:00Z")])
    composite = item("annual", box(0, 0, 1, 1), "2023-07-01T00:00:00Z",
                     start_datetime="2023-01-01T00:00:00Z", end_datetime="2023-12-31T23:59:59Z")
    index.add_items([composite])
    query = SearchQuery(start=utc("2023-11-01T00:00:00"), end=utc("2023-11-02T00:00:00"))
    assert ids(index.search(query)) == ["annual"]
    assert ids(index.search(SearchQuery(geometry=box(0.2, 0.2, 0.3, 0.3),
                                        start=query.start, end=query.end))) == ["annual"]


def test_paging(real: CatalogIndex) -> None:
    pages = [ids(real.search(SearchQuery(limit=5, offset=offset))) for offset in (0, 5, 10, 15)]
    assert [len(page) for page in pages] == [5, 5, 2, 0]
    assert [name for page in pages for name in page] == NEWEST_FIRST
    area = box(-180, -90, 180, 90)
    assert ids(real.search(SearchQuery(geometry=area, limit=3, offset=4))) == NEWEST_FIRST[4:7]
    assert real.count(SearchQuery(geometry=area, max_cloud=30, limit=1)) == 10


def test_large_area_scan_matches_the_rtree_path(real: CatalogIndex,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    queries = [SearchQuery(geometry=box(-180, -90, 180, 90), max_cloud=30, limit=4, offset=2),
               SearchQuery(geometry=box(148, -44, 151, -40)),
               SearchQuery(geometry=box(10, 25, 20, 40), start=utc("2024-04-19T04:59:14"))]
    expected = [ids(real.search(query)) for query in queries]
    monkeypatch.setattr(index_module, "_PROBE", 1)
    assert [ids(real.search(query)) for query in queries] == expected
    assert expected[2] == S1[:1]


def test_owner_isolation(index: CatalogIndex) -> None:
    index.add_items([item("public", box(0, 0, 1, 1))])
    index.add_items([item("shared-name", box(0, 0, 1, 1), cloud=5)], owner="alice")
    index.add_items([item("shared-name", box(0, 0, 1, 1), cloud=50),
                     item("bob-only", box(0, 0, 1, 1))], owner="bob")
    assert ids(index.search(SearchQuery())) == ["public"]
    alice = index.search(SearchQuery(owner="alice"))
    assert ids(alice) == ["public", "shared-name"]
    assert alice[1]["properties"]["eo:cloud_cover"] == 5
    assert sorted(ids(index.search(SearchQuery(owner="bob")))) == ["bob-only", "public",
                                                                   "shared-name"]
    assert index.get("bob-only") is None
    assert index.get("bob-only", owner="alice") is None
    assert index.get("bob-only", owner="bob")["id"] == "bob-only"
    assert index.get("shared-name", owner="alice")["properties"]["eo:cloud_cover"] == 5
    assert [c["count"] for c in index.collections()] == [1]
    assert [c["count"] for c in index.collections(owner="bob")] == [3]
    assert index.remove("bob-only", owner="alice") == 0
    assert index.remove("bob-only", owner="bob") == 1
    assert index.get("bob-only", owner="bob") is None
    with pytest.raises(ValueError, match="owner"):
        index.search(SearchQuery(owner=""))


def test_upsert_and_remove_keep_counts(real: CatalogIndex, real_data: Path) -> None:
    changed = [entry for entry in real_items(real_data / "stac_items") if entry["id"] == S2[0]]
    changed[0]["properties"]["eo:cloud_cover"] = 55.0
    real.add_items(changed)
    assert len(real) == 12
    assert real.get(S2[0])["properties"]["eo:cloud_cover"] == 55.0
    assert S2[0] not in ids(real.search(SearchQuery(max_cloud=50)))
    stats = {c["id"]: c for c in real.collections()}
    assert stats["sentinel-2-l2a"]["count"] == 4
    bbox = stats["landsat-c2-l2"]["extent"]["spatial"]["bbox"][0]
    assert bbox == pytest.approx([147.24419221301054, -44.27650501698769,
                                  151.45233038160774, -37.828045025069876])
    assert stats["landsat-c2-l2"]["extent"]["temporal"]["interval"][0] == [
        "2024-04-17T23:45:08.600922Z", "2024-04-17T23:46:20.477296Z"]
    assert real.remove(collection="sentinel-1-rtc") == 4
    assert sorted(stats) == ["landsat-c2-l2", "sentinel-1-rtc", "sentinel-2-l2a"]
    assert [c["id"] for c in real.collections()] == ["landsat-c2-l2", "sentinel-2-l2a"]
    assert real.remove(LANDSAT[0], collection="landsat-c2-l2") == 1
    assert {c["id"]: c["count"] for c in real.collections()}["landsat-c2-l2"] == 3
    with pytest.raises(ValueError, match="item id or a collection"):
        real.remove()


def test_bad_items_write_nothing(index: CatalogIndex) -> None:
    good = item("good", box(0, 0, 1, 1))
    no_collection = {**item("orphan", box(0, 0, 1, 1)), "collection": None}
    with pytest.raises(ValueError, match="'orphan' has no collection"):
        index.add_items([good, no_collection])
    no_time = item("timeless", box(0, 0, 1, 1))
    no_time["properties"] = {}
    with pytest.raises(ValueError, match=r"'timeless'.*neither a datetime"):
        index.add_items([good, no_time])
    with pytest.raises(ValueError, match="no geometry"):
        index.add_items([{**good, "geometry": None}])
    with pytest.raises(ValueError, match="not a STAC Item"):
        index.add_items([{"type": "Collection", "id": "x"}])
    assert len(index) == 0 and index.collections() == []


def test_relative_hrefs_resolved_at_add_time(index: CatalogIndex, tmp_path: Path) -> None:
    local = item("local", box(0, 0, 1, 1))
    local["links"] = [{"rel": "self", "href": str(tmp_path / "cat" / "local" / "local.json")}]
    local["assets"] = {"data": {"href": "./local.tif"}, "thumb": {"href": "../thumb.png"}}
    remote = item("remote", box(0, 0, 1, 1))
    remote["links"] = [{"rel": "self", "href": "https://example.com/stac/items/remote.json"}]
    remote["assets"] = {"data": {"href": "../data/remote.tif"},
                        "abs": {"href": "https://other.org/x.tif"}}
    index.add_items([local, remote])
    stored = index.get("local")["assets"]
    assert stored["data"]["href"] == str(tmp_path / "cat" / "local" / "local.tif")
    assert stored["thumb"]["href"] == str(tmp_path / "cat" / "thumb.png")
    stored = index.get("remote")["assets"]
    assert stored["data"]["href"] == "https://example.com/stac/data/remote.tif"
    assert stored["abs"]["href"] == "https://other.org/x.tif"
    assert local["assets"]["data"]["href"] == "./local.tif"  # the caller's dict is untouched


def test_antimeridian_item(index: CatalogIndex) -> None:
    west = [[179, 0], [180, 0], [180, 1], [179, 1], [179, 0]]
    east = [[-180, 0], [-179, 0], [-179, 1], [-180, 1], [-180, 0]]
    crossing = item("fiji", {"type": "MultiPolygon", "coordinates": [[west], [east]]})
    crossing["bbox"] = [179, 0, -179, 1]
    index.add_items([crossing])
    assert ids(index.search(SearchQuery(geometry=box(-179.5, 0.2, -179.2, 0.4)))) == ["fiji"]
    assert ids(index.search(SearchQuery(geometry=box(179.2, 0.2, 179.5, 0.4)))) == ["fiji"]
    assert index.search(SearchQuery(geometry=box(0, 0.2, 1, 0.4))) == []


def test_reopen_and_threads(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with CatalogIndex(path) as index:
        index.add_items(item(f"i{n:03d}", box(n % 10, 0, n % 10 + 1, 1),
                             (start + timedelta(days=n)).isoformat(), cloud=n % 100)
                        for n in range(300))
    index = CatalogIndex(path)
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        try:
            for _ in range(20):
                page = index.search(SearchQuery(geometry=box(2.2, 0.2, 2.4, 0.4), limit=5,
                                                offset=offset, max_cloud=50))
                assert all(e["properties"]["eo:cloud_cover"] <= 50 for e in page)
                assert len(page) == 5
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n * 3,)) for n in range(4)]
    writer = threading.Thread(target=index.add_items,
                              args=([item("late", box(50, 50, 51, 51), cloud=1)],))
    for thread in [*threads, writer]:
        thread.start()
    for thread in [*threads, writer]:
        thread.join()
    assert not errors
    assert index.get("late") is not None
    # only the footprints of n % 10 == 2 reach the area; cloud cover is n % 100
    expected = sorted((n for n in range(300) if n % 10 == 2 and n % 100 <= 50), reverse=True)
    found = index.search(SearchQuery(geometry=box(2.2, 0.2, 2.4, 0.4), max_cloud=50, limit=200))
    assert ids(found) == [f"i{n:03d}" for n in expected]
    index.close()


def test_duplicates_across_batches(index: CatalogIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_module, "_BATCH", 2)
    batch = [item(name, box(0, 0, 1, 1), cloud=n) for n, name in enumerate("abcad")]
    assert index.add_items(batch) == 5
    assert len(index) == 4 and index.collections()[0]["count"] == 4
    assert index.get("a")["properties"]["eo:cloud_cover"] == 3  # the last one wins
    assert index.count(SearchQuery(geometry=box(0.2, 0.2, 0.3, 0.3))) == 4


def test_a_nominal_datetime_outside_its_interval_is_found_with_and_without_area(
        index: CatalogIndex) -> None:
    odd = item("nominal", box(0, 0, 1, 1), "2024-06-15T00:00:00Z",
               start_datetime="2024-01-01T00:00:00Z", end_datetime="2024-01-31T00:00:00Z")
    index.add_items([odd])
    query = SearchQuery(start=utc("2024-06-01T00:00:00"), end=utc("2024-06-30T00:00:00"))
    assert ids(index.search(query)) == ["nominal"]
    assert ids(index.search(SearchQuery(geometry=box(0.2, 0.2, 0.3, 0.3), start=query.start,
                                        end=query.end))) == ["nominal"]
