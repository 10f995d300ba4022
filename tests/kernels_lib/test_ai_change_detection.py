"""General change detection (IR-MAD / CVA): demo and real pairs, errors, tiles, CLI, queue.

LEVIR-CD PNGs are not georeferenced: they are put on a made-up grid (EPSG:32650, 0.5 m
pixels) by :func:`terralab.ai.datasets.local_grid`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dask.array as da
import geopandas as gpd
import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from scipy.stats import chi2

from terralab.ai.chunk_stats import chunk_histogram
from terralab.ai.datasets import levir_pairs, local_grid
from terralab.ai.irmad import calibrate, irmad_fit
from terralab.ai.metrics import change_scores
from terralab.tools.inputs import InputError
from terralab.tools.runner import ToolParameterError, run_tool

BEFORE, AFTER = "deqing-aerial-20240510", "deqing-aerial-20250512"


@pytest.fixture(scope="module")
def home(demo_copy: Path) -> Path:
    return demo_copy



def _demo_file(home: Path, item: str, name: str) -> Path:
    from terralab.tools.inputs import resolve_raster

    image = resolve_raster(item, user="alice", home=home).path
    assert image is not None
    return image.parent / name


def _f1(mask: np.ndarray, truth: np.ndarray) -> float:
    found = mask == 1
    counts = (found & truth).sum(), (found & ~truth).sum(), (~found & truth).sum()
    return change_scores(*counts)["f1"]


def _mixed_pair(seed: int, size: int = 192) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Textured 3-band dates; the later one seen by a sensor that mixes the bands."""
    rng = np.random.default_rng(seed)
    base = np.stack([np.cumsum(np.cumsum(rng.normal(size=(size, size)), 0), 1)
                     for _ in range(3)])
    base = (base - base.mean((1, 2), keepdims=True)) / base.std((1, 2), keepdims=True) * 20 + 100
    mix = np.array([[1.5, 0.4, 0.0], [0.2, 0.7, 0.3], [0.0, 0.5, 1.1]])
    after = np.einsum("ij,jkl->ikl", mix, base) + np.array([-40, 30, 5])[:, None, None]
    after += rng.normal(0, 1.0, size=base.shape)
    truth = np.zeros((size, size), dtype=bool)
    truth[40:80, 100:150] = True
    after[:, truth] = mix @ (100 + 25 * rng.normal(size=(3, int(truth.sum()))))
    return base.astype("float32"), after.astype("float32"), truth


def test_demo_pair_in_process_is_saved_georeferenced_with_polygons(env):
    home = env
    result = run_tool("change_detection", user="alice", home=home, before=BEFORE, after=AFTER)
    truth_path = _demo_file(home, AFTER, "change.tif")
    with rasterio.open(result.path) as out, rasterio.open(truth_path) as truth_file:
        assert out.crs == truth_file.crs and out.transform.almost_equals(truth_file.transform)
        assert (out.count, out.dtypes[0], out.nodata) == (1, "uint8", 255)
        mask, truth = out.read(1), truth_file.read(1) > 0
    assert set(np.unique(mask)) <= {0, 1, 255}
    assert _f1(mask, truth) >= 0.85  # measured 0.89 (IR-MAD, Otsu on √Z)
    extra = result.extra
    rho = extra["canonical_correlations"]
    assert len(rho) == 4 and rho == sorted(rho) and rho[0] >= 0 and rho[-1] <= 1
    assert extra["changed_share"] == pytest.approx((mask == 1).mean(), abs=1e-6)
    assert extra["method"] == "irmad" and extra["threshold_method"] == "otsu"
    assert "warning" not in extra  # 0.5 m is inside 0.5–2 m
    [_, polygons] = result.records
    frame = gpd.read_file(polygons.item["assets"]["data"]["href"])
    assert frame.crs.to_epsg() == 32651 and set(frame["class"]) == {"change"}
    assert frame["area_m2"].min() >= 10.0


def test_irmad_sees_through_a_band_mixing_sensor_where_cva_does_not(tmp_path):
    for seed in range(2):
        before, after, truth = _mixed_pair(seed)
        ious = {}
        for method in ("irmad", "cva"):
            result = run_tool("change_detection", user="alice", home=tmp_path, save=False,
                              before=local_grid(before, name="before"),
                              after=local_grid(after, name="after"), method=method)
            found = result.data.values[0] == 1
            ious[method] = (found & truth).sum() / (found | truth).sum()
        assert ious["irmad"] >= 0.8 and ious["irmad"] > ious["cva"] + 0.2, ious


