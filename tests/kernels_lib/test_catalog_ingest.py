"""``ingest``: STAC files, static catalogs, GeoTIFF folders, URLs and STAC API searches."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pystac
import pytest
import rasterio
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely.geometry import Point, box, shape

from terralab.catalog.index import CatalogIndex
from terralab.catalog.ingest import GEOTIFF_COLLECTION, IngestError, geotiff_item, ingest
from terralab.catalog.query import SearchQuery
from tests.kernels_lib.test_catalog_index import LANDSAT, S2, item
from tests.stac_replay import StacReplay, real_items


@pytest.fixture
def index(tmp_path: Path) -> Iterator[CatalogIndex]:
    idx = CatalogIndex(tmp_path / "index.sqlite")
    yield idx
    idx.close()


def write_tif(path: Path, *, crs: str | None = "EPSG:32650", tags: dict[str, str] | None = None,
              origin: tuple[float, float] = (500_000, 3_400_000), pixel: float = 30) -> Path:
    profile = {"driver": "GTiff", "width": 64, "height": 48, "count": 1, "dtype": "uint16",
               "transform": from_origin(*origin, pixel, pixel)}
    if crs:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.ones((1, 48, 64), dtype="uint16"))
        if tags:
            dst.update_tags(**tags)
    return path


def test_real_item_lists(index: CatalogIndex, real_data: Path) -> None:
    report = ingest(real_data / "stac_items" / "landsat-c2-l2-pc.json", index=index)
    assert report.counts == {"landsat-c2-l2": 4} and report.total == 4 and not report.skipped
    assert "added 4 item(s)" in str(report)
    for name in ("sentinel-2-l2a-pc.json", "sentinel-1-rtc-pc.json"):
        ingest(real_data / "stac_items" / name, index=index)
    found = index.search(SearchQuery(max_cloud=30, collections=("landsat-c2-l2",)))
    assert [(e["id"], e["properties"]["eo:cloud_cover"]) for e in found] == [
        (LANDSAT[2], 25.53), (LANDSAT[3], 25.41)]
    assert len(index) == 12


def test_item_and_feature_collection_files(index: CatalogIndex, tmp_path: Path) -> None:
    folder = tmp_path / "stac"
    folder.mkdir()
    single = item("one", box(0, 0, 1, 1))
    single["assets"] = {"data": {"href": "rasters/one.tif"}}
    (folder / "one.json").write_text(json.dumps(single))
    collection = {"type": "FeatureCollection",
                  "features": [item("two", box(1, 1, 2, 2)), item("three", box(2, 2, 3, 3))]}
    (folder / "many.geojson").write_text(json.dumps(collection))
    assert ingest(folder / "one.json", index=index).counts == {"mine": 1}
    assert ingest(folder / "many.geojson", index=index, owner="alice").total == 2
    assert index.get("one")["assets"]["data"]["href"] == str(folder / "rasters" / "one.tif")
    assert index.get("two") is None and index.get("two", owner="alice")["id"] == "two"


def static_catalog(root: Path) -> Path:
    catalog = pystac.Catalog("root", "a static catalog")
    extent = pystac.Extent(pystac.SpatialExtent([[0, 0, 2, 2]]),
                           pystac.TemporalExtent([[datetime(2024, 1, 1, tzinfo=UTC), None]]))
    collection = pystac.Collection("scenes", "scenes", extent)
    catalog.add_child(collection)
    for number in range(2):
        entry = pystac.Item(f"scene-{number}", box(number, 0, number + 1, 1).__geo_interface__,
                            [number, 0, number + 1, 1], datetime(2024, 1, 2 + number,
                                                                 tzinfo=UTC), {})
        entry.add_asset("data", pystac.Asset(f"./scene-{number}.tif"))
        collection.add_item(entry)
    catalog.normalize_hrefs(str(root))
    catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return root / "catalog.json"


def test_static_catalog(index: CatalogIndex, tmp_path: Path) -> None:
    path = static_catalog(tmp_path / "cat")
    report = ingest(tmp_path / "cat", index=index)  # the folder holding catalog.json
    assert report.counts == {"scenes": 2}
    stored = index.get("scene-1")
    assert stored["collection"] == "scenes"
    assert stored["assets"]["data"]["href"] == str(tmp_path / "cat" / "scenes" / "scene-1" /
                                                   "scene-1.tif")
    assert ingest(path, index=index).total == 2 and len(index) == 2  # upsert, no duplicates


def test_real_geotiff_folder(index: CatalogIndex, real_data: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRALAB_CATALOG_ROOTS", str(real_data))  # a configured data root
    report = ingest(real_data / "naip", index=index, collection="naip")
    assert report.counts == {"naip": 4}
    stored = index.get("m_4709963_se_14_1_20200831")
    assert stored["properties"]["proj:epsg"] == 26914
    assert stored["properties"]["proj:shape"] == [723, 934]
    footprint = shape(stored["geometry"])
    assert len(stored["geometry"]["coordinates"][0]) > 20  # densified edges
    to_wgs84 = Transformer.from_crs("EPSG:26914", "EPSG:4326", always_xy=True)
    centre = Point(to_wgs84.transform((485899 + 490569) / 2, (5205631 + 5209246) / 2))
    assert footprint.contains(centre) and -100 < centre.x < -99 and 47 < centre.y < 47.1
    mtime = os.stat(real_data / "naip" / "m_4709963_se_14_1_20200831.tif").st_mtime
    assert stored["properties"]["datetime"] == datetime.fromtimestamp(mtime, UTC).isoformat(
        ).replace("+00:00", "Z")
    href = stored["assets"]["data"]["href"]
    assert href == str((real_data / "naip" / "m_4709963_se_14_1_20200831.tif").resolve())
    found = index.search(SearchQuery(geometry=centre.buffer(0.001)))
    assert len(found) == 4


def test_geotiff_folder_with_tags_and_bad_files(index: CatalogIndex, tmp_path: Path) -> None:
    folder = tmp_path / "rasters"
    (folder / "sub").mkdir(parents=True)
    write_tif(folder / "tagged.tif", tags={"TIFFTAG_DATETIME": "2021:06:05 10:20:30"})
    plain = write_tif(folder / "sub" / "plain.tif", crs="EPSG:4326", origin=(120, 31),
                      pixel=0.001)
    os.utime(plain, (1_600_000_000, 1_600_000_000))
    write_tif(folder / "nocrs.tif", crs=None)
    (folder / "broken.tif").write_bytes(b"not a tiff")
    (folder / "notes.txt").write_text("ignored")
    report = ingest(folder, index=index, owner="bob")
    assert report.counts == {GEOTIFF_COLLECTION: 2}
    reasons = dict(report.skipped)
    assert "no CRS" in reasons[str(folder / "nocrs.tif")]
    assert "not a readable raster" in reasons[str(folder / "broken.tif")]
    tagged = index.get("tagged", owner="bob")
    assert tagged["properties"]["datetime"] == "2021-06-05T10:20:30Z"
    assert index.get("plain", owner="bob")["properties"]["datetime"] == "2020-09-13T12:26:40Z"
    # UTM zone 50N, 500 km east, 3400 km north: about 117°E, 30.7°N
    lon, lat = shape(tagged["geometry"]).centroid.coords[0]
    assert lon == pytest.approx(117.0, abs=0.05) and lat == pytest.approx(30.72, abs=0.05)
    assert index.search(SearchQuery(geometry=Point(lon, lat))) == []  # bob's own items
    assert len(index.search(SearchQuery(geometry=Point(lon, lat), owner="bob"))) == 1
    with pytest.raises(IngestError, match="has no CRS"):
        geotiff_item(folder / "nocrs.tif")


def test_stac_api_search_url(index: CatalogIndex, real_data: Path) -> None:
    with StacReplay(real_items(real_data / "stac_items"), max_limit=2) as replay:
        url = (f"{replay.url}/search?collections=landsat-c2-l2&bbox=148,-44,151,-40"
               "&datetime=2024-04-01T00:00:00Z/2024-04-30T00:00:00Z")
        report = ingest(url, index=index)
        assert report.counts == {"landsat-c2-l2": 3}
        assert [e["id"] for e in index.search(SearchQuery())] == LANDSAT[:3]
        assert replay.searches[0]["collections"] == ["landsat-c2-l2"]
        assert ingest(f"{replay.url}/search?collections=sentinel-2-l2a", index=index,
                      max_items=2).total == 2
        assert [e["id"] for e in index.search(SearchQuery(collections=("sentinel-2-l2a",)))
                ] == S2[:2]
        bad = f"{replay.url}/search?filter=" + json.dumps({"op": "like", "args": [1, 2]})
        with pytest.raises(IngestError, match="STAC API search failed"):
            ingest(bad, index=index)


def test_static_urls(index: CatalogIndex, tmp_path: Path,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRALAB_CATALOG_HOSTS", "127.0.0.1")  # the replay server, allowed
    static_catalog(tmp_path / "web" / "cat")
    single = item("web-item", box(5, 5, 6, 6))
    single["assets"] = {"data": {"href": "../data/web-item.tif"}}
    (tmp_path / "web" / "items").mkdir()
    (tmp_path / "web" / "items" / "web-item.json").write_text(json.dumps(single))
    with StacReplay([], static_root=tmp_path / "web") as replay:
        report = ingest(f"{replay.url}/static/items/web-item.json", index=index)
        assert report.counts == {"mine": 1}
        assert index.get("web-item")["assets"]["data"]["href"] == \
            f"{replay.url}/static/data/web-item.tif"
        assert ingest(f"{replay.url}/static/cat/catalog.json", index=index).counts == \
            {"scenes": 2}
        assert index.get("scene-0")["assets"]["data"]["href"] == \
            f"{replay.url}/static/cat/scenes/scene-0/scene-0.tif"
        with pytest.raises(IngestError, match=r"cannot read.*404"):
            ingest(f"{replay.url}/static/missing.json", index=index)


def test_bad_input_writes_nothing(index: CatalogIndex, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRALAB_CATALOG_ROOTS", "/data")  # where item()'s assets lie
    with pytest.raises(IngestError, match="no such file or folder"):
        ingest(tmp_path / "missing.json", index=index)
    text = tmp_path / "notes.json"
    text.write_text("hello")
    with pytest.raises(IngestError, match="not a JSON or GeoTIFF file"):
        ingest(text, index=index)
    text.write_text(json.dumps({"name": "x"}))
    with pytest.raises(IngestError, match="not a STAC Item, ItemCollection, Catalog"):
        ingest(text, index=index)
    text.write_text(json.dumps([item("a", box(0, 0, 1, 1)), {"id": "b"}]))
    with pytest.raises(IngestError, match="entry 1 is not a STAC Item"):
        ingest(text, index=index)
    timeless = item("t", box(0, 0, 1, 1))
    timeless["properties"] = {}
    text.write_text(json.dumps([item("a", box(0, 0, 1, 1)), timeless]))
    with pytest.raises(IngestError, match=r"'t'.*neither a datetime"):
        ingest(text, index=index)
    orphan = {**item("o", box(0, 0, 1, 1)), "collection": None}
    text.write_text(json.dumps([orphan]))
    with pytest.raises(IngestError, match="'o' has no collection"):
        ingest(text, index=index)
    assert ingest(text, index=index, collection="given").counts == {"given": 1}
    index.remove("o", collection="given")
    (tmp_path / "empty").mkdir()
    with pytest.raises(IngestError, match=r"no GeoTIFF and no catalog\.json"):
        ingest(tmp_path / "empty", index=index)
    text.write_text(json.dumps([]))
    with pytest.raises(IngestError, match="no STAC items found"):
        ingest(text, index=index)
    assert len(index) == 0


def test_demo_style_catalog_copy(index: CatalogIndex, tmp_path: Path) -> None:
    """A self-contained catalog moved elsewhere still resolves its assets where it now lives."""
    static_catalog(tmp_path / "a")
    shutil.move(tmp_path / "a", tmp_path / "b")
    ingest(tmp_path / "b" / "catalog.json", index=index)
    href = index.get("scene-0")["assets"]["data"]["href"]
    assert href == str(tmp_path / "b" / "scenes" / "scene-0" / "scene-0.tif")
