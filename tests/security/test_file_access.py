"""What the workers and the tile server open for a user: one allow-list, no other file.

Issue failure 2: a job read any file through a raster in the user's own folder. A VRT pointing
at another user's upload, or a ``VRTRawRasterBand`` over a file outside every user's folder,
given as ``image`` to ``band_math``, succeeded and the result held the other file's bytes.
The same holds for every format that names other files: an Erdas Imagine ``.img`` whose
spill file is another user's file, a GeoTIFF whose metadata names an overview file elsewhere
(read by every decimated read, i.e. map tiles).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from terralab.home import user_dir

SECRET = 77  # every pixel of bob's upload
PROFILE = {"width": 64, "height": 64, "count": 1, "dtype": "uint8", "crs": "EPSG:3857",
           "transform": from_origin(0, 640, 10, 10)}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / "users").mkdir(parents=True)
    monkeypatch.setenv("TERRALAB_HOME", str(home))
    monkeypatch.setenv("TERRALAB_LOCAL_WORKER", "0")
    return home


def _geotiff(path: Path, value: int, **options: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {**PROFILE, **options}
    with rasterio.open(path, "w", driver="GTiff", **profile) as dst:
        dst.write(np.full((1, profile["height"], profile["width"]), value, dtype="uint8"))
    return path


def _vrt(band: str) -> str:
    """A 64² VRT on PROFILE's grid holding ``band`` (a ``<VRTRasterBand>`` element)."""
    return ('<VRTDataset rasterXSize="64" rasterYSize="64"><SRS>EPSG:3857</SRS>'
            f"<GeoTransform>0, 10, 0, 640, 0, -10</GeoTransform>{band}</VRTDataset>")


def _bob_upload(home: Path) -> Path:
    return _geotiff(user_dir("fa-bob", home=home) / "uploads" / "b" / "data.tif", SECRET)


def _run_band_math(home: Path, image: str) -> tuple[object, np.ndarray | None]:
    """Submit ``band_math`` on ``image`` as fa-alice, run it on a shared worker."""
    from terralab.mydata.store import get_record
    from terralab.queue import store
    from terralab.queue.worker import Worker

    user_dir("fa-alice", home=home).mkdir(parents=True, exist_ok=True)
    job = store.submit("fa-alice", "band_math",
                       {"image": image, "expression": "b1 * 1", "band_map": {"b1": 1}},
                       home=home)
    Worker(home=home, hard_cancel=False).run(until_idle=True)
    done = store.get_job(job.id, home=home)
    values = None
    if done.status == "succeeded":
        record = get_record("fa-alice", done.results[0], home=home)
        with rasterio.open(record.item["assets"]["data"]["href"]) as result:
            values = result.read(1)
    return done, values


def _assert_refused(done: object, values: np.ndarray | None, *words: str) -> None:
    leaked = None if values is None else np.unique(values)[:10].tolist()
    assert done.status == "failed", f"the job {done.status} and read {leaked}"
    assert values is None
    for word in words:
        assert word in done.error, done.error


def test_a_vrt_over_another_users_upload_is_refused(home: Path) -> None:
    """issue failure 2: a VRT in alice's folder pointing at bob's upload, as band_math's image."""
    bob = _bob_upload(home)
    vrt = user_dir("fa-alice", home=home) / "steal.vrt"
    vrt.parent.mkdir(parents=True)
    vrt.write_text(_vrt(
        '<VRTRasterBand dataType="Byte" band="1"><SimpleSource>'
        f'<SourceFilename relativeToVRT="0">{bob}</SourceFilename><SourceBand>1</SourceBand>'
        "</SimpleSource></VRTRasterBand>"))
    done, values = _run_band_math(home, "steal.vrt")
    _assert_refused(done, values, "not a GeoTIFF", "'steal.vrt'")


def test_a_raw_vrt_over_a_file_outside_the_users_folder_is_refused(home: Path,
                                                                     tmp_path: Path) -> None:
    """issue failure 2: a VRTRawRasterBand (named .tif) over a file outside alice's folder."""
    secret = tmp_path / "shadow"
    secret.write_bytes(b"root:$6$secret-hash:19000:0:99999:7:::\n" * 200)
    disguised = user_dir("fa-alice", home=home) / "shadow.tif"
    disguised.parent.mkdir(parents=True)
    disguised.write_text(_vrt(
        '<VRTRasterBand dataType="Byte" band="1" subClass="VRTRawRasterBand">'
        f'<SourceFilename relativeToVRT="0">{secret}</SourceFilename>'
        "<ImageOffset>0</ImageOffset><PixelOffset>1</PixelOffset><LineOffset>64</LineOffset>"
        "</VRTRasterBand>"))
    done, values = _run_band_math(home, "shadow.tif")
    _assert_refused(done, values, "not a GeoTIFF")