def test_unchanged_images_give_no_change_with_irmad(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 255, (3, 64, 64)).astype("uint8")
    result = run_tool("change_detection", user="alice", home=tmp_path, save=False,
                      before=local_grid(pixels, name="one"),
                      after=local_grid(pixels.copy(), name="two"))
    assert result.extra["changed_share"] == 0 and "raised" in result.extra["threshold_note"]


def test_chi_square_test_is_calibrated_on_unchanged_data(tmp_path):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 200, 200))
    y = np.einsum("ij,jkl->ikl", rng.normal(size=(3, 3)), x) + 0.5 * rng.normal(size=x.shape)
    stack = da.from_array(np.concatenate([x, y]).astype("float32"), chunks=(6, 64, 64))
    fit = irmad_fit(stack, iterations=10)
    raw = fit.chi2(np.asarray(stack))
    assert (raw > chi2.ppf(0.99, 3)).mean() > 0.1  # Nielsen's weighted variances: too tight
    result = run_tool("change_detection", user="alice", home=tmp_path, save=False,
                      before=local_grid(x.astype("float32"), name="x"),
                      after=local_grid(y.astype("float32"), name="y"), threshold="chi2",
                      significance=0.01)
    assert result.extra["changed_share"] == pytest.approx(0.01, abs=0.004)
    calibrated = calibrate(stack, fit)
    assert np.all(calibrated.variance > fit.variance)


def test_levir_quality_floors_and_the_made_up_grid(real_data, tmp_path):
    pairs = levir_pairs(real_data / "levir_cd")
    assert len(pairs) >= 5
    counts = {"irmad": np.zeros(3), "cva": np.zeros(3)}
    for _, before, after, truth in pairs:
        for method in counts:
            result = run_tool("change_detection", user="alice", home=tmp_path, save=False,
                              before=before, after=after, method=method)
            data = result.data
            assert data.rio.crs == before.rio.crs
            assert data.rio.transform().almost_equals(before.rio.transform())
            found = data.values[0] == 1
            counts[method] += [(found & truth).sum(), (found & ~truth).sum(),
                               (~found & truth).sum()]
    # honest floors (measured F1: CVA 0.31, IR-MAD 0.065; flagging everything scores 0.32):
    # LEVIR labels building changes only, the tool flags every change, and these small
    # tiles changed almost everywhere, which IR-MAD's no-change model does not expect
    assert change_scores(*counts["cva"])["f1"] >= 0.28
    assert change_scores(*counts["cva"])["precision"] >= 0.22  # above the 0.19 base rate
    assert change_scores(*counts["irmad"])["f1"] >= 0.05


def test_real_unlabelled_pairs_stay_on_their_grid(real_data, tmp_path):
    files = sorted((real_data / "landsat_pucallpa").glob("*.tif"))
    result = run_tool("change_detection", user="alice", home=tmp_path, before=str(files[0]),
                      after=str(files[1]), polygons=False)
    with rasterio.open(result.path) as out, rasterio.open(files[0]) as src:
        assert out.crs == src.crs and out.transform.almost_equals(src.transform)
        assert out.shape == src.shape
    assert 0.005 < result.extra["changed_share"] < 0.3
    assert "0.5–2 m" in result.extra["warning"]
    naip = sorted((real_data / "naip").glob("*.tif"))
    lazy = run_tool("change_detection", user="alice", home=tmp_path, save=False,
                    before=str(naip[-2]), after=str(naip[-1]), align="reproject",
                    method="cva", polygons=False)
    with rasterio.open(naip[-2]) as src:
        assert lazy.data.shape[1:] == src.shape
    assert "reprojected" in lazy.extra["aligned"]
    assert 0.01 < lazy.extra["changed_share"] < 0.5


@pytest.mark.parametrize("options", [{}, {"smoothing": 2}, {"method": "cva", "smoothing": 1}])
def test_chunks_of_128_give_the_same_mask_as_one_chunk(demo_home, options):
    masks = [run_tool("change_detection", user="alice", home=demo_home, save=False,
                      before=BEFORE, after=AFTER, chunk=chunk, **options).data
             for chunk in (128, 1024)]
    assert masks[0].data.chunksize[-1] == 128 and masks[1].data.chunksize[-1] == 256
    assert np.array_equal(masks[0].values, masks[1].values)


