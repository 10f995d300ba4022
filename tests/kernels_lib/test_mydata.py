"""My data in-process: uploads charged against the storage quota, list, rename, delete,
download, search of ``my-data``; a failed upload leaves nothing and charges nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.transform import from_origin

from terralab.mydata import store
from terralab.mydata.errors import MyDataError, UploadError
from terralab.mydata.library import (
    delete_item,
    download_item,
    get_item,
    list_items,
    rename_item,
)
from terralab.mydata.limits import UploadLimits
from terralab.mydata.uploads import start_upload, upload_file
from terralab.quotas.policy import StoragePolicy
from terralab.sizes import format_size, parse_size

MB = 1024**2


def write_geotiff(path: Path, *, side: int = 1024, count: int = 3, dtype: str = "uint8",
                  compress: str | None = "deflate", seed: int = 0) -> Path:
    """A georeferenced test image in UTM 51N (Deqing), random but seeded."""
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    data = rng.integers(0, min(info.max, 4000), size=(count, side, side), dtype=dtype)
    profile = {"driver": "GTiff", "width": side, "height": side, "count": count,
               "dtype": dtype, "crs": "EPSG:32651",
               "transform": from_origin(220_000, 3_400_000, 0.5, 0.5)}
    if compress:
        profile.update(compress=compress, tiled=True, blockxsize=256, blockysize=256)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return path


def nothing_left(home: Path, user: str) -> None:
    """Assert that no upload files or staging folders remain for ``user``."""
    uploads = home / "users" / user / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())
    staging = home / "staging"
    assert not staging.exists() or not any(staging.iterdir())


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty terralab home; in-process calls act for user alice."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("TERRALAB_HOME", str(folder))
    monkeypatch.setenv("TERRALAB_USER", "alice")
    return folder


def test_sizes_parse_and_print() -> None:
    assert parse_size("10MB") == 10 * MB
    assert parse_size("300 GB") == 300 * 1024**3
    assert parse_size(1234) == 1234
    assert parse_size("1.5kb") == 1536
    for bad in ("lots", "-3MB", "10 parsecs", ""):
        with pytest.raises(ValueError, match="not a size"):
            parse_size(bad)
    assert format_size(10 * MB) == "10 MB"


def test_policy_user_and_group_overrides() -> None:
    policy = StoragePolicy(default=100, users={"alice": 5}, groups={"class": 50, "staff": 70})
    assert policy.limit_for("alice", ["staff"]) == 5          # the user's own value first
    assert policy.limit_for("bob", ["class", "staff"]) == 70  # else the largest group value
    assert policy.limit_for("carol") == 100
    env = {"TERRALAB_STORAGE_QUOTA": "1GB",
           "TERRALAB_STORAGE_QUOTA_USERS": '{"alice": "2GB"}',
           "TERRALAB_STORAGE_QUOTA_GROUPS": '{"class": "3GB"}'}
    read = StoragePolicy.from_env(env)
    assert read.limit_for("alice") == 2 * 1024**3
    assert read.limit_for("bob", ["class"]) == 3 * 1024**3
    assert StoragePolicy.from_env(read.to_env()) == read
    with pytest.raises(ValueError, match="TERRALAB_STORAGE_QUOTA_USERS"):
        StoragePolicy.from_env({"TERRALAB_STORAGE_QUOTA_USERS": "[1]"})


def test_quota_refuses_an_upload_over_it_and_keeps_nothing(home: Path, tmp_path: Path) -> None:
    big = write_geotiff(tmp_path / "big.tif", side=1216, count=4, dtype="uint16", compress=None)
    assert big.stat().st_size > 11 * MB
    policy = StoragePolicy(default=10 * MB)
    with pytest.raises(UploadError) as caught:
        upload_file(big, owner="alice", policy=policy, home=home)
    assert caught.value.rule == "quota"
    message = str(caught.value)
    assert "storage quota" in message and "10 MB" in message and "big.tif" in message
    nothing_left(home, "alice")
    assert store.storage_usage("alice", policy=policy, home=home).used == 0


def test_upload_publishes_charges_and_delete_frees(home: Path, tmp_path: Path) -> None:
    image = write_geotiff(tmp_path / "Field 2024.tif", seed=1)
    record = upload_file(image, owner="alice", home=home)
    folder = home / "users" / "alice" / "uploads" / record.id
    assert record.kind == "upload" and record.data_type == "raster"
    assert record.title == "Field 2024.tif" and record.id.startswith("field-2024-")
    assert folder.is_dir() and (folder / "data.tif").is_file()
    on_disk = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert record.bytes == on_disk > 0
    usage = store.storage_usage("alice", home=home)
    assert usage.used == on_disk
    data = record.item["assets"]["data"]
    assert data["href"] == str(folder / "data.tif")
    assert "cloud-optimized" in data["type"]
    assert len(data["raster:bands"]) == 3
    assert {"minimum", "maximum", "mean", "stddev"} <= set(data["raster:bands"][0]["statistics"])
    with rasterio.open(folder / "data.tif") as cog, rasterio.open(image) as src:
        assert cog.crs == src.crs and cog.transform == src.transform
        assert np.array_equal(cog.read(), src.read())
        assert cog.overviews(1)

    # searchable as my-data by its owner, invisible to anyone else
    from terralab.catalog.search import search

    mine = search(collections=["my-data"], geometry=tuple(record.item["bbox"]), home=home)
    assert [item.id for item in mine] == [record.id]
    assert len(search(collections=["my-data"], user="bob", home=home)) == 0

    # rename: the listing and the catalog show the new title
    renamed = rename_item("alice", record.id, "  Field,\tJune  ", home=home)
    assert renamed.title == "Field, June"
    found = search(collections=["my-data"], home=home)
    assert found[0].properties["title"] == "Field, June"
    assert [r.id for r in list_items("alice", text="june", home=home)] == [record.id]
    assert list_items("alice", kind="result", home=home) == []
    with pytest.raises(MyDataError, match="title"):
        rename_item("alice", record.id, "   ", home=home)

    # download: named after the item, counted in the download record
    from terralab.quotas.downloads import downloaded_bytes

    [copy] = download_item("alice", record.id, tmp_path / "out", home=home)
    assert copy.name == "Field, June.tif"
    assert copy.read_bytes() == (folder / "data.tif").read_bytes()
    assert downloaded_bytes("alice", home=home) == copy.stat().st_size

    # another user cannot reach it
    with pytest.raises(MyDataError):
        get_item("bob", record.id, home=home)
    with pytest.raises(MyDataError):
        delete_item("bob", record.id, home=home)
    assert folder.is_dir()

    freed = delete_item("alice", record.id, home=home)
    assert freed == on_disk
    assert not folder.exists()
    assert store.storage_usage("alice", home=home).used == 0
    assert len(search(collections=["my-data"], home=home)) == 0


def test_a_failed_upload_leaves_nothing_and_charges_nothing(home: Path, tmp_path: Path) -> None:
    image = write_geotiff(tmp_path / "cut.tif", seed=2)
    cut = tmp_path / "truncated.tif"
    cut.write_bytes(image.read_bytes()[: image.stat().st_size // 2])
    with pytest.raises(UploadError) as caught:
        upload_file(cut, owner="alice", home=home)
    assert caught.value.rule == "truncated"
    nothing_left(home, "alice")
    assert store.storage_usage("alice", home=home).used == 0
    assert list_items("alice", home=home) == []


def test_reservations_keep_two_uploads_from_overrunning_the_quota(home: Path) -> None:
    policy = StoragePolicy(default=10 * MB)
    first = start_upload("alice", "a.tif", 6 * MB, policy=policy, home=home)
    with pytest.raises(UploadError, match="quota"):
        start_upload("alice", "b.tif", 6 * MB, policy=policy, home=home)
    assert store.storage_usage("alice", policy=policy, home=home).used == 6 * MB
    from terralab.mydata.uploads import abort_upload

    abort_upload(first)
    assert store.storage_usage("alice", policy=policy, home=home).used == 0
    second = start_upload("alice", "b.tif", 6 * MB, policy=policy, home=home)
    abort_upload(second)

    # many at once: exactly as many as fit are accepted
    results: list[object] = []

    def announce(index: int) -> None:
        try:
            results.append(start_upload("alice", f"c{index}.tif", 3 * MB, policy=policy,
                                        home=home))
        except UploadError as error:
            results.append(error)

    threads = [threading.Thread(target=announce, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted = [r for r in results if not isinstance(r, UploadError)]
    assert len(accepted) == 3
    for pending in accepted:
        abort_upload(pending)  # type: ignore[arg-type]


def test_upload_refuses_unknown_types_and_oversized_files(home: Path, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(UploadError) as caught:
        upload_file(text, owner="alice", home=home)
    assert caught.value.rule == "type" and ".tif" in str(caught.value)
    image = write_geotiff(tmp_path / "image.tif")
    with pytest.raises(UploadError) as caught:
        upload_file(image, owner="alice", limits=UploadLimits(max_bytes=1000), home=home)
    assert caught.value.rule == "size"
    for bad in ("", "a\x00.tif", "..", "folder/"):
        with pytest.raises(UploadError):
            start_upload("alice", bad, 10, home=home)
    from terralab.mydata.uploads import abort_upload

    pending = start_upload("alice", "../../x.tif", 10, home=home)  # only the name counts
    assert pending.name == "x.tif" and pending.staging.parent == home / "staging"
    abort_upload(pending)
    with pytest.raises(ValueError, match="user name"):
        start_upload("../bob", "x.tif", 10, home=home)
    nothing_left(home, "alice")


def test_tl_upload_and_cli_work_in_process(home: Path, tmp_path: Path) -> None:
    import terralab as tl
    from terralab.cli import cli

    image = write_geotiff(tmp_path / "scene.tif", seed=3)
    record = tl.upload(image, title="Scene A")
    assert record.title == "Scene A" and record.owner == "alice"
    assert [r.id for r in tl.my_data()] == [record.id]
    assert tl.mydata.storage().used == record.bytes

    runner = CliRunner()
    result = runner.invoke(cli, ["mydata", "list"])
    assert result.exit_code == 0 and record.id in result.output and "Scene A" in result.output
    result = runner.invoke(cli, ["upload", str(image), "--title", "Scene B"])
    assert result.exit_code == 0, result.output
    assert "published Scene B" in result.output
    text = tmp_path / "x.txt"
    text.write_text("x")
    result = runner.invoke(cli, ["upload", str(text)])
    assert result.exit_code == 2 and "does not take" in result.output
    result = runner.invoke(cli, ["mydata", "delete", record.id])
    assert result.exit_code == 0 and "freed" in result.output
    result = runner.invoke(cli, ["mydata", "storage"])
    assert result.exit_code == 0 and "used" in result.output
    assert len(tl.my_data()) == 1


def _shapefile_zip(folder: Path, *, prj: bool) -> Path:
    import zipfile

    import geopandas as gpd
    from shapely.geometry import box

    frame = gpd.GeoDataFrame({"name": ["a", "b"]},
                             geometry=[box(220_000, 3_399_000, 220_300, 3_399_300),
                                       box(220_500, 3_399_000, 220_800, 3_399_400)],
                             crs="EPSG:32651")
    frame.to_file(folder / "fields.shp")
    archive = folder / "fields.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            part = folder / f"fields{ext}"
            if part.exists() and (prj or ext != ".prj"):
                handle.write(part, part.name)
    return archive


def test_vector_uploads_are_listed_and_searchable(home: Path, tmp_path: Path) -> None:
    from terralab.catalog.search import search

    known = upload_file(_shapefile_zip(tmp_path, prj=True), owner="alice", home=home)
    assert known.data_type == "vector" and not known.flags
    folder = home / "users" / "alice" / known.folder
    assert (folder / "data.gpkg").is_file() and (folder / "thumbnail.png").is_file()
    assert known.item["properties"]["terralab:feature_count"] == 2
    west, south, east, north = known.item["bbox"]
    assert 119 < west < east < 122 and 30 < south < north < 31.5  # Deqing, in lon/lat
    found = search(collections=["my-data"], geometry=tuple(known.item["bbox"]), home=home)
    assert [item.id for item in found] == [known.id]

    unknown_dir = tmp_path / "noprj"
    unknown_dir.mkdir()
    unknown = upload_file(_shapefile_zip(unknown_dir, prj=False), owner="alice", home=home)
    assert any("CRS unknown" in flag for flag in unknown.flags)
    assert unknown.item["geometry"] is None          # never placed on the map by a guess
    assert {r.id for r in list_items("alice", data_type="vector", home=home)} == \
        {known.id, unknown.id}
    assert delete_item("alice", unknown.id, home=home) == unknown.bytes
    assert store.storage_usage("alice", home=home).used == known.bytes


def test_naip_uploads_with_the_band_order_the_user_gives(home: Path, real_data: Path) -> None:
    naip = sorted((real_data / "naip").glob("*.tif"))
    assert len(naip) == 4
    limits = UploadLimits(min_side=512, crs="any")    # 934×724, NAD83: a site's wider rules
    with pytest.raises(UploadError) as caught:
        upload_file(naip[0], owner="alice", home=home)  # the platform's own rules
    assert caught.value.rule in ("crs", "pixels") and "NAD83" in str(caught.value)
    with pytest.raises(UploadError) as caught:
        upload_file(naip[0], owner="alice", limits=limits, bands=["red", "green"], home=home)
    assert caught.value.rule == "bands"
    nothing_left(home, "alice")
    records = [upload_file(path, owner="alice", limits=limits,
                           bands=["red", "green", "blue", "nir"], home=home) for path in naip]
    for record, path in zip(records, naip, strict=True):
        bands = record.item["assets"]["data"]["eo:bands"]
        assert [b["common_name"] for b in bands] == ["red", "green", "blue", "nir"]
        cog = home / "users" / "alice" / record.folder / "data.tif"
        with rasterio.open(cog) as published, rasterio.open(path) as src:
            assert np.array_equal(published.read(), src.read())
            assert published.descriptions == ("red", "green", "blue", "nir")
    assert len(list_items("alice", home=home)) == 4

    # a tile where the image lies shows the source's pixels (zoom 16: 2.4 m < 5 m pixels)
    import morecantile
    from rio_tiler.io import Reader

    from terralab.tiles import render_tile, resolve_tile_source

    west, south, east, north = records[0].item["bbox"]
    tile = morecantile.tms.get("WebMercatorQuad").tile((west + east) / 2, (south + north) / 2,
                                                       16)
    source = resolve_tile_source("alice", item=records[0].id, home=home)
    png = render_tile(source, tile.z, tile.x, tile.y, bands="red,green,blue", rescale="0,255")
    with rasterio.io.MemoryFile(png) as memory, memory.open() as decoded:
        pixels = decoded.read()
    with Reader(str(naip[0])) as reader:
        expected = reader.tile(tile.x, tile.y, tile.z, indexes=(1, 2, 3))
    valid = expected.mask > 0
    assert valid.mean() > 0.9 and pixels[:3].std() > 5
    difference = np.abs(pixels[:3].astype(int) - expected.data.astype(int))[:, valid]
    assert np.median(difference) == 0 and difference.mean() < 1


def test_tool_results_are_published_into_my_data(home: Path, tmp_path: Path) -> None:
    from terralab.mydata.results import publish_result

    ndvi = tmp_path / "ndvi.tif"
    values = np.linspace(-1, 1, 200 * 300, dtype="float32").reshape(1, 200, 300)
    with rasterio.open(ndvi, "w", driver="GTiff", width=300, height=200, count=1,
                       dtype="float32", crs="EPSG:4490", nodata=-9999,
                       transform=from_origin(119.9, 30.6, 0.0001, 0.0001)) as dst:
        dst.write(values)
    record = publish_result("alice", ndvi, tool="ndvi", title="NDVI June")
    assert record.kind == "result" and record.source_name == "ndvi"
    assert record.folder == f"results/{record.id}" and record.title == "NDVI June"
    assert record.item["properties"]["terralab:kind"] == "result"
    stats = record.item["assets"]["data"]["raster:bands"][0]["statistics"]
    assert stats["minimum"] == pytest.approx(-1) and stats["maximum"] == pytest.approx(1)
    assert [r.id for r in list_items("alice", kind="result", home=home)] == [record.id]
    assert list_items("alice", kind="upload", home=home) == []
    assert store.storage_usage("alice", home=home).used == record.bytes
    with pytest.raises(UploadError) as caught:
        publish_result("alice", ndvi, tool="ndvi", policy=StoragePolicy(default=100),
                       home=home)
    assert caught.value.rule == "quota"
    assert len(list_items("alice", home=home)) == 1


def test_downloads_in_the_format_asked_for(home: Path, tmp_path: Path) -> None:
    import zipfile

    import geopandas as gpd

    from terralab.quotas.downloads import downloaded_bytes

    vector = upload_file(_shapefile_zip(tmp_path, prj=True), owner="alice", title="Fields",
                         home=home)
    [geojson] = download_item("alice", vector.id, tmp_path / "out", format="geojson", home=home)
    frame = gpd.read_file(geojson)
    assert geojson.name == "Fields.geojson" and frame.crs.to_epsg() == 4326 and len(frame) == 2
    assert 119 < frame.total_bounds[0] < 122
    [shapefile] = download_item("alice", vector.id, tmp_path / "out", format="shapefile",
                                home=home)
    with zipfile.ZipFile(shapefile) as archive:
        assert {Path(n).suffix for n in archive.namelist()} >= {".shp", ".shx", ".dbf", ".prj"}
    assert gpd.read_file(f"zip://{shapefile}").crs.to_epsg() == 32651
    [gpkg] = download_item("alice", vector.id, tmp_path / "out", format="gpkg", home=home)
    assert gpkg.suffix == ".gpkg"
    assert downloaded_bytes("alice", home=home) == sum(
        p.stat().st_size for p in (geojson, shapefile, gpkg))
    raster = upload_file(write_geotiff(tmp_path / "r.tif"), owner="alice", home=home)
    [cog] = download_item("alice", raster.id, tmp_path / "out", format="cog", home=home)
    assert cog.suffix == ".tif"
    with pytest.raises(MyDataError, match="geojson"):
        download_item("alice", raster.id, tmp_path / "out", format="geojson", home=home)
    assert not list((tmp_path / "out").glob("*.part"))


def test_uploads_published_by_a_worker_job(home: Path, tmp_path: Path) -> None:
    """The hub's path without a hub: a received upload is published by a queued job of the
    internal tool publish_upload (kind publish); a refusal is kept for the client, nothing
    else; uploads being received when the service stops are released when it starts."""
    from terralab.mydata import upload_jobs
    from terralab.mydata.uploads import check_upload
    from terralab.queue import store as queue_store
    from terralab.queue.worker import Worker
    from terralab.tools.registry import default_registry

    assert "publish_upload" not in default_registry()  # never listed …
    assert default_registry().get("publish_upload") is not None  # … but found by name
    limits = UploadLimits()
    good = write_geotiff(tmp_path / "good.tif")
    whole = write_geotiff(tmp_path / "whole.tif", seed=1).read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(whole[: len(whole) // 2])
    jobs = {}
    for path in (good, cut):
        pending = start_upload("alice", path.name, path.stat().st_size, limits=limits,
                               home=home)
        upload_jobs.announce(pending, limits, title=f"the {path.stem}")
        taken = upload_jobs.take_for_body("alice", pending.item_id, home=home)
        assert taken is not None  # one request gets the body, a second one none
        assert upload_jobs.take_for_body("alice", pending.item_id, home=home) is None
        assert upload_jobs.take_for_body("bob", pending.item_id, home=home) is None
        pending.source.write_bytes(path.read_bytes())
        check_upload(taken.pending, limits=taken.limits)  # the header is fine in both
        upload_jobs.mark_received(taken)
        job = queue_store.submit("alice", "publish_upload", {"upload": pending.item_id},
                                 home=home)
        assert job.kind == "publish"
        upload_jobs.set_job(taken, job.id)
        jobs[path.name] = (pending.item_id, job.id)
    # a job of another user cannot publish alice's upload
    intruder = queue_store.submit("bob", "publish_upload",
                                  {"upload": jobs["good.tif"][0]}, home=home)
    Worker(home=home, hard_cancel=False, poll_seconds=0.1).run(until_idle=True)
    assert queue_store.get_job(intruder.id, home=home).status == "failed"
    good_id, good_job = jobs["good.tif"]
    status = upload_jobs.upload_status("alice", good_id, home=home)
    assert status is not None and status["state"] == "ready"
    assert status["item"]["title"] == "the good"
    assert queue_store.get_job(good_job, home=home).status == "succeeded"
    cut_id, cut_job = jobs["cut.tif"]
    status = upload_jobs.upload_status("alice", cut_id, home=home)
    assert status is not None and status["state"] == "failed"
    assert status["rule"] == "truncated", status
    assert queue_store.get_job(cut_job, home=home).status == "failed"
    used = store.storage_usage("alice", home=home).used
    assert used == get_item("alice", good_id, home=home).bytes  # the refused one: nothing
    staging = home / "staging"
    assert not staging.exists() or not any(staging.iterdir())
    # the service stops while an upload is announced: released when it starts again
    late = start_upload("alice", "late.tif", 5 * MB, limits=limits, home=home)
    upload_jobs.announce(late, limits)
    assert store.storage_usage("alice", home=home).used == used + 5 * MB
    assert upload_jobs.release_interrupted(home) == 1
    assert store.storage_usage("alice", home=home).used == used
    assert not late.staging.exists()
    assert upload_jobs.upload_status("alice", late.item_id, home=home) is None
