"""SAR water extraction: demo Sentinel-1 items against their truth, the real Sen1Floods11 chip,
tiles equal to the whole image, wrong inputs refused, and the CLI / queued-job transports."""

from __future__ import annotations

import shutil
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import rasterio
import rioxarray  # noqa: F401 (the .rio accessor)
import xarray as xr
from click.testing import CliRunner
from rasterio.transform import from_origin

from terralab.ai.metrics import water_scores
from terralab.ai.tools._sar_threshold import tile_histograms
from terralab.ai.tools._speckle import lee, refined_lee
from terralab.ai.tools.sar_water import remove_small_patches
from terralab.tools.inputs import InputError
from terralab.tools.runner import ToolParameterError, run_tool
from tests.conftest import write_small_demo

CHIP = Path("sen1floods11") / "Spain_7370579_S1Hand.tif"
OPTICAL = Path("sen1floods11") / "Spain_7370579_S2Hand.tif"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home of its own with the small demo region (the tools save results into it)."""
    folder = write_small_demo(tmp_path_factory.mktemp("sar-home"))
    (folder / "users" / "alice").mkdir(parents=True, exist_ok=True)
    return folder



def _s1_items() -> list[str]:
    from terralab.demo.truth import item_ids

    return item_ids()["sentinel-1-grd"]


def _same_grid(out: rasterio.DatasetReader, path: Path) -> bool:
    """Same CRS, size and transform (to 1e-9: the writer recomputes it from coordinates)."""
    with rasterio.open(path) as src:
        return (out.crs == src.crs and (out.width, out.height) == (src.width, src.height)
                and out.transform.almost_equals(src.transform, 1e-9))


def test_demo_items_match_the_truth_and_keep_their_grid(home: Path) -> None:
    from terralab.demo.landscape import CODES
    from terralab.demo.truth import scene_landcover
    from terralab.tools.inputs import resolve_raster

    for item in _s1_items()[:2]:
        result = run_tool("sar_water", user="alice", home=home, image=item)
        vv = Path(resolve_raster(item, user="alice", home=home).item["assets"]["vv"]["href"])
        with rasterio.open(result.path) as out:
            mask = out.read(1)
            assert _same_grid(out, vv)
            assert out.dtypes[0] == "uint8" and out.nodata == 255
        truth = scene_landcover(item, size=256, seed=42) == CODES["water"]
        scores = water_scores(mask == 1, truth, mask != 255)
        # measured 0.897–0.901 (speckle filtering loses the thinnest channels)
        assert scores["IoU"] >= 0.85 and scores["precision"] >= 0.95, scores
        extra = result.extra
        assert extra["units"] == "linear" and extra["polarisation"] == "vv+vh"
        assert extra["method"] == "otsu" and -23 < extra["threshold_db"] < -16
        assert extra["water_area_m2"] > 0 and 0 < extra["water_fraction"] < 0.3
        assert "warning" not in extra  # 10 m is in the suggested range
        polygons = result.records[1]
        assert polygons.data_type == "vector" and "water_polygons" in polygons.title


def test_real_chip_in_db_agrees_with_optical_water(home: Path, real_data: Path) -> None:
    source = real_data / CHIP
    result = run_tool("sar_water", user="alice", home=home, image=str(source))
    assert result.extra["units"] == "db"
    with rasterio.open(result.path) as out:
        mask = out.read(1)
        assert _same_grid(out, source)
    with rasterio.open(real_data / OPTICAL) as src:
        green, nir = src.read(3).astype(float), src.read(8).astype(float)
    ndwi_water = (green - nir) / (green + nir) > 0
    scores = water_scores(mask == 1, ndwi_water, mask != 255)
    # agreement with an optical reference (S2 L1C NDWI > 0), not ground truth: measured 0.597
    assert scores["IoU"] >= 0.5 and scores["overall accuracy"] >= 0.85, scores


@pytest.mark.parametrize("options", [{}, {"speckle_filter": "lee", "window": 5},
                                     {"speckle_filter": "median"}, {"min_area_m2": 5000}])
def test_tiles_give_what_the_whole_image_gives(home: Path, real_data: Path, options) -> None:
    image = str(real_data / CHIP)
    small = run_tool("sar_water", user="alice", home=home, image=image, save=False,
                     chunk=96, **options)
    whole = run_tool("sar_water", user="alice", home=home, image=image, save=False,
                     chunk=1024, **options)
    assert len(small.data.data.chunks[1]) > 4 and isinstance(small.data.data, da.Array)
    assert small.extra["threshold_db"] == whole.extra["threshold_db"]
    assert np.array_equal(small.data.values, whole.data.values)


def test_a_dataarray_in_linear_power_gives_the_same_water(home: Path, real_data: Path) -> None:
    image = str(real_data / CHIP)
    decibels = xr.open_dataarray(image, engine="rasterio")
    linear = (10 ** (decibels / 10)).astype("float32").rio.write_crs(decibels.rio.crs)
    from_db = run_tool("sar_water", user="alice", home=home, image=image, save=False)
    from_linear = run_tool("sar_water", user="alice", home=home, image=linear, save=False)
    assert from_linear.extra["units"] == "linear"
    assert from_linear.extra["threshold_db"] == from_db.extra["threshold_db"]
    differ = np.mean(from_linear.data.values != from_db.data.values)
    assert differ < 1e-3  # float rounding of dB → linear → dB at the threshold only
    manual = run_tool("sar_water", user="alice", home=home, image=image, save=False,
                      threshold_db=-25.0, polarisation="vh", threshold_scope="global")
    assert manual.extra["method"] == "manual" and manual.extra["polarisation"] == "vh"
    assert (manual.data.values == 1).mean() < (from_db.data.values == 1).mean()


def _write(path: Path, array: np.ndarray, *, nodata=None, descriptions=None) -> Path:
    bands, height, width = array.shape
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=bands,
                       dtype=array.dtype, crs="EPSG:32650", nodata=nodata,
                       transform=from_origin(500_000, 4_000_000, 10, 10)) as dst:
        dst.write(array)
        if descriptions:
            dst.descriptions = descriptions
    return path


def test_wrong_inputs_are_refused_clearly(home: Path, real_data: Path, tmp_path: Path) -> None:
    from terralab.demo.truth import item_ids

    optical = [str(real_data / "naip" / "m_4709963_se_14_1_20200831.tif"),
               str(real_data / OPTICAL), "deqing-aerial-20240510",
               item_ids()["sentinel-2-l2a"][0]]
    for image in optical:
        with pytest.raises(InputError, match=r"needs SAR backscatter.*optical"):
            run_tool("sar_water", user="alice", home=home, image=image, save=False)
    rng = np.random.default_rng(0)
    digital = _write(tmp_path / "dn.tif", rng.integers(100, 4000, (1, 64, 64), dtype="uint16"))
    with pytest.raises(InputError, match="does not look like calibrated"):
        run_tool("sar_water", user="alice", home=home, image=str(digital), save=False)
    single = _write(tmp_path / "hh.tif", rng.normal(-12, 3, (1, 64, 64)).astype("float32"),
                    descriptions=("HH",))
    with pytest.raises(InputError, match="no VH/HV band"):
        run_tool("sar_water", user="alice", home=home, image=str(single), polarisation="vh",
                 save=False)
    one_band = run_tool("sar_water", user="alice", home=home, image=str(single), save=False)
    assert one_band.extra["polarisation"] == "vv" and one_band.extra["units"] == "db"
    three = _write(tmp_path / "three.tif", rng.random((3, 64, 64)).astype("float32"))
    with pytest.raises(InputError, match="3 bands, none named VV"):
        run_tool("sar_water", user="alice", home=home, image=str(three), save=False)
    with pytest.raises(ToolParameterError, match="window"):
        run_tool("sar_water", user="alice", home=home, image=str(single), window=1)
    with pytest.raises(ToolParameterError, match="polarisation"):
        run_tool("sar_water", user="alice", home=home, image=str(single), polarisation="hh")


def test_tl_run_cli_and_queued_job(env: Path, real_data: Path) -> None:
    import terralab as tl
    from terralab.cli import cli
    from terralab.mydata.store import list_records
    from terralab.queue import store
    from terralab.queue.worker import Worker

    item = _s1_items()[1]
    in_process = tl.run("sar_water", image=item, polygons=False)
    assert in_process.record.owner == "alice" and len(in_process.records) == 1
    ran = CliRunner().invoke(cli, ["run", "sar_water", "-p", f"image={item}",
                                   "-p", "polarisation=vv", "-p", "method=ki"])
    assert ran.exit_code == 0, ran.output
    assert "saved" in ran.output and "threshold_db" in ran.output
    naip = real_data / "naip" / "m_4709963_se_14_1_20200831.tif"
    bad = CliRunner().invoke(cli, ["run", "sar_water", "-p", f"image={naip}"])
    assert bad.exit_code == 2 and "optical" in bad.output
    shutil.copy(real_data / CHIP, env / "users" / "alice" / "s1.tif")
    job = store.submit("alice", "sar_water", {"image": "s1.tif", "min_area_m2": 2000},
                       home=env)
    Worker(home=env, hard_cancel=False).run(until_idle=True)
    done = store.get_job(job.id, home=env)
    assert done.status == "succeeded", done.log
    assert len(done.results) == 2  # the mask and its polygons
    records = {r.id: r for r in list_records("alice", home=env)}
    mask = records[done.results[0]]
    with rasterio.open(mask.item["assets"]["data"]["href"]) as out:
        assert _same_grid(out, real_data / CHIP)
    # a shared worker reads the user's folder only
    outside = store.submit("alice", "sar_water", {"image": str(real_data / CHIP)}, home=env)
    Worker(home=env, hard_cancel=False).run(until_idle=True)
    failed = store.get_job(outside.id, home=env)
    assert failed.status == "failed" and "outside your folder" in (failed.error or "")


def test_tiles_find_water_that_is_rare_in_the_scene() -> None:
    """2 % water in a scene of two kinds of land: the whole histogram's Otsu splits the land,
    the bimodal tiles find the water."""
    from terralab.ai.tools._sar_threshold import scene_threshold

    rng = np.random.default_rng(0)
    size = 1024
    yy, xx = np.mgrid[0:size, 0:size]
    land = np.where(np.sin(xx / 40) + np.cos(yy / 55) > 0, -8.0, -13.0)
    water = (xx - 200) ** 2 + (yy - 800) ** 2 < 80**2
    linear = 10 ** (np.where(water, -22.0, land) / 10) * rng.gamma(4.4, 1 / 4.4, land.shape)
    feature = 10 * np.log10(lee(linear, size=7, enl=4.4))
    counts, sizes = tile_histograms(da.from_array(feature.astype("float32"), chunks=256), 128)
    tiles = scene_threshold(counts, sizes, method="otsu", scope="tiles", ceiling=-15.0)
    whole = scene_threshold(counts, sizes, method="otsu", scope="global", ceiling=-15.0)
    assert 0 < tiles.tiles_used < tiles.tiles_total and whole.scope == "global"
    assert water_scores(feature < tiles.value, water)["IoU"] > 0.9
    assert water_scores(feature < whole.value, water)["IoU"] < 0.3


def test_refined_lee_keeps_edges_and_small_patches_go_exactly() -> None:
    rng = np.random.default_rng(0)
    truth = np.zeros((200, 200), bool)
    truth[:, 100:] = True
    yy, xx = np.mgrid[0:200, 0:200]
    truth |= (np.abs(yy - 0.5 * xx - 20) < 1.6) & (xx < 100)  # a 3-pixel diagonal channel
    speckled = np.where(truth, 0.005, 0.1) * rng.gamma(4.4, 1 / 4.4, truth.shape)
    recall = {}
    for name, filtered in (("lee", lee(speckled, size=7)), ("refined", refined_lee(speckled))):
        found = 10 * np.log10(filtered) < -16.5
        recall[name] = (found & truth)[:, :90].sum() / truth[:, :90].sum()
    assert recall["refined"] > 0.85 > 0.6 > recall["lee"]
    water = np.zeros((30, 30), bool)
    water[2:4, 2:5] = True  # 6 pixels
    water[10:20, 10:20] = True
    water[14:16, 14:16] = False  # a land hole: kept
    water[25, 25] = water[26, 26] = True  # diagonal neighbours are not 4-connected
    kept = remove_small_patches(water, 7)
    assert not kept[2:4, 2:5].any() and not kept[25, 25] and not kept[26, 26]
    assert kept[10:20, 10:20].sum() == 96
    assert np.array_equal(remove_small_patches(water, 6)[2:4, 2:5], water[2:4, 2:5])
