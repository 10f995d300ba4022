"""Land-cover baseline: demo Landsat / Sentinel-2 items (QA, SCL), real files, CLI, queue."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from terralab.ai.metrics import confusion, merge, summary
from terralab.ai.spectral_rules import OUTPUT_CODES, classify
from terralab.demo.truth import item_ids, scene_landcover
from terralab.products import open_band
from terralab.products.landsat_c2l2 import decode_qa_pixel
from terralab.products.sentinel2_l2a import decode_scl
from terralab.tools.inputs import InputError
from terralab.tools.runner import ToolParameterError, run_tool

LANDSAT_CLEAR = "LC09_L2SP_119039_20240510_02_T1"  # May, 5 % cloud


def _item(home: Path, item_id: str) -> dict:
    from terralab.tools.inputs import resolve_raster

    source = resolve_raster(item_id, user="alice", home=home)
    assert source.item is not None
    return source.item


def _classes(result) -> np.ndarray:
    return np.asarray(result.data.values)[0]


@pytest.fixture(scope="module")
def home(demo_copy: Path) -> Path:
    return demo_copy



def test_rules_on_textbook_spectra():
    spectra = {  # blue, green, red, nir, swir16, swir22 (reflectance)
        "water": (0.06, 0.07, 0.04, 0.012, 0.005, 0.003),
        "forest": (0.03, 0.06, 0.03, 0.35, 0.17, 0.07),
        "cropland": (0.05, 0.09, 0.06, 0.38, 0.24, 0.12),
        "grass": (0.06, 0.09, 0.09, 0.22, 0.27, 0.15),  # NDVI 0.42: sparse, dry
        "building": (0.15, 0.17, 0.19, 0.24, 0.27, 0.24),
        "bare": (0.12, 0.16, 0.20, 0.28, 0.35, 0.30),
        "unknown": (0.75, 0.74, 0.72, 0.68, 0.45, 0.28),  # a thick cloud, no QA band
    }
    names = ("blue", "green", "red", "nir", "swir16", "swir22")
    codes = {"cropland": 1, "forest": 2, "grass": 3, "building": 4, "bare": 8, "water": 9,
             "unknown": 10}
    for name, values in spectra.items():
        bands = {k: np.full((2, 2), v, "float32") for k, v in zip(names, values, strict=True)}
        assert (classify(bands) == codes[name]).all(), name
    bands["red"][0, 0] = np.nan
    assert classify(bands)[0, 0] == 0


def test_landsat_item_in_process_saved_with_qa_clouds_and_legend(env):
    home = env
    result = run_tool("land_cover", user="alice", home=home, image=LANDSAT_CLEAR)
    item = _item(home, LANDSAT_CLEAR)
    red = open_band(item, "red")
    with rasterio.open(result.path) as out:
        assert out.crs == red.rio.crs and out.transform.almost_equals(red.rio.transform())
        assert (out.count, out.dtypes[0], out.nodata) == (1, "uint8", 0)
        classes = out.read(1)
    assert set(np.unique(classes)) <= {0, *OUTPUT_CODES}
    flags = decode_qa_pixel(open_band(item, "qa_pixel").values)
    cloudy = flags["cloud"] | flags["dilated_cloud"] | flags["cirrus"] | flags["cloud_shadow"]
    assert cloudy.any() and (classes[cloudy] == 10).all()
    extra = result.extra
    assert extra["baseline"] is True and extra["method"] == "baseline"
    assert "building, road and structure" in extra["note"]
    assert extra["titles_zh"][1] == "耕地" and extra["colormap"][9] == "#2f6fd6"
    assert extra["product"] == "landsat-c2-l2"


def test_sentinel2_item_on_the_10m_grid_with_scl_clouds(demo_home):
    cloudy = "S2A_MSIL2A_20250507T023551_R089_T51RTP_20250507T061010"  # 43 % cloud
    result = run_tool("land_cover", user="alice", home=demo_home, save=False, image=cloudy)
    item = _item(demo_home, cloudy)
    red = open_band(item, "B04")
    data = result.data
    assert data.rio.transform() == red.rio.transform() and data.shape[1:] == red.shape
    classes = _classes(result)
    scl = np.repeat(np.repeat(open_band(item, "SCL").values, 2, 0), 2, 1)
    flags = decode_scl(scl[:classes.shape[0], :classes.shape[1]])
    masked = flags["cloud"] | flags["cirrus"] | flags["cloud_shadow"] | flags["snow"]
    assert masked.mean() > 0.2
    assert (classes[masked] == 10).all() and not (classes[~masked] == 10).any()


def _collection_scores(home: Path, collection: str) -> dict[str, float]:
    from terralab.demo import landsat
    from terralab.demo.grid import block_mode

    matrix = np.zeros((11, 11), dtype="int64")
    for item_id in item_ids()[collection]:
        predicted = _classes(run_tool("land_cover", user="alice", home=home, save=False,
                                      image=item_id))
        truth = scene_landcover(item_id, size=256, seed=42)
        if collection == "landsat-c2-l2":
            truth = block_mode(truth, landsat.FACTOR)
        matrix += confusion(merge(truth), predicted)
    return summary(matrix)


def test_demo_quality_floors(demo_home):
    # honest floors under what was measured (all seasons and clouds, merged classes):
    # Landsat OA 0.47, S2 OA 0.44; grass is mapped as cropland (one date cannot tell)
    landsat = _collection_scores(demo_home, "landsat-c2-l2")
    assert landsat["overall accuracy"] >= 0.43
    assert landsat["IoU water"] >= 0.95 and landsat["IoU forest"] >= 0.9
    assert landsat["IoU building"] >= 0.85 and landsat["IoU bare"] >= 0.4
    sentinel = _collection_scores(demo_home, "sentinel-2-l2a")
    assert sentinel["overall accuracy"] >= 0.4
    assert sentinel["IoU water"] >= 0.85 and sentinel["IoU forest"] >= 0.8
    assert sentinel["IoU building"] >= 0.35 and sentinel["IoU bare"] >= 0.6
    clear = _classes(run_tool("land_cover", user="alice", home=demo_home, save=False,
                              image=LANDSAT_CLEAR))
    from terralab.demo import landsat as demo_landsat
    from terralab.demo.grid import block_mode

    truth = merge(block_mode(scene_landcover(LANDSAT_CLEAR, size=256, seed=42),
                             demo_landsat.FACTOR))
    assert summary(confusion(truth, clear))["overall accuracy"] >= 0.72  # measured 0.77


def test_real_sentinel2_l1c_chip_runs_and_finds_the_flood(real_data, tmp_path):
    chip = real_data / "sen1floods11" / "Spain_7370579_S2Hand.tif"
    result = run_tool("land_cover", user="alice", home=tmp_path, image=str(chip))
    with rasterio.open(result.path) as out, rasterio.open(chip) as src:
        assert out.crs == src.crs and out.transform.almost_equals(src.transform)
        assert out.shape == src.shape
        classes = out.read(1)
    assert result.extra["bands"] == ["blue", "green", "red", "nir", "swir16", "swir22"]
    assert result.extra["scale"] == pytest.approx(1e-4) and "10000" in result.extra["scale_note"]
    assert 0.1 < (classes == 9).mean() < 0.5  # a flood scene: measured 0.23


def test_plain_files_by_band_names_order_or_band_map(real_data, tmp_path):
    naip = sorted((real_data / "naip").glob("*.tif"))[-1]
    rgbn = run_tool("land_cover", user="alice", home=tmp_path, save=False, image=str(naip))
    assert "red, green, blue, nir" in rgbn.extra["band_order"]
    assert rgbn.extra["scale"] == pytest.approx(1 / 255)
    shares = np.bincount(_classes(rgbn).ravel(), minlength=11) / _classes(rgbn).size
    assert shares[9] > 0.1 and shares[1] + shares[3] > 0.3  # ponds and fields
    mapped = run_tool("land_cover", user="alice", home=tmp_path, save=False, image=str(naip),
                      band_map={"red": 1, "green": 2, "blue": 3, "nir": 4})
    assert np.array_equal(_classes(mapped), _classes(rgbn)) and "band_order" not in mapped.extra
    rgb = run_tool("land_cover", user="alice", home=tmp_path, save=False,
                   image=str(real_data / "aerial_0p1m" / "OSBS_029.tif"))
    assert "red, green, blue" in rgb.extra["band_order"] and rgb.extra["bands"] == [
        "blue", "green", "red"]
    assert "warning" not in rgb.extra
    with rasterio.open(naip) as src:
        profile, pixels = src.profile, src.read()
    profile.update(count=2, photometric="MINISBLACK")
    two = tmp_path / "two.tif"
    with rasterio.open(two, "w", **profile) as dst:
        dst.write(pixels[:2])
    with pytest.raises(InputError, match="band_map"):
        run_tool("land_cover", user="alice", home=tmp_path, save=False, image=str(two))


def test_a_dataarray_and_chunks_of_128_give_the_same_classes(demo_home):
    cloudy = "S2B_MSIL2A_20240805T023551_R089_T51RTP_20240805T061010"
    one = run_tool("land_cover", user="alice", home=demo_home, save=False, image=cloudy)
    tiles = run_tool("land_cover", user="alice", home=demo_home, save=False, image=cloudy,
                     chunk=128)
    assert tiles.data.data.chunksize[-1] == 128
    assert np.array_equal(_classes(one), _classes(tiles))
    aerial = run_tool("land_cover", user="alice", home=demo_home, save=False,
                      image="deqing-aerial-20240510")
    from terralab.tools.inputs import open_raster

    image = open_raster("deqing-aerial-20240510", user="alice", home=demo_home)
    lazy = run_tool("land_cover", user="alice", home=demo_home, save=False, image=image)
    assert np.array_equal(_classes(aerial), _classes(lazy))


def test_model_method_without_a_model_and_bad_parameters(tmp_path, real_data):
    from terralab.ai.models import ModelNotInstalled

    chip = str(real_data / "sen1floods11" / "Spain_7370579_S2Hand.tif")
    with pytest.raises(ModelNotInstalled, match="no model installed for land_cover"):
        run_tool("land_cover", user="alice", home=tmp_path, image=chip, method="model")
    with pytest.raises(ToolParameterError, match="method"):
        run_tool("land_cover", user="alice", home=tmp_path, image=chip, method="deep")
    with pytest.raises(ToolParameterError, match="image"):
        run_tool("land_cover", user="alice", home=tmp_path)


def test_cli_runs_the_baseline_on_a_catalog_item(env):
    from terralab.cli import cli

    ran = CliRunner().invoke(cli, ["run", "land_cover", "-p", f"image={LANDSAT_CLEAR}",
                                   "--json"])
    assert ran.exit_code == 0, ran.output
    answer = json.loads(ran.output[ran.output.index("{"):])
    assert answer["extra"]["baseline"] is True and answer["result"]["kind"] == "result"


def test_queued_jobs_on_a_demo_item_and_a_file_in_the_users_folder(env, real_data):
    from terralab.queue import store
    from terralab.queue.worker import Worker

    home = env
    chip = real_data / "sen1floods11" / "Spain_7370579_S2Hand.tif"
    shutil.copy(chip, home / "users" / "alice" / chip.name)
    sentinel = item_ids()["sentinel-2-l2a"][1]
    demo = store.submit("alice", "land_cover", {"image": sentinel}, home=home)
    upload = store.submit("alice", "land_cover", {"image": chip.name}, home=home)
    Worker(home=home, hard_cancel=False).run(until_idle=True)
    for job in (demo, upload):
        done = store.get_job(job.id, owner="alice", home=home)
        assert done.status == "succeeded", done.log
        assert len(done.results) == 1


def test_model_method_runs_an_installed_model(tmp_path, real_data):
    pytest.importorskip("torch")
    pytest.importorskip("segmentation_models_pytorch")
    from terralab.ai.models import import_model
    from terralab.landcover import CLASSES
    from tests.kernels_lib.untrained_models import write_model

    home = tmp_path / "home"
    (home / "users" / "alice").mkdir(parents=True)
    import_model(write_model(tmp_path / "model", tool="land_cover",
                             bands=("red", "green", "blue", "nir"),
                             classes=tuple(c.name for c in CLASSES)), home=home)
    naip = sorted((real_data / "naip").glob("*.tif"))[-1]
    result = run_tool("land_cover", user="alice", home=home, image=str(naip), method="model")
    assert result.extra["method"] == "model" and result.extra["baseline"] is False
    assert result.extra["model"] == "land_cover 0.1.0"
    with rasterio.open(result.path) as out, rasterio.open(naip) as src:
        assert out.transform.almost_equals(src.transform) and out.count == 2
        assert set(np.unique(out.read(1))) <= set(range(11))
