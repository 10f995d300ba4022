"""The animation tool (GIF / MP4 of a time series) and media results in my data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest
import rasterio
import rioxarray
from affine import Affine
from PIL import Image
from rasterio.warp import calculate_default_transform, reproject
from shapely.geometry import box

from terralab.catalog.index import CatalogIndex, default_index_path
from terralab.catalog.query import SearchQuery
from terralab.mydata.errors import UploadError
from terralab.mydata.library import list_items
from terralab.mydata.media import publish_media
from terralab.mydata.store import storage_usage
from terralab.quotas.policy import StoragePolicy
from terralab.tools.inputs import InputError
from terralab.tools.processing._animation_frames import date_in_name
from terralab.tools.runner import ToolParameterError, run_tool

YEARS = ["1985", "1990", "1995", "2000", "2005", "2010", "2015", "2020"]


@pytest.fixture(scope="module")
def series(real_data: Path) -> list[Path]:
    files = sorted((real_data / "landsat_pucallpa").glob("*.tif"))
    if len(files) != 8:
        pytest.skip("the Pucallpa series is incomplete")
    return files


def animate(home: Path, images: list[Any], **params: Any) -> tuple[Path, dict[str, Any]]:
    result = run_tool("animation", user="alice", home=home, save=False, images=images, **params)
    assert result.output.file is not None and result.output.name == "animation"
    return result.output.file, result.extra


def gif_frames(path: Path) -> np.ndarray:
    return iio.imread(path, index=None, mode="RGB")


@pytest.fixture(scope="module")
def gif(series: list[Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    return animate(tmp_path_factory.mktemp("home"), series, fps=4)


def test_gif_of_the_real_series(gif: tuple[Path, dict]) -> None:
    path, extra = gif
    assert path.suffix == ".gif" and path.is_file()
    frames = gif_frames(path)
    assert frames.shape == (8, 377, 697, 3)  # the first input's grid, not enlarged
    assert iio.immeta(path, index=0)["duration"] == 250  # 4 frames a second
    assert extra["labels"] == YEARS  # dates found in the file names
    assert extra["frames"] == 8 and extra["bands"] == [1, 2, 3]
    ring = np.array(extra["footprint"]["coordinates"][0])
    (west, south), (east, north) = ring.min(0), ring.max(0)
    assert -74.73 < west < -74.72 and -8.29 < north < -8.28 and east > -74.2 and south > -8.6


def test_mp4_of_the_real_series(series: list[Path], tmp_path: Path) -> None:
    path, extra = animate(tmp_path, series, format="mp4", fps=5, max_size=400)
    assert path.suffix == ".mp4"
    assert imageio_ffmpeg.count_frames_and_secs(str(path))[0] == 8
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    reader.close()
    assert meta["fps"] == 5
    assert extra["size"] == [400, 216]  # longest side max_size, the aspect kept
    assert tuple(meta["size"]) == (400, 216)


def test_labels_are_drawn(gif: tuple[Path, dict], series: list[Path], tmp_path: Path) -> None:
    plain, _ = animate(tmp_path, series, fps=4, labels=[""] * 8)
    labelled, unlabelled = gif_frames(gif[0]).astype(int), gif_frames(plain).astype(int)
    corner = (slice(0, 30), slice(0, 60))
    far = (slice(200, None), slice(300, None))
    for frame in range(8):
        assert np.abs(labelled[frame][corner] - unlabelled[frame][corner]).max() > 100
        assert np.array_equal(labelled[frame][far], unlabelled[frame][far])
        assert (labelled[frame][corner] == 0).all(axis=-1).any()  # the black box


def test_custom_labels_and_corner(series: list[Path], tmp_path: Path) -> None:
    labels = [f"frame {i}" for i in range(3)]
    path, extra = animate(tmp_path, series[:3], labels=labels, label_corner="bottom-right")
    assert extra["labels"] == labels
    plain, _ = animate(tmp_path, series[:3], labels=["", "", ""])
    labelled, unlabelled = gif_frames(path).astype(int), gif_frames(plain).astype(int)
    assert np.abs(labelled[0][-30:, -60:] - unlabelled[0][-30:, -60:]).max() > 100
    assert np.array_equal(labelled[0][:30, :60], unlabelled[0][:30, :60])


def test_one_colour_scale_for_all_frames(gif: tuple[Path, dict], series: list[Path]) -> None:
    values = []
    for path in series:
        with rasterio.open(path) as src:
            values.append(src.read([1, 2, 3]))
    frames = gif_frames(gif[0])
    compared = 0
    for i in range(8):
        for j in range(i + 1, 8):
            same = (values[i] == values[j]).all(axis=0) & (values[i] != 0).all(axis=0)
            same[:60, :200] = False  # away from the labels
            rows, cols = np.nonzero(same)
            assert np.array_equal(frames[i][rows, cols], frames[j][rows, cols])
            compared += rows.size
    assert compared > 100
    assert not np.array_equal(frames[0], frames[-1])


UTM_GRID = Affine(10, 0, 220_000, 0, -10, 3_400_000)


def write(path: Path, data: np.ndarray, crs: str = "EPSG:32651",
          transform: Affine = UTM_GRID) -> Path:
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[-1], height=data.shape[-2],
                       count=data.shape[0], dtype=data.dtype, crs=crs,
                       transform=transform) as dst:
        dst.write(data)
    return path


def test_no_stretch_per_frame(tmp_path: Path) -> None:
    base = np.tile(np.linspace(0, 0.5, 100, dtype="float32"), (1, 80, 1))
    bright = base.copy()
    bright[:, 40:, :] += 0.5  # the second date is brighter in its lower half
    one = write(tmp_path / "ndvi_20200101.tif", base)
    two = write(tmp_path / "ndvi_20210101.tif", bright)
    path, extra = animate(tmp_path, [one, two], labels=["", ""], colormap="viridis")
    assert len(extra["rescale"]) == 1 and extra["rescale"][0][1] > 0.6  # over both frames
    frames = gif_frames(path).astype(int)
    assert np.array_equal(frames[0][:40], frames[1][:40])  # the unchanged half, unchanged
    assert np.abs(frames[0][40:] - frames[1][40:]).max() > 50


def test_single_band_with_a_colormap(series: list[Path], tmp_path: Path) -> None:
    from rio_tiler.colormap import cmap

    path, extra = animate(tmp_path, series[:2], bands=[2], colormap="viridis",
                          labels=["", ""], rescale=[(0, 255)])
    assert extra["bands"] == [2] and extra["rescale"] == [[0.0, 255.0]]
    frame = gif_frames(path)[0].reshape(-1, 3).astype(int)
    table = np.array([cmap.get("viridis")[i][:3] for i in range(256)], dtype=int)
    colours = np.unique(frame, axis=0)
    distance = np.abs(colours[:, None, :] - table[None, :, :]).sum(-1).min(1)
    assert np.percentile(distance, 90) < 30  # viridis colours, not grey
    assert (np.abs(colours[:, 0] - colours[:, 2]) > 40).mean() > 0.5
    grey, _ = animate(tmp_path, series[:2], bands=[2], labels=["", ""])
    grey_frame = gif_frames(grey)[0]
    assert np.array_equal(grey_frame[..., 0], grey_frame[..., 1])


def test_other_grids_are_warped_onto_the_first(series: list[Path], tmp_path: Path) -> None:
    with rasterio.open(series[1]) as src:
        transform, width, height = calculate_default_transform(
            src.crs, "EPSG:32718", src.width, src.height, *src.bounds)
        utm = np.zeros((src.count, height, width), dtype="uint8")
        reproject(src.read(), utm, src_transform=src.transform, src_crs=src.crs,
                  dst_transform=transform, dst_crs="EPSG:32718", src_nodata=0, dst_nodata=0)
    moved = write(tmp_path / "1990_utm.tif", utm, crs="EPSG:32718", transform=transform)
    as_array = rioxarray.open_rasterio(series[1])
    path, extra = animate(tmp_path, [series[0], moved, as_array, series[1]],
                          labels=["", "", "", ""], max_size=300)
    frames = gif_frames(path).astype(int)
    assert frames.shape == (4, 162, 300, 3)
    inner = (slice(10, -10), slice(10, -10))
    assert np.abs(frames[1][inner] - frames[3][inner]).mean() < 12
    assert np.abs(frames[2][inner] - frames[3][inner]).mean() < 12
    assert extra["crs"] == "EPSG:4326"


def test_labels_of_items_and_arrays(series: list[Path], tmp_path: Path) -> None:
    from terralab.mydata.results import RESULT_LIMITS
    from terralab.mydata.uploads import upload_file

    record = upload_file(series[2], owner="alice", title="Pucallpa", home=tmp_path,
                         limits=RESULT_LIMITS)  # the upload rules want 1,024 pixels a side
    as_array = rioxarray.open_rasterio(series[3])
    renamed = tmp_path / "pucallpa.tif"
    renamed.write_bytes(series[4].read_bytes())
    _, extra = animate(tmp_path, [record.id, as_array, renamed], max_size=64)
    assert extra["labels"] == ["1995", "2000", "pucallpa"]


def test_dates_in_names() -> None:
    assert date_in_name("naip_2009.tif") == "2009"
    assert date_in_name("LC08_L2SP_20140720_x.tif") == "2014-07-20"
    assert date_in_name("s2-2021-06-01.tif") == "2021-06-01"
    assert date_in_name("tile_123456789.tif") is None


@pytest.mark.parametrize("params", [
    {"bands": [1, 2]}, {"bands": [0]}, {"fps": 0}, {"fps": 31}, {"format": "avi"},
    {"labels": ["one"]}, {"colormap": "no-such-map"}, {"rescale": [(5, 1)]},
    {"max_size": 4}])
def test_bad_parameters(series: list[Path], tmp_path: Path, params: dict[str, Any]) -> None:
    with pytest.raises(ToolParameterError):
        run_tool("animation", user="alice", home=tmp_path, save=False, images=series[:2],
                 **params)


def test_bad_inputs(series: list[Path], tmp_path: Path) -> None:
    with pytest.raises(ToolParameterError):
        run_tool("animation", user="alice", home=tmp_path, save=False, images=series[:1])
    with pytest.raises(InputError, match="has 4 bands"):
        animate(tmp_path, series[:2], bands=[5])
    with pytest.raises(InputError, match="rescale has 2 ranges"):
        animate(tmp_path, series[:2], rescale=[(0, 1), (0, 2)])


def test_publish_media_keeps_file_thumbnail_and_quota(gif: tuple[Path, dict],
                                                      series: list[Path],
                                                      tmp_path: Path) -> None:
    home = tmp_path / "home"
    record = publish_media("alice", gif[0], tool="animation", title="Pucallpa 1985-2020",
                           footprint=gif[1]["footprint"], home=home)
    assert record.kind == "result" and record.data_type == "media"
    assert record.source_name == "animation" and record.title == "Pucallpa 1985-2020"
    data = Path(record.item["assets"]["data"]["href"])
    thumb = Path(record.item["assets"]["thumbnail"]["href"])
    assert data.parent == home.resolve() / "users" / "alice" / "results" / record.id
    assert data.read_bytes() == gif[0].read_bytes()
    assert record.item["assets"]["data"]["type"] == "image/gif"
    assert record.item["properties"]["terralab:frames"] == 8
    with Image.open(thumb) as image:
        assert image.format == "PNG" and max(image.size) == 256
    assert record.bytes == data.stat().st_size + thumb.stat().st_size
    assert storage_usage("alice", home=home).used == record.bytes
    assert [r.id for r in list_items("alice", kind="result", home=home)] == [record.id]
    with CatalogIndex(default_index_path(home)) as index:
        found = index.search(SearchQuery(geometry=box(-74.6, -8.4, -74.5, -8.3),
                                         owner="alice"))
        elsewhere = index.search(SearchQuery(geometry=box(10, 10, 11, 11), owner="alice"))
    assert [item["id"] for item in found] == [record.id] and not elsewhere

    video, extra = animate(tmp_path, series[:3], format="mp4", fps=2)
    second = publish_media("alice", video, tool="animation", footprint=extra["footprint"],
                           home=home)
    assert second.item["assets"]["data"]["type"] == "video/mp4"
    assert second.item["properties"]["terralab:frames"] == 3
    assert Path(second.item["assets"]["thumbnail"]["href"]).is_file()
    assert storage_usage("alice", home=home).used == record.bytes + second.bytes
    assert len(list_items("alice", kind="result", home=home)) == 2


def assert_nothing_left(home: Path) -> None:
    assert storage_usage("alice", home=home).used == 0
    assert list_items("alice", kind="result", home=home) == []
    results = home / "users" / "alice" / "results"
    assert not results.exists() or not any(results.iterdir())
    staging = home / "staging"
    assert not staging.exists() or not any(staging.iterdir())


def test_failed_publish_leaves_nothing(gif: tuple[Path, dict], tmp_path: Path) -> None:
    home = tmp_path / "home"
    with pytest.raises(UploadError) as error:
        publish_media("alice", gif[0], tool="animation", footprint=gif[1]["footprint"],
                      policy=StoragePolicy(default=10), home=home)
    assert error.value.rule == "quota"
    assert_nothing_left(home)
    broken = tmp_path / "broken.gif"
    broken.write_bytes(b"GIF89a not really")
    with pytest.raises(UploadError) as error:
        publish_media("alice", broken, tool="animation", home=home)
    assert error.value.rule == "publish"
    assert_nothing_left(home)
    with pytest.raises(UploadError) as error:
        publish_media("alice", write(tmp_path / "a.tif", np.zeros((1, 4, 4), "uint8")),
                      tool="animation", home=home)
    assert error.value.rule == "type"
    assert_nothing_left(home)


def test_a_run_saves_the_animation_in_my_data(series: list[Path], tmp_path: Path) -> None:
    from terralab.mydata.library import list_items

    home = tmp_path / "home"
    home.mkdir()
    result = run_tool("animation", user="alice", home=home, images=[str(p) for p in series],
                      format="mp4", max_size=256)
    record = result.record
    assert record.kind == "result" and record.data_type == "media"
    assert record.title == f"animation of {series[0].name} and {len(series) - 1} more"
    assert result.path.suffix == ".mp4" and result.path.is_file()
    assert [r.id for r in list_items("alice", data_type="media", home=home)] == [record.id]