def test_an_erdas_imagine_file_whose_spill_file_is_another_users_is_refused(
        home: Path) -> None:
    """issue failure 2: an .img whose header names bob's file as its external spill file."""
    bob_folder = user_dir("fa-bob", home=home) / "uploads" / "b"
    bob_folder.mkdir(parents=True)
    with rasterio.open(bob_folder / "scene.img", "w", driver="HFA", USE_SPILL="YES",
                       **PROFILE) as dst:
        dst.write(np.full((1, 64, 64), SECRET, dtype="uint8"))
    alice = user_dir("fa-alice", home=home)
    alice.mkdir(parents=True)
    name = "a" * 40
    with rasterio.open(alice / f"{name}.img", "w", driver="HFA", USE_SPILL="YES",
                       **PROFILE) as dst:
        dst.write(np.ones((1, 64, 64), dtype="uint8"))
    (alice / f"{name}.ige").unlink()
    header = (alice / f"{name}.img").read_bytes()
    own, stolen = f"{name}.ige".encode(), b"../fa-bob/uploads/b/scene.ige"
    assert header.count(own) == 1
    (alice / f"{name}.img").write_bytes(header.replace(own, stolen.ljust(len(own), b"\0")))
    done, values = _run_band_math(home, f"{name}.img")
    _assert_refused(done, values, "other files", "scene.ige")


def test_a_geotiff_naming_an_external_overview_file_shows_no_tile(home: Path) -> None:
    """issue failure 2: a GeoTIFF whose GDAL_METADATA names bob's file as its overview file
    (every decimated read, e.g. a map tile, read bob's pixels)."""
    from terralab.tiles import TileAccessError, render_tile, resolve_tile_source

    bob = _geotiff(user_dir("fa-bob", home=home) / "uploads" / "b" / "data.tif", SECRET,
                   width=256, height=256, transform=from_origin(0, 2560, 20, 20))
    path = user_dir("fa-alice", home=home) / "uploads" / "a" / "data.tif"
    _geotiff(path, 1, width=512, height=512, transform=from_origin(0, 2560, 10, 10))
    with rasterio.open(path, "r+") as dst:
        dst.update_tags(ns="OVERVIEWS", OVERVIEW_FILE=str(bob))
    try:
        source = resolve_tile_source("fa-alice", path="uploads/a/data.tif", home=home)
        png = render_tile(source, 12, 2048, 2047, bands="1", rescale="0,255")
    except TileAccessError as error:
        assert "overview" in str(error)
        return
    from tests.kernels_lib.test_tiles import decode

    shown = decode(png)[0]
    pytest.fail(f"the tile was rendered, showing values {np.unique(shown)[:10].tolist()}")


def test_a_plain_geotiff_in_the_users_folder_still_runs(home: Path) -> None:
    """issue failure 2 (control): a self-contained GeoTIFF of alice's runs as before."""
    _geotiff(user_dir("fa-alice", home=home) / "mine.tif", 5)
    done, values = _run_band_math(home, "mine.tif")
    assert done.status == "succeeded", done.error
    assert values is not None and np.allclose(values, 5)


def test_a_file_swapped_for_a_vrt_after_its_check_is_refused_when_read(home: Path) -> None:
    """issue failure 2, the reopen: a tool checks its input once and reads its pixels later,
    chunk by chunk (a reprojection's windows). A user who swaps the checked GeoTIFF for a
    VRT over bob's upload in between must get a refusal, never bob's pixels: every reopen
    goes through the allow-list too."""
    import rioxarray
    from rasterio.crs import CRS

    from terralab.raster_open import RasterRefusedError
    from terralab.tools.warp import default_grid, warp

    bob = _bob_upload(home)
    mine = _geotiff(user_dir("fa-alice", home=home) / "mine.tif", 5)
    data = rioxarray.open_rasterio(mine, chunks=True)
    lazy = warp(data, default_grid(data, CRS.from_epsg(4326)), path=mine)
    assert int(np.nanmax(lazy.values)) == 5  # read as checked
    mine.write_text(_vrt(
        '<VRTRasterBand dataType="Byte" band="1"><SimpleSource>'
        f'<SourceFilename relativeToVRT="0">{bob}</SourceFilename><SourceBand>1</SourceBand>'
        "</SimpleSource></VRTRasterBand>"))
    with pytest.raises(RasterRefusedError, match="not a GeoTIFF"):
        leaked = lazy.values
        pytest.fail(f"the swapped file was read: {np.unique(leaked)[:10].tolist()}")
