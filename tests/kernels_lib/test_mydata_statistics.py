"""``tl.mydata.statistics`` (:mod:`terralab.client.mydata`) in-process: band statistics and
histograms of rasters in my data, checked against numpy on the same pixels; nodata and NaN
left out; another user's item not found; a large raster answered from its overview; memory
bounded by windows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

import terralab.mydata.band_statistics as statistics
from terralab.client import mydata as client
from terralab.mydata.band_statistics import dataset_statistics, item_statistics
from terralab.mydata.errors import MyDataError
from terralab.mydata.results import publish_result
from terralab.mydata.store import MyDataRecord
from terralab.mydata.uploads import upload_file
from terralab.raster_open import open_checked
from terralab.service.endpoint import RequestError
from terralab.service.error_table import NotFound
from terralab.service.local import LocalService
from terralab.service.registry import endpoint

NODATA_ROWS = 100  # the top rows of the upload are nodata (0)


def write_raster(path: Path, data: np.ndarray, *, nodata: float | None = None,
                 tiled: bool = True) -> Path:
    """A georeferenced GeoTIFF (UTM 51N) of ``data`` (bands, rows, cols)."""
    count, height, width = data.shape
    profile = {"driver": "GTiff", "width": width, "height": height, "count": count,
               "dtype": data.dtype.name, "crs": "EPSG:32651", "nodata": nodata,
               "transform": from_origin(220_000, 3_400_000, 0.5, 0.5)}
    if tiled:
        profile.update(tiled=True, blockxsize=256, blockysize=256, compress="deflate")
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return path


def cog_of(home: Path, record: MyDataRecord) -> Path:
    return home / "users" / record.owner / record.folder / "data.tif"


def numpy_statistics(values: np.ndarray, bins: int) -> dict:
    """What numpy says of the valid values of one band."""
    counts, edges = np.histogram(values, bins=bins)
    low, high = np.percentile(values, (2, 98))
    return {"count": values.size, "min": float(values.min()), "max": float(values.max()),
            "mean": float(values.astype(np.float64).mean()),
            "std": float(values.astype(np.float64).std()), "percentile_2": float(low),
            "percentile_98": float(high), "counts": counts.tolist(), "edges": edges.tolist()}


def assert_band(found: dict, values: np.ndarray, bins: int) -> None:
    expected = numpy_statistics(values, bins)
    assert found["count"] == expected["count"]
    for key in ("min", "max", "mean", "std", "percentile_2", "percentile_98"):
        assert found[key] == pytest.approx(expected[key], rel=1e-9, abs=1e-9), key
    assert found["histogram"]["counts"] == expected["counts"]
    assert found["histogram"]["edges"] == pytest.approx(expected["edges"], rel=1e-12)
    assert sum(found["histogram"]["counts"]) == found["count"]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A terralab home (in-process calls act for alice)."""
    folder = tmp_path_factory.mktemp("stats") / "home"
    folder.mkdir()
    return folder


@pytest.fixture(scope="module")
def upload(home: Path, tmp_path_factory: pytest.TempPathFactory) -> MyDataRecord:
    """alice's upload: 1024×1024, 3 bands of uint8, seeded, nodata 0 in the top rows."""
    data = np.random.default_rng(16).integers(1, 256, size=(3, 1024, 1024), dtype="uint8")
    data[:, :NODATA_ROWS] = 0
    data[1, 500:520, 300:700] = 7  # a patch of one value, so the percentiles have ties
    path = write_raster(tmp_path_factory.mktemp("src") / "field.tif", data, nodata=0)
    return upload_file(path, owner="alice", title="Field", home=home)


@pytest.fixture(scope="module")
def result(home: Path, tmp_path_factory: pytest.TempPathFactory) -> MyDataRecord:
    """alice's tool result: float32, NaN and -9999 (nodata) holes; band 2 all nodata."""
    rng = np.random.default_rng(7)
    data = rng.normal(0.3, 0.2, size=(2, 600, 700)).astype("float32")
    data[0, :40] = np.nan
    data[0, 40:60] = -9999
    data[1] = -9999
    path = write_raster(tmp_path_factory.mktemp("res") / "ndvi.tif", data, nodata=-9999)
    return publish_result("alice", path, tool="ndvi", home=home)


