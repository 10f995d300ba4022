"""The inference engine: no seams between chunks or windows, memory bounded by the chunk."""

from __future__ import annotations

from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import rasterio
import rioxarray  # noqa: F401 (the .rio accessor)
import xarray as xr
from rasterio.transform import from_origin
from scipy.ndimage import uniform_filter

from terralab.ai.engine import blend_weights, predict, sliding_window, tiled
from terralab.ai.thresholds import kittler_illingworth, otsu, threshold
from terralab.tools.base import ToolOutput
from terralab.tools.outputs import write_output


def _raster(array, res: float = 10.0) -> xr.DataArray:
    bands, height, width = array.shape
    data = xr.DataArray(array, dims=("band", "y", "x"),
                        coords={"band": np.arange(1, bands + 1),
                                "y": 4_000_000 - res * (np.arange(height) + 0.5),
                                "x": 500_000 + res * (np.arange(width) + 0.5)})
    return data.rio.write_crs("EPSG:32650").rio.write_transform(
        from_origin(500_000, 4_000_000, res, res))


def _box(block: np.ndarray) -> np.ndarray:
    return np.stack([uniform_filter(band, size=9, mode="reflect") for band in block])


def test_tiled_filter_equals_the_whole_image_away_from_borders():
    rng = np.random.default_rng(1)
    image = rng.normal(size=(2, 700, 900)).astype("float32")
    whole = _box(image)
    chunked = tiled(_raster(image), _box, depth=4, chunk=128).values
    inner = (slice(None), slice(4, -4), slice(4, -4))
    assert np.array_equal(chunked[inner], whole[inner])
    lazy = tiled(_raster(image), _box, depth=4, chunk=128)
    assert lazy.rio.crs == "EPSG:32650" and lazy.rio.transform() == _raster(image).rio.transform()


def test_tiled_without_halo_shows_seams_so_the_test_above_can_fail():
    rng = np.random.default_rng(1)
    image = rng.normal(size=(1, 300, 300)).astype("float32")
    whole = _box(image)
    chunked = tiled(_raster(image), _box, depth=0, chunk=128).values
    assert not np.allclose(chunked[:, 4:-4, 4:-4], whole[:, 4:-4, 4:-4])


def test_blend_weights_fall_smoothly_to_the_edges():
    weights = blend_weights(64, 16)
    assert weights.shape == (64, 64) and weights.min() > 0 and weights.max() == 1
    assert weights[32, 32] == 1 and weights[0, 32] < 0.05


def _conv_model():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    network = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(8, 8, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(8, 2, 3, padding=1)).eval()

    def run(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return torch.softmax(network(torch.from_numpy(batch)), 1).numpy()

    return run


def test_predict_has_no_seams_between_chunks_or_windows():
    rng = np.random.default_rng(2)
    image = rng.normal(size=(3, 300, 380)).astype("float32")
    model = _conv_model()
    whole = sliding_window(image, model, window=64, overlap=16, outputs=2)
    chunked = predict(_raster(image), model, outputs=2, window=64, overlap=16, chunk=96,
                      batch_size=4).values
    difference = np.abs(chunked - whole)[:, 8:-8, 8:-8]
    assert difference.max() < 1e-2
    # nothing special along the chunk edges (rows 96, 192 …): no seams
    edges = difference[:, [96 - 8 - 1, 96 - 8, 192 - 8 - 1, 192 - 8], :]
    assert edges.mean() <= 3 * max(difference.mean(), 1e-7)
    one_window = model(image[None, :, :64, :64])[0]
    assert np.allclose(sliding_window(image[:, :64, :64], model, window=64, overlap=16,
                                      outputs=2), one_window, atol=1e-6)


def test_thresholds_split_a_bimodal_histogram():
    rng = np.random.default_rng(3)
    water = rng.normal(-20, 1.5, 20_000)
    land = rng.normal(-8, 2.0, 200_000)
    values = np.concatenate([water, land]).astype("float32")
    for method in ("otsu", "ki"):
        cut = threshold(da.from_array(values, chunks=10_000), method=method)
        assert -17 < cut < -11, (method, cut)
    counts, edges = np.histogram(values, bins=512)
    assert -17 < kittler_illingworth(counts, edges) < -11 and -17 < otsu(counts, edges) < -11


def _peak_growth(side: int, folder: Path, peak_memory) -> tuple[float, Path]:
    """Write a smoothed-and-classified ``side``² two-band float32 input; peak RSS growth (MiB)."""
    pattern = da.arange(side, dtype="float32", chunks=1024)
    wave = da.sin(pattern[:, None] / 97.0) * da.cos(pattern[None, :] / 53.0)
    data = _raster(da.stack([wave, -wave]))  # 2 bands: 3.2 GB at 20k² if ever held at once

    def smooth_and_classify(block: np.ndarray) -> np.ndarray:
        return (uniform_filter(block[0], size=7) > 0).astype("uint8")[None]

    result = tiled(data, smooth_and_classify, depth=3, bands=1, dtype="uint8", chunk=1024)
    with peak_memory(traced=False) as peak:
        path = write_output(ToolOutput(raster=result, name="mask"), folder)
    return peak.rss_growth_mib, path


def test_a_20k_by_20k_input_runs_with_memory_bounded_by_the_chunk(tmp_path: Path, peak_memory):
    small, _ = _peak_growth(5_000, tmp_path / "small", peak_memory)
    large, path = _peak_growth(20_000, tmp_path / "large", peak_memory)
    with rasterio.open(path) as written:
        assert (written.width, written.height) == (20_000, 20_000)
        corner = written.read(1, window=((0, 8), (0, 8)))
    assert corner.all()  # sin·cos > 0 near the origin
    # 16 times the pixels, the same memory: bounded by the chunk, not the image
    assert large < 512, f"peak RSS grew by {large:.0f} MiB for a 3.2 GB input"
    assert large < small + 128, f"{small:.0f} MiB at 5k², {large:.0f} MiB at 20k²"
