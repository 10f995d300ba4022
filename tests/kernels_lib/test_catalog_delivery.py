"""Favourites, downloads (whole and clipped) with the per-user byte ledger, thumbnails."""

import io
import json

import numpy as np
import pytest
import rasterio
from shapely.geometry import box, shape

from terralab.catalog.assets import AssetAccessError
from terralab.catalog.favourites import add_favourite, list_favourites, remove_favourite
from terralab.catalog.search import search
from terralab.catalog.thumbnails import ThumbnailError, preview_href, rgb_plan, thumbnail
from terralab.quotas.downloads import download, downloaded_bytes


@pytest.fixture(autouse=True)
def demo_root(demo_home, monkeypatch):
    """The demo catalog is a data root here: its items are read with other homes."""
    monkeypatch.setenv("TERRALAB_CATALOG_ROOTS", str(demo_home / "catalog"))


@pytest.fixture(scope="module")
def s2_item(demo_home):
    result = search(admin="330521", collections="sentinel-2-l2a", limit=1, home=demo_home)
    return result.dicts()[0]


def test_favourites_are_per_user(tmp_path, s2_item):
    assert add_favourite("alice", s2_item, home=tmp_path) is True
    assert add_favourite("alice", s2_item, home=tmp_path) is False
    assert [i["id"] for i in list_favourites("alice", home=tmp_path)] == [s2_item["id"]]
    assert list_favourites("bob", home=tmp_path) == []
    assert remove_favourite("bob", s2_item["id"], home=tmp_path) == 0
    assert remove_favourite("alice", s2_item["id"], home=tmp_path) == 1
    assert list_favourites("alice", home=tmp_path) == []


def test_download_whole_assets_records_the_bytes(tmp_path, demo_home, s2_item):
    key = rgb_plan(s2_item)[0][0]
    files = download(s2_item, tmp_path / "out", assets=[key], user="alice", home=tmp_path)
    assert len(files) == 1 and files[0].stat().st_size > 0
    source = s2_item["assets"][key]["href"]
    with open(source, "rb") as handle:
        assert files[0].read_bytes() == handle.read()
    assert downloaded_bytes("alice", home=tmp_path) == files[0].stat().st_size
    assert downloaded_bytes("bob", home=tmp_path) == 0
    assert not list((tmp_path / "out").glob("*.part"))


def test_clipped_download_is_the_window_of_the_area(tmp_path, s2_item):
    key = rgb_plan(s2_item)[0][0]
    footprint = shape(s2_item["geometry"])
    centre = footprint.centroid
    area = box(centre.x - 0.01, centre.y - 0.01, centre.x + 0.01, centre.y + 0.01)
    (clip,) = download(s2_item, tmp_path, assets=[key], geometry=area, user="carol",
                       home=tmp_path)
    with rasterio.open(s2_item["assets"][key]["href"]) as full, rasterio.open(clip) as part:
        assert part.crs == full.crs and part.res == full.res
        assert part.width < full.width and part.height < full.height
        col, row = ~full.transform * (part.bounds.left, part.bounds.top)
        window = rasterio.windows.Window(round(col), round(row), part.width, part.height)
        assert np.array_equal(part.read(1), full.read(1, window=window))
    assert downloaded_bytes("carol", home=tmp_path) == clip.stat().st_size


def test_clip_outside_the_raster_is_refused_and_leaves_nothing(tmp_path, s2_item):
    key = rgb_plan(s2_item)[0][0]
    with pytest.raises(ValueError, match="overlap"):
        download(s2_item, tmp_path / "out", assets=[key], geometry=box(0, 0, 1, 1),
                 user="dave", home=tmp_path)
    assert list((tmp_path / "out").iterdir()) == []
    assert downloaded_bytes("dave", home=tmp_path) == 0


def test_unknown_asset_is_refused(tmp_path, s2_item):
    with pytest.raises(AssetAccessError, match="no asset"):
        download(s2_item, tmp_path, assets=["nope"], user="erin", home=tmp_path)


def test_a_users_item_pointing_outside_their_folder_is_refused(tmp_path, s2_item):
    with pytest.raises(AssetAccessError, match="outside"):
        download(s2_item, tmp_path / "x", assets=[rgb_plan(s2_item)[0][0]], owner="mallory",
                 user="mallory", home=tmp_path)