@pytest.fixture
def in_process(env: Path) -> LocalService:
    """The in-process transport for alice on the module's home."""
    return LocalService(home=env, user="alice")


def test_upload_statistics_are_numpys_on_the_same_pixels(env, upload):
    answer = client.statistics(upload, bins=16)
    assert answer["item_id"] == upload.id and answer["approximate"] is False
    assert answer["level"] is None and answer["factor"] == 1
    assert (answer["width"], answer["height"], answer["bins"]) == (1024, 1024, 16)
    with rasterio.open(cog_of(env, upload)) as cog:
        pixels = cog.read()
    assert [band["name"] for band in answer["bands"]] == ["red", "green", "blue"]
    for band, found in zip(pixels, answer["bands"], strict=True):
        assert found["dtype"] == "uint8" and found["nodata"] == 0
        assert found["count"] == 1024 * (1024 - NODATA_ROWS)  # the nodata rows left out
        assert found["min"] >= 1
        assert_band(found, band[band != 0], 16)
    assert json.loads(json.dumps(answer)) == answer  # plain JSON, no NaN


def test_bands_subset_and_default_bins(env, upload):
    answer = client.statistics(upload.id, bands=[3, 1])
    assert [band["band"] for band in answer["bands"]] == [3, 1]
    assert answer["bins"] == 64
    assert all(len(band["histogram"]["counts"]) == 64 for band in answer["bands"])
    assert all(len(band["histogram"]["edges"]) == 65 for band in answer["bands"])
    whole = client.statistics(upload.id)
    assert answer["bands"][1] == whole["bands"][0]


def test_float_result_leaves_nan_and_nodata_out(env, result):
    answer = client.statistics(result, bins=10)
    assert answer["approximate"] is False
    with rasterio.open(cog_of(env, result)) as cog:
        first = cog.read(1)
    assert_band(answer["bands"][0], first[np.isfinite(first) & (first != -9999)], 10)
    assert answer["bands"][0]["dtype"] == "float32" and answer["bands"][0]["nodata"] == -9999
    empty = answer["bands"][1]
    assert empty["count"] == 0 and empty["histogram"] == {"edges": None, "counts": [0] * 10}
    assert all(empty[key] is None for key in ("min", "max", "mean", "std", "percentile_2",
                                               "percentile_98"))


def test_another_users_item_is_not_found_like_an_unknown_one(env, upload, in_process):
    as_bob = LocalService(home=env, user="bob")
    with pytest.raises(NotFound) as theirs:
        as_bob.request("mydata.statistics", item_id=upload.id)
    with pytest.raises(NotFound) as unknown:
        as_bob.request("mydata.statistics", item_id="no-such-item")
    assert str(theirs.value) == str(unknown.value).replace("no-such-item", upload.id)
    with pytest.raises(MyDataError, match="no item"):
        item_statistics("bob", upload.id, home=env)  # the store function alike
    assert in_process.request("mydata.statistics", item_id=upload.id)["bands"]


def test_refusals(env, tmp_path, upload, in_process):
    shape = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "plot"}, "geometry": {
            "type": "Polygon", "coordinates": [[[119.9, 30.5], [120.0, 30.5], [120.0, 30.6],
                                                [119.9, 30.5]]]}}]}
    (tmp_path / "plots.geojson").write_text(json.dumps(shape))
    vector = upload_file(tmp_path / "plots.geojson", owner="alice", home=env)
    with pytest.raises(MyDataError, match="rasters only"):
        in_process.request("mydata.statistics", item_id=vector.id)
    with pytest.raises(MyDataError, match="bands are numbered 1 to 3"):
        in_process.request("mydata.statistics", item_id=upload.id, bands=[4])
    for bins in (1, 1025):
        with pytest.raises(RequestError, match="bins"):
            in_process.request("mydata.statistics", item_id=upload.id, bins=bins)
    with pytest.raises(RequestError, match="bands"):
        in_process.request("mydata.statistics", item_id=upload.id, bands=[0])