def test_statistics_are_summed_chunk_by_chunk_in_bounded_memory(peak_memory):
    size, chunk = 4096, 256
    base = da.random.RandomState(1).normal(size=(3, size, size), chunks=(3, chunk, chunk))
    stack = da.concatenate([base, 0.5 * base + 3]).astype("float32")  # 400 MB if held whole
    with peak_memory() as peak:
        fit = irmad_fit(stack, iterations=1)  # one pass of covariance sums, as every iteration
        histogram = chunk_histogram(stack[:1])
    assert fit.count == size * size and histogram.total == size * size
    assert peak.traced < 100e6, f"peak {peak.traced_mb:.0f} MB"  # ~35 MB, whatever the size


def test_wrong_inputs_get_clear_messages(real_data, tmp_path, home):
    naip = sorted((real_data / "naip").glob("*.tif"))
    kwargs = {"user": "alice", "home": home, "save": False}
    with pytest.raises(ToolParameterError, match=r"compares two dates.*only before"):
        run_tool("change_detection", before=BEFORE, **kwargs)
    with pytest.raises(ToolParameterError, match=r"compares two dates.*only after"):
        run_tool("change_detection", after=AFTER, **kwargs)
    with pytest.raises(ToolParameterError, match=r"compares two dates.*image="):
        run_tool("change_detection", image=BEFORE, **kwargs)
    with pytest.raises(ToolParameterError, match="same image"):
        run_tool("change_detection", before=BEFORE, after=BEFORE, **kwargs)
    with pytest.raises(ToolParameterError, match="chi2"):
        run_tool("change_detection", before=BEFORE, after=AFTER, method="cva",
                 threshold="chi2", **kwargs)
    with pytest.raises(InputError, match=r'not on one grid.*align="reproject"'):
        run_tool("change_detection", before=str(naip[0]), after=str(naip[1]), **kwargs)
    with rasterio.open(naip[0]) as src:
        profile, pixels = src.profile, src.read()
    profile.update(count=3, photometric="MINISBLACK")  # 4 bands: no alpha band either
    rgb = tmp_path / "rgb.tif"
    with rasterio.open(rgb, "w", **profile) as dst:
        dst.write(pixels[:3])
    with pytest.raises(InputError, match=r"different bands.*4.*3"):
        run_tool("change_detection", before=str(naip[0]), after=str(rgb), **kwargs)
    empty = tmp_path / "empty.tif"
    with rasterio.open(empty, "w", **{**profile, "count": 4}) as dst:
        dst.write(np.zeros_like(pixels))
    with pytest.raises(InputError, match="no pixel has valid data"):
        run_tool("change_detection", before=str(naip[0]), after=str(empty), **kwargs)


def test_cli_runs_change_detection_and_explains_a_missing_date(env, real_data):
    from terralab.cli import cli

    files = sorted((real_data / "landsat_pucallpa").glob("*.tif"))
    runner = CliRunner()
    ran = runner.invoke(cli, ["run", "change_detection", "-p", f"before={files[-2]}",
                              "-p", f"after={files[-1]}", "-p", "method=cva", "--json"])
    assert ran.exit_code == 0, ran.output
    answer = json.loads(ran.output[ran.output.index("{"):])
    assert answer["extra"]["method"] == "cva" and 0 < answer["extra"]["changed_share"] < 0.3
    one = runner.invoke(cli, ["run", "change_detection", "-p", f"before={files[0]}"])
    assert one.exit_code == 2 and "compares two dates" in one.output


def test_queued_jobs_on_demo_items_and_on_files_in_the_users_folder(env, real_data):
    from terralab.queue import store
    from terralab.queue.errors import JobError
    from terralab.queue.worker import Worker

    home = env
    naip = sorted((real_data / "naip").glob("*.tif"))
    for path in naip[-2:]:
        shutil.copy(path, home / "users" / "alice" / path.name)
    demo = store.submit("alice", "change_detection", {"before": BEFORE, "after": AFTER},
                        home=home)
    files = store.submit("alice", "change_detection",
                         {"before": naip[-2].name, "after": naip[-1].name,
                          "align": "reproject", "method": "cva"}, home=home)
    outside = store.submit("alice", "change_detection",
                           {"before": str(naip[0]), "after": str(naip[1])}, home=home)
    with pytest.raises(JobError, match="compares two dates"):
        store.submit("alice", "change_detection", {"before": BEFORE}, home=home)
    Worker(home=home, hard_cancel=False).run(until_idle=True)
    done = store.get_job(demo.id, owner="alice", home=home)
    assert done.status == "succeeded", done.log
    assert len(done.results) == 2  # the mask and its polygons
    assert store.get_job(files.id, owner="alice", home=home).status == "succeeded"
    refused = store.get_job(outside.id, owner="alice", home=home)
    assert refused.status == "failed" and "outside your folder" in refused.log