def test_thumbnail_is_a_png_of_the_rgb_preset_with_transparent_nodata(demo_home, s2_item):
    png = thumbnail(s2_item, size=128, home=demo_home)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with rasterio.open(io.BytesIO(png)) as image:
        assert image.count == 4 and max(image.width, image.height) == 128
        rgb = image.read([1, 2, 3])
    assert rgb.std() > 5, "a flat thumbnail"
    assert thumbnail(s2_item, size=128, home=demo_home) == png  # from the cache


def test_remote_items_use_their_own_preview(monkeypatch):
    monkeypatch.setenv("TERRALAB_CATALOG_HOSTS", "example.test")  # an allowed host
    item = json.loads(json.dumps({
        "id": "x", "collection": "sentinel-2-l2a", "geometry": None, "properties": {},
        "assets": {"rendered_preview": {"href": "https://example.test/preview.png"},
                   "B04": {"href": "https://example.test/B04.tif"}}}))
    assert preview_href(item) == "https://example.test/preview.png"
    with pytest.raises(ThumbnailError):
        thumbnail(item)


def users_item(home, href_of, collection="mine"):
    return {"id": "x", "collection": collection, "geometry": None, "properties": {},
            "assets": {"data": {"href": href_of, "roles": ["data"]}}}


@pytest.mark.parametrize("href", ["http://127.0.0.1:9/latest/meta-data/",
                                  "s3://bucket/key.tif", "file:///etc/passwd"])
def test_a_users_item_may_not_point_at_urls_or_outside_files(tmp_path, href):
    item = users_item(tmp_path, href)
    with pytest.raises(AssetAccessError, match="outside"):
        download(item, tmp_path / "out", owner="mallory", user="mallory", home=tmp_path)
    assert downloaded_bytes("mallory", home=tmp_path) == 0


def test_public_items_at_unfetched_schemes_get_a_clear_error(tmp_path):
    with pytest.raises(AssetAccessError, match="s3://"):
        download(users_item(tmp_path, "s3://bucket/key.tif"), tmp_path, user="erin",
                 home=tmp_path)


def test_the_file_really_opened_is_checked_not_the_path(tmp_path, monkeypatch):
    """A folder swapped for a link after the path was checked still gains nothing."""
    from terralab.catalog import assets

    secret = tmp_path / "users" / "bob" / "secret.tif"
    secret.parent.mkdir(parents=True)
    secret.write_bytes(b"BOB'S SECRET")
    item = users_item(tmp_path, str(secret))
    monkeypatch.setattr(assets, "local_asset_path", lambda *a, **k: secret)  # the race won
    with pytest.raises(AssetAccessError, match="outside"), \
            assets.open_local_asset(item, "data", owner="mallory", home=tmp_path):
        pass


def test_thumbnail_cache_paths_come_from_no_item_field(tmp_path, demo_home, s2_item):
    victim = tmp_path / "users" / "bob" / "results"
    victim.mkdir(parents=True)
    hostile = json.loads(json.dumps(s2_item))
    hostile["collection"] = str(victim)
    hostile["id"] = "../../../../users/bob/results/evil"
    thumbnail(hostile, size=64, home=tmp_path)
    assert list(victim.iterdir()) == []
    cached = list((tmp_path / "catalog" / "thumbnails").rglob("*.png"))
    assert len(cached) == 1


@pytest.mark.parametrize("name", ["renamed.tif", "Field, June.tif", "湖州 影像.tif",
                                  "a\"quote.tif"])
def test_download_names_survive_the_content_disposition_round_trip(name):
    from terralab.catalog.disposition import attachment_name, content_disposition

    assert attachment_name(content_disposition(name), "fallback") == name


@pytest.mark.parametrize(("header", "expected"), [
    ('attachment; filename="../../etc/passwd"', "passwd"),
    ("attachment; filename*=UTF-8''..%2F..%2Fx.tif", "x.tif"),
    ('attachment; filename=".."', "fallback"),
    ("", "fallback"),
])
def test_a_server_cannot_name_a_download_outside_its_folder(header, expected):
    from terralab.catalog.disposition import attachment_name

    assert attachment_name(header, "fallback") == expected
