"""terralab.compute without a hub: a LocalCluster per kernel, tools give the same pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from terralab import compute
from terralab.tools.runner import run_tool


def write_image(path: Path, size: int = 1100, seed: int = 7) -> Path:
    """A 4-band uint16 GeoTIFF (red, green, blue, nir) with some zeros (no-data ratios)."""
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 4000, size=(4, size, size), dtype="uint16")
    data[:, :20, :20] = 0
    with rasterio.open(path, "w", driver="GTiff", width=size, height=size, count=4,
                       dtype="uint16", crs="EPSG:32650", tiled=True, blockxsize=256,
                       blockysize=256,
                       transform=Affine(10, 0, 500000, 0, -10, 3300000)) as dst:
        dst.write(data)
    return path


def ndvi_pixels(home: Path, image: Path) -> np.ndarray:
    """Run the index tool (saved as a result in my data) and read the written file."""
    result = run_tool("index", user="alice", home=home, image=str(image), index="ndvi",
                      band_map={"nir": 4, "red": 1})
    with rasterio.open(result.path) as src:
        return src.read(1)


@pytest.fixture(scope="module")
def local_client():
    compute.shutdown()
    client = compute.client(gateway=False, n_workers=2, threads_per_worker=1)
    yield client
    compute.shutdown()


def test_sizing_follows_the_machine():
    options = compute.local_cluster_options()
    assert options["processes"] is True and options["host"] == "127.0.0.1"
    assert options["n_workers"] * options["threads_per_worker"] >= 1


def test_client_is_reused_and_is_the_default_scheduler(local_client):
    import dask
    import dask.array as da

    assert compute.client() is local_client
    assert dask.base.get_scheduler() == local_client.get
    assert len(local_client.scheduler_info()["workers"]) == 2
    assert float(da.ones((100, 100), chunks=25).sum().compute()) == 10000.0


def scheduler_transitions(client) -> int:
    return client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)


def test_a_tool_gives_the_same_pixels_on_the_cluster(local_client, tmp_path):
    import dask

    image = write_image(tmp_path / "field.tif")
    before = scheduler_transitions(local_client)
    on_cluster = ndvi_pixels(tmp_path / "home-a", image)
    ran = scheduler_transitions(local_client) - before
    assert ran > 10  # the tasks (reads, index, windowed writes) ran on the cluster
    with dask.config.set(scheduler="threads"):
        threaded = ndvi_pixels(tmp_path / "home-b", image)
    assert scheduler_transitions(local_client) - before == ran  # and these did not
    assert on_cluster.shape == (1100, 1100)  # 4 chunks: windows written by both workers
    assert np.isnan(on_cluster[:20, :20]).all()
    assert np.array_equal(np.isnan(on_cluster), np.isnan(threaded))
    assert np.array_equal(on_cluster[np.isfinite(on_cluster)], threaded[np.isfinite(threaded)])


def test_shutdown_and_session():
    compute.shutdown()
    with compute.session(gateway=False, n_workers=1, threads_per_worker=1) as client:
        assert client.status == "running"
    assert client.status == "closed"
    compute.shutdown()  # nothing running: no error


def test_gateway_needs_an_address(monkeypatch):
    import dask

    with dask.config.set({"gateway.address": None}):
        assert compute.gateway_address() is None
        with pytest.raises(ValueError, match="DASK_GATEWAY__ADDRESS"):
            compute.client(gateway=True)
