"""The CUDA path of the deep tools: device pick, mixed precision, models kept warm on the GPU.

These run where torch sees a GPU (a shared GPU worker, a kernel on a GPU machine) and skip
elsewhere, CI included; the CPU path of the same code is tested in test_ai_models.py.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

# Without an NVIDIA device node there is no CUDA: skip before importing torch (seconds of
# every test run's collection).
if not Path("/dev/nvidiactl").exists():
    pytest.skip("no CUDA device here (the CPU path is tested elsewhere)", allow_module_level=True)

import numpy as np
import rasterio
import xarray as xr
from rasterio.transform import from_origin

from terralab.ai.deep import torch_predictor
from terralab.ai.engine import predict
from terralab.ai.model_cache import ModelCache, pick_device
from terralab.ai.models import import_model
from terralab.tools.runner import run_tool

torch = pytest.importorskip("torch")
smp = pytest.importorskip("segmentation_models_pytorch")

from tests.kernels_lib.untrained_models import ARCH, write_model  # noqa: E402  (needs torch)

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="no CUDA device here (the CPU path is tested elsewhere)")


def _network() -> torch.nn.Module:
    torch.manual_seed(0)
    spec = {k: v for k, v in ARCH.items() if k != "name"}
    return smp.Unet(encoder_weights=None, in_channels=3, classes=2, **spec).eval()


def test_workers_pick_the_gpu_and_keep_models_warm_there():
    assert pick_device() == "cuda"
    cache = ModelCache()
    assert cache.device == "cuda"
    network = cache.get("building_extraction", "0.1.0", lambda device: _network().to(device))
    assert next(network.parameters()).is_cuda
    again = cache.get("building_extraction", "0.1.0", lambda device: pytest.fail("reloaded"))
    assert again is network and cache.loads == 1


def test_mixed_precision_windows_on_the_gpu_match_the_cpu():
    rng = np.random.default_rng(7)
    image = xr.DataArray(rng.random((3, 700, 900), dtype=np.float32), dims=("band", "y", "x"))
    image = image.chunk({"band": -1, "y": 512, "x": 512})
    network = _network()
    on_cpu = predict(image, torch_predictor(network, "cpu"), outputs=2, window=256,
                     overlap=32).compute().values
    on_gpu = predict(image, torch_predictor(copy.deepcopy(network).to("cuda"), "cuda"),
                     outputs=2, window=256, overlap=32).compute().values
    assert on_gpu.shape == on_cpu.shape == (2, 700, 900)
    assert np.allclose(on_gpu.sum(axis=0), 1.0, atol=1e-3)
    difference = np.abs(on_gpu - on_cpu)
    print(f"GPU (autocast) vs CPU: max |Δp| {difference.max():.2e}, "
          f"mean {difference.mean():.2e}")
    assert difference.max() < 2e-2


def test_a_deep_tool_run_in_a_kernel_uses_the_gpu(tmp_path: Path, monkeypatch):
    home = tmp_path / "home"
    (home / "users" / "alice").mkdir(parents=True)
    monkeypatch.setenv("TERRALAB_HOME", str(home))
    import_model(write_model(tmp_path / "model"), home=home)
    image = home / "users" / "alice" / "scene.tif"
    rng = np.random.default_rng(3)
    with rasterio.open(image, "w", driver="GTiff", width=600, height=500, count=3,
                       dtype="uint8", crs="EPSG:32651",
                       transform=from_origin(220_000, 3_400_000, 0.5, 0.5)) as out:
        out.write(rng.integers(0, 255, (3, 500, 600), dtype=np.uint8))
    used: list[str] = []
    real = torch_predictor

    def spy(network, device):
        used.append(device)
        return real(network, device)

    monkeypatch.setattr("terralab.ai.deep.torch_predictor", spy)
    gpu = run_tool("building_extraction", user="alice", home=home, image=str(image),
                   polygons=False)
    cpu = run_tool("building_extraction", user="alice", home=home, image=str(image),
                   polygons=False, context={"device": "cpu"})
    assert used == ["cuda", "cpu"]
    with rasterio.open(gpu.path) as a, rasterio.open(cpu.path) as b:
        agree = (a.read(1) == b.read(1)).mean()
        confidence = np.abs(a.read(2).astype(int) - b.read(2).astype(int)).max()
    print(f"class agreement GPU vs CPU {agree:.4f}, confidence Δ ≤ {confidence} %")
    assert agree > 0.99 and confidence <= 2