def test_a_large_raster_is_answered_from_its_overview(env, tmp_path, in_process):
    data = np.random.default_rng(3).integers(0, 3000, size=(3, 1100, 4200), dtype="uint16")
    data[:, :, :200] = 0
    record = upload_file(write_raster(tmp_path / "big.tif", data, nodata=0), owner="alice",
                         home=env)
    answer = in_process.request("mydata.statistics", item_id=record.id, bands=[2], bins=32)
    with rasterio.open(cog_of(env, record)) as cog:
        factors = cog.overviews(1)
    # 2100 and 1050 pixels wide overviews are both long enough: the coarser one is read
    assert factors[:3] == [2, 4, 8] and answer["approximate"] is True
    assert (answer["level"], answer["factor"]) == (1, 4)
    with rasterio.open(cog_of(env, record), overview_level=1) as overview:
        pixels = overview.read(2)
    assert (answer["height"], answer["width"]) == pixels.shape == (275, 1050)
    assert_band(answer["bands"][0], pixels[pixels != 0], 32)


@pytest.mark.parametrize("dtype", ["int16", "int32", "float64"])
def test_windows_bound_memory_and_agree_with_numpy(tmp_path, monkeypatch, dtype):
    rng = np.random.default_rng(11)
    data = (rng.normal(0, 5000, size=(2, 1100, 1300))).astype(dtype)
    data[0, ::7, ::3] = -32000  # nodata
    path = write_raster(tmp_path / "plain.tif", data, nodata=-32000, tiled=False)
    shapes: list[tuple[int, int]] = []
    with open_checked(path, "plain.tif") as dataset:
        read = type(dataset).read

        def windowed(self, *args, **kwargs):
            window = kwargs.get("window")
            assert window is not None  # never the whole raster at once
            shapes.append((window.height, window.width))
            return read(self, *args, **kwargs)

        monkeypatch.setattr(type(dataset), "read", windowed)
        answer = dataset_statistics(dataset, bins=20)
    assert max(max(shape) for shape in shapes) <= 512 and len(shapes) > 4
    assert answer["approximate"] is False
    for band, found in zip(data, answer["bands"], strict=True):
        assert_band(found, band[band != -32000], 20)


def test_percentiles_of_crowded_bins_stay_within_a_fine_bin(tmp_path, monkeypatch):
    data = np.random.default_rng(5).gamma(2.0, 1.5, size=(1, 700, 900)).astype("float32")
    path = write_raster(tmp_path / "gamma.tif", data)
    monkeypatch.setattr(statistics, "_GATHER_MAX", 0)  # keep no values: interpolate
    with open_checked(path, "gamma.tif") as dataset:
        found = dataset_statistics(dataset)["bands"][0]
    width = float(data.max() - data.min()) / statistics._FINE_BINS
    for q in (2, 98):
        assert found[f"percentile_{q}"] == pytest.approx(np.percentile(data, q), abs=2 * width)


def test_the_declaration_gives_the_route_and_the_client_call():
    declared = endpoint("mydata.statistics")
    assert (declared.method, declared.path) == ("GET", "mydata/items/{item_id}/statistics")
    assert declared.route() == "mydata/items/([^/]+)/statistics"
    path, query, body = declared.split(declared.validate({"item_id": "a b", "bands": [2, 1],
                                                          "bins": 8}))
    assert (path, query, body) == ("mydata/items/a%20b/statistics", {"bands": [2, 1],
                                                                     "bins": 8}, None)
    parsed = declared.parse(["x"], {"bands": ["3", "1"], "bins": ["9"]}, None)
    assert (parsed.item_id, parsed.bands, parsed.bins) == ("x", [3, 1], 9)
