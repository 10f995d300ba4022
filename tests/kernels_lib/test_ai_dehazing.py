"""Dehazing: real clear images with added haze get closer to the clear image; data type,
bands, nodata and grid kept; tiles equal the whole image; wrong inputs refused; the CLI and
queued-job transports."""

from __future__ import annotations

from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import rasterio
import rioxarray
from click.testing import CliRunner
from rasterio.transform import from_origin
from rasterio.windows import Window

from terralab.ai.datasets import add_haze
from terralab.ai.metrics import psnr, ssim
from terralab.ai.tools.dehazing import atmospheric_light, dark_channel
from terralab.tools.inputs import InputError
from terralab.tools.runner import ToolParameterError, run_tool

NAIP = Path("naip") / "m_4709963_se_14_1_20200831.tif"
LANDSAT = Path("landsat7_rgb") / "RGB.byte.tif"
AERIAL = Path("aerial_0p1m") / "OSBS_029.tif"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    (folder / "users" / "alice").mkdir(parents=True)
    monkeypatch.setenv("TERRALAB_HOME", str(folder))
    monkeypatch.setenv("TERRALAB_USER", "alice")
    monkeypatch.setenv("TERRALAB_LOCAL_WORKER", "0")
    return folder


def _hazy(clear_path: Path, target: Path, dtype: str = "uint8", side: int | None = None
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Write a hazy copy of a clear image (its top-left ``side``² pixels when given);
    returns (clear, hazy, valid) as written."""
    with rasterio.open(clear_path) as src:
        window = Window(0, 0, side, side) if side else None
        clear, profile = src.read(window=window), src.profile
        if window is not None:
            profile.update(width=side, height=side, transform=src.window_transform(window))
    hazy, valid = add_haze(clear, profile.get("nodata"))
    if dtype == "uint16":
        clear, hazy = clear.astype("uint16") * 257, hazy.astype("uint16") * 257
        profile.update(dtype="uint16")
    with rasterio.open(target, "w", **profile) as dst:
        dst.write(hazy)
    return clear, hazy, valid


def _same_grid(out: rasterio.DatasetReader, path: Path) -> bool:
    with rasterio.open(path) as src:
        return (out.crs == src.crs and (out.width, out.height, out.count) ==
                (src.width, src.height, src.count) and out.nodata == src.nodata
                and out.dtypes == src.dtypes and out.transform.almost_equals(src.transform,
                                                                             1e-9))


def test_naip_with_haze_gets_clearer_and_keeps_everything(home: Path, real_data: Path) -> None:
    hazy_path = home / "users" / "alice" / "hazy.tif"
    clear, hazy, valid = _hazy(real_data / NAIP, hazy_path)
    result = run_tool("dehazing", user="alice", home=home, image=str(hazy_path))
    with rasterio.open(result.path) as out:
        assert _same_grid(out, hazy_path)
        dehazed = out.read()
    rgb = slice(0, 3)
    before, after = psnr(hazy[rgb], clear[rgb], valid), psnr(dehazed[rgb], clear[rgb], valid)
    assert after > before + 5, (before, after)  # measured 13.5 → 20.3 dB
    assert ssim(dehazed[rgb], clear[rgb], valid) > ssim(hazy[rgb], clear[rgb], valid) + 0.02
    assert np.array_equal(dehazed[3], hazy[3])  # nir="keep"
    assert "5 m" in result.extra["warning"]  # outside 0.5–2 m: a warning, not an error
    assert len(result.extra["atmospheric_light"]) == 4


def test_sixteen_bit_nodata_and_the_nir_band(home: Path, real_data: Path) -> None:
    hazy_path = home / "hazy16.tif"
    clear, hazy, valid = _hazy(real_data / AERIAL, hazy_path, dtype="uint16")
    result = run_tool("dehazing", user="alice", home=home, image=str(hazy_path), save=False)
    dehazed = result.data.values
    assert dehazed.dtype == np.uint16 and dehazed.max() > 255
    peak = 65535.0
    assert psnr(dehazed, clear, valid, peak) > psnr(hazy, clear, valid, peak) + 5
    # Landsat: nodata 0 around the scene stays nodata, valid pixels never become 0
    landsat_path = home / "hazy-landsat.tif"
    clear, hazy, valid = _hazy(real_data / LANDSAT, landsat_path)
    dehazed = run_tool("dehazing", user="alice", home=home, image=str(landsat_path),
                       save=False).data.values
    assert (~valid).sum() > 1000
    assert (dehazed[:, ~valid] == 0).all() and (dehazed.max(axis=0)[valid] > 0).all()
    assert psnr(dehazed, clear, valid) > psnr(hazy, clear, valid) + 10  # measured 12 → 32.6
    # 4 bands: nir="dehaze" corrects NIR too
    naip_path = home / "hazy-naip.tif"
    clear, hazy, valid = _hazy(real_data / NAIP, naip_path)
    nir = run_tool("dehazing", user="alice", home=home, image=str(naip_path), save=False,
                   nir="dehaze").data.values
    assert not np.array_equal(nir[3], hazy[3]) and nir.dtype == np.uint8


@pytest.mark.parametrize("options", [{}, {"refine": False}, {"patch": 7, "radius": 10}])
def test_tiles_give_what_the_whole_image_gives(home: Path, real_data: Path, options) -> None:
    hazy_path = home / "hazy.tif"
    _hazy(real_data / NAIP, hazy_path, side=448)  # 4 × 4 chunks of 128 with their overlaps
    small = run_tool("dehazing", user="alice", home=home, image=str(hazy_path), save=False,
                     chunk=128, **options)
    whole = run_tool("dehazing", user="alice", home=home, image=str(hazy_path), save=False,
                     chunk=2048, **options)
    assert isinstance(small.data.data, da.Array) and len(small.data.data.chunks[2]) > 3
    assert small.extra["atmospheric_light"] == whole.extra["atmospheric_light"]
    assert np.array_equal(small.data.values, whole.data.values)


def test_atmospheric_light_found_lazily_equals_the_whole_image_computation(
        home: Path, real_data: Path) -> None:
    with rasterio.open(real_data / AERIAL) as src:
        image = src.read()
    result = run_tool("dehazing", user="alice", home=home, save=False, chunk=128,
                      image=str(real_data / AERIAL))
    valid = ~(image == 255).all(axis=0)  # this file's nodata is 255
    dark = dark_channel(image.astype("float32"), 15, valid)
    keep = valid & np.isfinite(dark)
    cut = np.sort(dark[keep])[::-1][int(0.001 * keep.sum())]  # the 0.1 % brightest ...
    chosen = keep & (dark >= cut)  # ... with their ties
    expected = image[:, chosen].mean(axis=1)
    assert np.allclose(result.extra["atmospheric_light"], expected, atol=0.01)
    stats = np.zeros((2, 4))
    stats[0] = [0, 0, 10, 0]
    stats[1] = [0, 0, 50, 0]
    assert atmospheric_light(stats, 0.001)[0] == 5.0
    with pytest.raises(ValueError, match="no valid pixel"):
        atmospheric_light(np.zeros((2, 4)), 0.001)


def _write(path: Path, array: np.ndarray) -> Path:
    bands, height, width = array.shape
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=bands,
                       dtype=array.dtype, crs="EPSG:32650",
                       transform=from_origin(500_000, 4_000_000, 1, 1)) as dst:
        dst.write(array)
    return path


def test_wrong_inputs_are_refused_clearly(home: Path, real_data: Path, tmp_path: Path) -> None:
    sar = real_data / "sen1floods11" / "Spain_7370579_S1Hand.tif"
    with pytest.raises(InputError, match=r"takes 3 or 4 bands.*has 2"):
        run_tool("dehazing", user="alice", home=home, image=str(sar), save=False)
    floats = _write(tmp_path / "f.tif", np.random.default_rng(0).random((3, 32, 32),
                                                                         dtype="float32"))
    with pytest.raises(InputError, match="8- or 16-bit"):
        run_tool("dehazing", user="alice", home=home, image=str(floats), save=False)
    with pytest.raises(ToolParameterError, match="omega"):
        run_tool("dehazing", user="alice", home=home, image=str(floats), omega=2)
    with pytest.raises(InputError, match="no item or file"):
        run_tool("dehazing", user="alice", home=home, image="nope.tif")
    blank = _write(tmp_path / "blank.tif", np.zeros((3, 32, 32), dtype="uint8"))
    with rasterio.open(blank, "r+") as dst:
        dst.nodata = 0
    with pytest.raises(InputError, match="no valid pixel"):
        run_tool("dehazing", user="alice", home=home, image=str(blank), save=False)


def test_a_dataarray_the_cli_and_a_queued_job(home: Path, real_data: Path) -> None:
    from terralab.cli import cli
    from terralab.queue import store
    from terralab.queue.worker import Worker

    hazy_path = home / "users" / "alice" / "hazy.tif"
    clear, hazy, valid = _hazy(real_data / AERIAL, hazy_path)
    array = rioxarray.open_rasterio(hazy_path)  # uint8, in memory after .load()
    array.load()
    in_memory = run_tool("dehazing", user="alice", home=home, image=array, save=False)
    from_file = run_tool("dehazing", user="alice", home=home, image=str(hazy_path),
                         save=False)
    assert np.array_equal(in_memory.data.values, from_file.data.values)
    ran = CliRunner().invoke(cli, ["run", "dehazing", "-p", f"image={hazy_path}",
                                   "-p", "radius=20", "--title", "Clearer"])
    assert ran.exit_code == 0, ran.output
    assert "saved Clearer" in ran.output and "atmospheric_light" in ran.output
    job = store.submit("alice", "dehazing", {"image": "hazy.tif", "omega": 0.9}, home=home)
    Worker(home=home, hard_cancel=False).run(until_idle=True)
    done = store.get_job(job.id, home=home)
    assert done.status == "succeeded", done.log
    from terralab.mydata.store import get_record

    record = get_record("alice", done.results[0], home=home)
    with rasterio.open(record.item["assets"]["data"]["href"]) as out:
        assert _same_grid(out, hazy_path)
        assert psnr(out.read(), clear, valid) > psnr(hazy, clear, valid) + 3


def test_demo_aerial_item_by_id(tmp_path: Path) -> None:
    from tests.conftest import write_small_demo

    home = write_small_demo(tmp_path / "demo")
    result = run_tool("dehazing", user="alice", home=home, image="deqing-aerial-20240510")
    with rasterio.open(result.path) as out:
        assert out.count == 4 and out.dtypes[0] == "uint8" and out.res == (0.5, 0.5)
        assert out.descriptions == ("red", "green", "blue", "nir")
    assert "warning" not in result.extra
