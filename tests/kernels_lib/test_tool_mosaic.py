"""The mosaic and band composite tools, on the real NAIP sample and the demo Sentinel-2 items."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr
from affine import Affine
from rasterio.warp import Resampling, calculate_default_transform, reproject
from rasterio.windows import Window

from terralab.tools.inputs import InputError
from terralab.tools.registry import default_registry
from terralab.tools.runner import run_tool

OVERLAP = (400, 520)  # columns held by both halves


@pytest.fixture(scope="module")
def naip(real_data: Path) -> Path:
    files = sorted((real_data / "naip").glob("*.tif"))
    if not files:
        pytest.skip("no NAIP sample in the real data")
    return files[-1]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def write(path: Path, data: np.ndarray, profile: dict, **changes: object) -> str:
    """Write ``data`` as a GeoTIFF; bands stay plain bands (never a default RGBA alpha)."""
    profile = {**profile, "count": data.shape[0], "height": data.shape[1],
               "width": data.shape[2], "photometric": "MINISBLACK", **changes}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return str(path)


def halves(naip: Path, folder: Path, *, left_value: int | None = None,
           right_value: int | None = None) -> tuple[np.ndarray, dict, str, str]:
    """The NAIP image, its profile and its left/right halves (overlap values optionally set)."""
    with rasterio.open(naip) as src:
        full, profile = src.read(), src.profile
        a, b = OVERLAP
        left = full[:, :, :b].copy()
        right = full[:, :, a:].copy()
        if left_value is not None:
            left[:, :, a:] = left_value
        if right_value is not None:
            right[:, :, :b - a] = right_value
        left_path = write(folder / "left.tif", left, profile,
                          transform=src.window_transform(Window(0, 0, b, src.height)))
        right_path = write(folder / "right.tif", right, profile,
                           transform=src.window_transform(Window(a, 0, src.width - a,
                                                                 src.height)))
    return full, profile, left_path, right_path


def test_tools_are_registered_with_bilingual_help() -> None:
    registry = default_registry()
    for name, title_zh in (("mosaic", "影像镶嵌"), ("band_composite", "波段合成")):
        tool = registry[name]
        assert tool.info.title_zh == title_zh and tool.info.inputs == ("rasters",)
        properties = tool.schema()["properties"]
        assert properties["images"]["terralab:input"] == "rasters"
        assert all(p.get("description") and p.get("help_zh") for p in properties.values())
    assert registry["mosaic"].schema()["properties"]["method"]["enum"] == [
        "first", "last", "mean", "min", "max"]


def test_mosaic_of_two_halves_is_the_original(naip, tmp_path, home) -> None:
    full, profile, left, right = halves(naip, tmp_path)
    result = run_tool("mosaic", user="alice", home=home, images=[left, right])
    with rasterio.open(result.path) as out:
        assert out.crs == profile["crs"] and out.transform == profile["transform"]
        assert out.shape == full.shape[1:] and out.nodata == profile["nodata"]
        assert np.array_equal(out.read(), full)
    for method in ("last", "min", "max", "mean"):
        lazy = run_tool("mosaic", user="alice", home=home, save=False, images=[right, left],
                        method=method).data
        assert lazy.dims == ("band", "y", "x") and lazy.chunks is not None  # still lazy
        assert np.array_equal(lazy.values, full), method


def test_order_decides_the_overlap(naip, tmp_path, home) -> None:
    full, _, left, right = halves(naip, tmp_path, left_value=10, right_value=200)
    a, b = OVERLAP

    def overlap(images: list[str], method: str) -> np.ndarray:
        data = run_tool("mosaic", user="alice", home=home, save=False, images=images,
                        method=method).data.values
        assert np.array_equal(data[:, :, :a], full[:, :, :a])
        assert np.array_equal(data[:, :, b:], full[:, :, b:])
        return data[:, :, a:b]

    assert (overlap([left, right], "first") == 10).all()
    assert (overlap([left, right], "last") == 200).all()
    assert (overlap([right, left], "first") == 200).all()
    assert (overlap([left, right], "mean") == 105).all()
    assert (overlap([right, left], "min") == 10).all()
    assert (overlap([left, right], "max") == 200).all()


def test_reprojected_half_mosaics_onto_the_first_grid(naip, tmp_path, home) -> None:
    full, profile, left, right = halves(naip, tmp_path)
    with rasterio.open(right) as src:
        transform, width, height = calculate_default_transform(
            src.crs, "EPSG:4326", src.width, src.height, *src.bounds)
        moved = np.zeros((src.count, height, width), dtype="uint8")
        reproject(src.read(), moved, src_transform=src.transform, src_crs=src.crs,
                  dst_transform=transform, dst_crs="EPSG:4326", src_nodata=0, dst_nodata=0,
                  resampling=Resampling.nearest)
        geographic = write(tmp_path / "right-4326.tif", moved, src.profile, crs="EPSG:4326",
                           transform=transform)
    result = run_tool("mosaic", user="alice", home=home, save=False, images=[left, geographic])
    data = result.data
    assert data.rio.crs == profile["crs"] and data.rio.resolution() == (5.0, -5.0)
    origin = profile["transform"]
    assert ((data.rio.transform().c - origin.c) / 5) % 1 == 0  # aligned on the first's pixels
    assert ((data.rio.transform().f - origin.f) / 5) % 1 == 0
    height, width = full.shape[1:]
    window = data.sel(x=slice(origin.c, origin.c + 5 * width),
                      y=slice(origin.f, origin.f - 5 * height)).values
    assert window.shape == full.shape
    assert np.array_equal(window[:, :, :OVERLAP[1]], full[:, :, :OVERLAP[1]])
    assert np.mean(window == full) > 0.9
    assert np.mean(np.abs(window.astype(int) - full)) < 1.5
    # the first image decides the CRS
    other = run_tool("mosaic", user="alice", home=home, save=False, images=[geographic, left])
    assert other.data.rio.crs == "EPSG:4326"


def test_nodata_and_alpha_never_win(naip, tmp_path, home) -> None:
    full, profile, left, right = halves(naip, tmp_path)
    a, b = OVERLAP
    holed = rasterio.open(left).read()
    holed[:, 100:200, a:b] = 0  # nodata in the top image, inside the overlap
    holed[:, 300:310, 10:20] = 0  # …and where nothing lies below
    top = write(tmp_path / "holed.tif", holed, profile,
                transform=rasterio.open(left).transform)
    data = run_tool("mosaic", user="alice", home=home, save=False, images=[top, right]).data
    expected = full.copy()
    expected[:, 300:310, 10:20] = 0
    assert np.array_equal(data.values, expected)

    # an RGB image with an alpha band: alpha = 0 lets the image below show
    with rasterio.open(left) as src:
        rgba = src.read()
        rgba[3] = 255
        rgba[3, 100:200, a:b] = 0
        rgba[:3, 100:200, a:b] = 7
        profile_rgba = {**src.profile, "count": 4, "photometric": "RGB", "alpha": "YES"}
        with rasterio.open(tmp_path / "rgba.tif", "w", **profile_rgba) as dst:
            dst.write(rgba)
    lower = write(tmp_path / "rgb.tif", full[:3, :, a:], profile,
                  transform=rasterio.open(right).transform)
    data = run_tool("mosaic", user="alice", home=home, save=False,
                    images=[str(tmp_path / "rgba.tif"), lower]).data
    assert data.sizes["band"] == 3
    assert np.array_equal(data.values, full[:3])


def test_mosaic_refusals_and_in_memory_inputs(naip, tmp_path, home) -> None:
    full, profile, left, right = halves(naip, tmp_path)
    three = write(tmp_path / "three.tif", full[:3, :, OVERLAP[0]:], profile,
                  transform=rasterio.open(right).transform)
    with pytest.raises(InputError, match=r"same number of bands.*has 4.*has 3"):
        run_tool("mosaic", user="alice", home=home, save=False, images=[left, three])
    with pytest.raises(InputError, match="does not fit"):
        run_tool("mosaic", user="alice", home=home, save=False, images=[left, right],
                 nodata=-1)
    with pytest.raises(InputError, match="unknown CRS"):
        run_tool("mosaic", user="alice", home=home, save=False, images=[left, right],
                 crs="EPSG:999999")
    # a DataArray (another tool's output) on another grid joins the mosaic too
    import rioxarray

    coarse = rioxarray.open_rasterio(right).rio.reproject(
        profile["crs"], resolution=10, resampling=Resampling.nearest)
    data = run_tool("mosaic", user="alice", home=home, save=False, method="last",
                    images=[left, coarse]).data
    assert data.rio.resolution() == (5.0, -5.0) and data.rio.transform() == profile["transform"]
    values = data.values[:, :full.shape[1]]  # 10 m pixels reach one 5 m row further down
    assert np.array_equal(values[:, :, :OVERLAP[0]], full[:, :, :OVERLAP[0]])
    assert np.mean(np.abs(values[:, :, 600:].astype(int) - full[:, :, 600:])) < 8


def split_bands(naip: Path, folder: Path) -> tuple[np.ndarray, dict, list[str]]:
    with rasterio.open(naip) as src:
        full, profile = src.read(), src.profile
    return full, profile, [write(folder / f"band{i + 1}.tif", full[i:i + 1], profile)
                           for i in range(full.shape[0])]


def test_band_composite_recomposes_naip(naip, tmp_path, home) -> None:
    full, profile, bands = split_bands(naip, tmp_path)
    result = run_tool("band_composite", user="alice", home=home, images=bands,
                      band_names=["red", "green", "blue", "nir"])
    with rasterio.open(result.path) as out:
        assert out.crs == profile["crs"] and out.transform == profile["transform"]
        assert np.array_equal(out.read(), full)
        assert out.descriptions == ("red", "green", "blue", "nir")
    lazy = run_tool("band_composite", user="alice", home=home, save=False, images=bands[::-1])
    assert lazy.output.band_names == ("band4", "band3", "band2", "band1")
    assert np.array_equal(lazy.data.values, full[::-1])
    with pytest.raises(InputError, match="3 band names for 4 bands"):
        run_tool("band_composite", user="alice", home=home, save=False, images=bands,
                 band_names=["a", "b", "c"])


def test_band_composite_refuses_other_grids_or_reprojects(naip, tmp_path, home) -> None:
    full, profile, bands = split_bands(naip, tmp_path)
    shifted = write(tmp_path / "shifted.tif", full[3:4], profile,
                    transform=profile["transform"] @ Affine.translation(3, 0))
    images = [*bands[:3], shifted]
    with pytest.raises(InputError, match=r"image 4 .*shifted.tif.* extent") as error:
        run_tool("band_composite", user="alice", home=home, save=False, images=images)
    assert "CRS" not in str(error.value) and "resolution" not in str(error.value)
    assert 'align="reproject"' in str(error.value)
    data = run_tool("band_composite", user="alice", home=home, save=False, images=images,
                    align="reproject").data.values
    assert np.array_equal(data[:3], full[:3])
    assert np.array_equal(data[3, :, 3:], full[3, :, :-3]) and (data[3, :, :3] == 0).all()

    # same shape, another CRS and pixel size: never stacked by shape alone
    geographic = write(tmp_path / "geographic.tif", full[3:4], profile, crs="EPSG:4326",
                       transform=Affine(5e-5, 0, -99.16, 0, -5e-5, 47.04))
    with pytest.raises(InputError, match="CRS EPSG:4326 instead of EPSG:26914; resolution"):
        run_tool("band_composite", user="alice", home=home, save=False,
                 images=[*bands[:3], geographic])


def test_band_composite_of_demo_sentinel2_assets(demo_home, tmp_path) -> None:
    items = sorted(p.name for p in (demo_home / "catalog" / "demo" / "sentinel-2-l2a").iterdir()
                   if p.is_dir())
    assert items, "the demo has Sentinel-2 items"
    item = items[0]
    rgb = [{"item": item, "asset": key} for key in ("B04", "B03", "B02")]
    result = run_tool("band_composite", user="alice", home=demo_home, save=False, images=rgb)
    folder = demo_home / "catalog" / "demo" / "sentinel-2-l2a" / item
    expected = [rasterio.open(next(folder.glob(f"*_{key}_10m.tif"))).read(1)
                for key in ("B04", "B03", "B02")]
    data = result.data
    assert isinstance(data, xr.DataArray) and data.sizes["band"] == 3
    assert np.array_equal(data.values, np.stack(expected))
    assert len(result.output.band_names or ()) == 3
    # B05 is 20 m: refused, or resampled onto B04's 10 m grid
    with pytest.raises(InputError, match="resolution 20 instead of 10"):
        run_tool("band_composite", user="alice", home=demo_home, save=False,
                 images=[*rgb, {"item": item, "asset": "B05"}])
    mixed = run_tool("band_composite", user="alice", home=demo_home, save=False,
                     images=[*rgb, {"item": item, "asset": "B05"}], align="reproject").data
    assert mixed.shape == (4, *expected[0].shape)
    # saving works from copies of the files (the shared demo home is left alone)
    copies = []
    for key in ("B08", "B04"):
        source = next(folder.glob(f"*_{key}_10m.tif"))
        copies.append(str(shutil.copy(source, tmp_path / source.name)))
    home = tmp_path / "home"
    home.mkdir()
    saved = run_tool("band_composite", user="alice", home=home, images=copies,
                     band_names=["nir", "red"])
    with rasterio.open(saved.path) as out:
        assert out.count == 2 and out.descriptions == ("nir", "red")
        assert np.array_equal(out.read(2), expected[0])
