"""The reproject and resample tools: Chinese CRSs, GDAL agreement, round trips, methods, memory."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import dask
import numpy as np
import pytest
import rasterio
import xarray as xr
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.warp import reproject as gdal_reproject
from rasterio.warp import transform as gdal_transform

from terralab.tools import ToolParameterError
from terralab.tools.registry import default_registry
from terralab.tools.runner import run_tool
from terralab.tools.warp import Grid, default_grid, parse_crs, warp

pytestmark = pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")


def _write(path: Path, data: np.ndarray, crs: str, transform: Affine,
           nodata: float | None = None) -> Path:
    data = data if data.ndim == 3 else data[np.newaxis]
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[2], height=data.shape[1],
                       count=data.shape[0], dtype=data.dtype, crs=crs, transform=transform,
                       nodata=nodata, tiled=True, blockxsize=256, blockysize=256) as dst:
        dst.write(data)
    return path


def _smooth(side: int = 400) -> np.ndarray:
    y, x = np.mgrid[0:side, 0:side].astype("float64")
    return (1000 + 400 * np.sin(x / 40) * np.cos(y / 55) + x).astype("float32")


def _array(values: np.ndarray, transform: Affine, crs: str = "EPSG:32650") -> xr.DataArray:
    height, width = values.shape
    xs, _ = transform @ (np.arange(width) + 0.5, np.full(width, 0.5))
    _, ys = transform @ (np.full(height, 0.5), np.arange(height) + 0.5)
    data = xr.DataArray(values[np.newaxis], dims=("band", "y", "x"),
                        coords={"band": [1], "y": ys, "x": xs})
    return data.rio.write_crs(crs).rio.write_transform(transform)


@pytest.fixture(scope="module")
def demo_item(demo_home: Path) -> dict[str, str]:
    from terralab.catalog.search import search

    items = search(collections=["demo-aerial"], home=demo_home).items
    return {"item": items[0].id, "asset": "image"}


def test_registered_with_bilingual_params() -> None:
    registry = default_registry()
    assert registry["reproject"].info.title_zh == "投影转换"
    assert registry["resample"].info.title_zh == "重采样"
    for name, fields in (("reproject", ("image", "crs", "resolution", "resampling", "nodata")),
                         ("resample", ("image", "resolution", "factor", "resampling"))):
        schema = registry[name].schema()
        assert tuple(schema["properties"]) == fields
        for field in fields:
            assert schema["properties"][field]["help_zh"], (name, field)


def test_bad_parameters_are_refused(tmp_path: Path) -> None:
    source = _write(tmp_path / "in.tif", _smooth(32), "EPSG:32650", Affine(10, 0, 0, 0, -10, 0))
    with pytest.raises(ToolParameterError, match="unknown CRS 'EPSG:99999'"):
        run_tool("reproject", user="alice", home=tmp_path, image=str(source), crs="EPSG:99999")
    with pytest.raises(ToolParameterError, match="unknown CRS"):
        run_tool("reproject", user="alice", home=tmp_path, image=str(source), crs="not a crs")
    with pytest.raises(ToolParameterError, match="resampling"):
        run_tool("reproject", user="alice", home=tmp_path, image=str(source), crs=4490,
                 resampling="fancy")
    with pytest.raises(ToolParameterError, match="exactly one"):
        run_tool("resample", user="alice", home=tmp_path, image=str(source))
    with pytest.raises(ToolParameterError, match="exactly one"):
        run_tool("resample", user="alice", home=tmp_path, image=str(source), factor=2,
                 resolution=20)
    with pytest.raises(ToolParameterError, match="resolution"):
        run_tool("resample", user="alice", home=tmp_path, image=str(source), resolution=0)
    # codes as int, digits, WKT and PROJ strings are all accepted
    assert parse_crs(4490) == CRS.from_epsg(4490) == parse_crs("4490")
    assert parse_crs(CRS.from_epsg(4549).to_wkt()) == CRS.from_epsg(4549)
    assert parse_crs("+proj=utm +zone=50 +datum=WGS84 +units=m +no_defs").to_epsg() == 32650


@pytest.mark.parametrize(("code", "geographic"), [
    (4490, True),     # CGCS2000
    (4549, False),    # CGCS2000 / 3-degree Gauss-Kruger CM 120E
    (2385, False),    # Xian 1980 / 3-degree Gauss-Kruger CM 120E
    (2437, False),    # Beijing 1954 / 3-degree Gauss-Kruger CM 120E
    (21460, False),   # Beijing 1954 / Gauss-Kruger CM 117E (6-degree)
    (3857, False),    # Web Mercator
])
def test_chinese_crs_on_the_demo_item(demo_home: Path, demo_item: dict[str, str], code: int,
                                      geographic: bool) -> None:
    result = run_tool("reproject", user="alice", home=demo_home, save=False, image=demo_item,
                      crs=f"EPSG:{code}", resampling="bilinear")
    out = result.data
    assert out.rio.crs == CRS.from_epsg(code) and out.rio.crs.is_geographic == geographic
    assert out.dtype == np.uint8 and out.sizes["band"] == 4 and out.rio.nodata == 0
    values = out.values
    assert (values != 0).mean() > 0.5  # the image lands on the grid
    # the image's centre lands where PROJ puts it
    source = run_tool("reproject", user="alice", home=demo_home, save=False, image=demo_item,
                      crs="EPSG:32651").data
    (cx,), (cy,) = gdal_transform(source.rio.crs, out.rio.crs,
                                  [float(source.x.mean())], [float(source.y.mean())])
    left, bottom, right, top = out.rio.bounds()
    assert left < cx < right and bottom < cy < top
    assert result.extra["crs"] == f"EPSG:{code}"


def test_reprojected_result_is_saved_in_my_data(demo_home: Path, tmp_path: Path) -> None:
    image = next((demo_home / "catalog").rglob("deqing-aerial-*/image.tif"))
    source = shutil.copy(image, tmp_path / "aerial.tif")
    home = tmp_path / "home"
    home.mkdir()
    result = run_tool("reproject", user="alice", home=home, image=str(source), crs=4549,
                      resolution=1.0)
    assert result.record.source_name == "reproject"
    with rasterio.open(result.path) as out, rasterio.open(source) as src:
        assert out.crs == CRS.from_epsg(4549) and out.res == (1.0, 1.0)
        assert out.count == src.count and out.nodata == src.nodata == 0
        assert out.overviews(1) or max(out.shape) <= 512


def test_matches_gdal_on_landsat(real_data: Path) -> None:
    path = real_data / "landsat7_rgb" / "RGB.byte.tif"
    with rasterio.open(path) as src:
        red, src_transform, src_crs = src.read(1), src.transform, src.crs
    for crs, resolution, method in (("EPSG:4490", None, "nearest"),
                                    ("EPSG:4549", None, "bilinear"),
                                    ("EPSG:32617", 500.0, "average")):
        out = run_tool("reproject", user="alice", home=real_data, save=False, image=str(path),
                       crs=crs, resolution=resolution, resampling=method).data
        ours = out.isel(band=0).values
        reference = np.zeros_like(ours)
        gdal_reproject(red, reference, src_transform=src_transform, src_crs=src_crs,
                       src_nodata=0, dst_transform=out.rio.transform(), dst_crs=crs,
                       dst_nodata=0, resampling=Resampling[method])
        diff = np.abs(ours.astype(int) - reference)
        # GDAL's own approximate transformer differs by chunk: tiny, sub-pixel differences
        assert diff.mean() < 1.0, (crs, method, diff.mean())
        assert ((ours == 0) == (reference == 0)).mean() > 0.99
        assert (diff <= 1).mean() > (0.95 if method == "nearest" else 0.88)
    # one block covering the image: exactly GDAL's pixels
    data = rioxarray_open(path)
    grid = default_grid(data, parse_crs("EPSG:4549"))
    ours = warp(data, grid, resampling="cubic", chunks=4096).isel(band=0).values
    reference = np.zeros_like(ours)
    gdal_reproject(red, reference, src_transform=src_transform, src_crs=src_crs, src_nodata=0,
                   dst_transform=grid.transform, dst_crs=grid.crs, dst_nodata=0,
                   resampling=Resampling.cubic)
    assert np.array_equal(ours, reference)


def rioxarray_open(path: Path) -> xr.DataArray:
    import rioxarray

    return rioxarray.open_rasterio(path, chunks={"band": 1, "x": 256, "y": 256})


def test_round_trip_utm_cgcs2000_utm(tmp_path: Path) -> None:
    transform = Affine(30, 0, 500_000, 0, -30, 4_400_000)
    values = _smooth()
    blob_x, blob_y = 500_000 + 30 * 150.5, 4_400_000 - 30 * 250.5   # a pixel centre
    y, x = np.mgrid[0:400, 0:400]
    values = values + 5000 * np.exp(-((x - 150) ** 2 + (y - 250) ** 2) / 8.0)
    source = _write(tmp_path / "utm.tif", values.astype("float32"), "EPSG:32618", transform)
    there = run_tool("reproject", user="alice", home=tmp_path, save=False, image=str(source),
                     crs="EPSG:4490", resampling="bilinear").data
    assert np.isnan(there.rio.nodata) and np.isnan(there.values).any()  # outside = nodata
    # geolocation: the blob's peak lies within a pixel (30 m) of where it was
    peak = np.unravel_index(np.nanargmax(there.isel(band=0).values), there.shape[1:])
    lon, lat = float(there.x[peak[1]]), float(there.y[peak[0]])
    (px,), (py,) = gdal_transform("EPSG:4490", "EPSG:32618", [lon], [lat])
    assert np.hypot(px - blob_x, py - blob_y) < 30
    back = warp(there, Grid(CRS.from_epsg(32618), transform, 400, 400),
                resampling="bilinear").isel(band=0).values
    inner = (slice(10, -10), slice(10, -10))
    smooth = np.abs(back - values)[inner]
    smooth = smooth[np.hypot(x - 150, y - 250)[inner] > 12]   # away from the sharp blob
    assert np.isfinite(smooth).all() and smooth.mean() < 2.0, smooth.mean()


def test_round_trip_real_naip(real_data: Path) -> None:
    path = next((real_data / "naip").glob("*.tif"))
    data = rioxarray_open(path).isel(band=[0])
    there = warp(data, default_grid(data, parse_crs(4490)), resampling="cubic")
    back = warp(there, Grid(data.rio.crs, data.rio.transform(), data.rio.width,
                            data.rio.height), resampling="cubic").values[0].astype(float)
    original = data.values[0].astype(float)
    inner = (slice(20, -20), slice(20, -20))
    assert np.abs(back - original)[inner].mean() < 8, np.abs(back - original)[inner].mean()


def test_nodata_kept_and_chosen(tmp_path: Path) -> None:
    transform = Affine(10, 0, 300_000, 0, -10, 3_300_000)
    values = np.full((64, 64), 7, dtype="int16")
    values[:8] = -9999
    with_nodata = _write(tmp_path / "a.tif", values, "EPSG:32650", transform, nodata=-9999)
    out = run_tool("reproject", user="alice", home=tmp_path, save=False, image=str(with_nodata),
                   crs=4490).data
    assert out.rio.nodata == -9999 and set(np.unique(out.values)) == {-9999, 7}
    plain = _write(tmp_path / "b.tif", values.clip(0), "EPSG:32650", transform)
    out = run_tool("reproject", user="alice", home=tmp_path, save=False, image=str(plain),
                   crs=4490).data
    assert out.rio.nodata == 0 and out.values[0, 0, 0] == 0
    out = run_tool("reproject", user="alice", home=tmp_path, save=False, image=str(plain),
                   crs=4490, nodata=255).data
    assert out.rio.nodata == 255 and out.values[0, 0, 0] == 255


HAND = np.array([[1, 2, 5, 5],
                 [3, 4, 5, 7],
                 [9, 9, 0, 8],
                 [1, 9, 6, 6]], dtype="float32")


@pytest.mark.parametrize(("method", "expected"), [
    ("average", [[2.5, 5.5], [7.0, 5.0]]),
    ("mode", [[1, 5], [9, 6]]),
    ("min", [[1, 5], [1, 0]]),
    ("max", [[4, 7], [9, 8]]),
    ("med", [[2, 5], [9, 6]]),
    ("sum", [[10, 22], [28, 20]]),
    ("nearest", [[4, 7], [9, 6]]),   # GDAL takes the pixel right of and below the centre
])
def test_resample_methods_on_a_hand_made_array(tmp_path: Path, method: str,
                                               expected: list[list[float]]) -> None:
    image = _array(HAND, Affine(10, 0, 0, 0, -10, 40))
    by_factor = run_tool("resample", user="alice", home=tmp_path, save=False, image=image,
                         factor=2, resampling=method).data
    by_size = run_tool("resample", user="alice", home=tmp_path, save=False, image=image,
                       resolution=20, resampling=method).data
    assert by_factor.rio.transform() == Affine(20, 0, 0, 0, -20, 40) == by_size.rio.transform()
    assert by_factor.rio.crs == image.rio.crs
    np.testing.assert_allclose(by_factor.values[0], expected)
    np.testing.assert_allclose(by_size.values[0], expected)


def test_resample_finer_and_saved(tmp_path: Path) -> None:
    source = _write(tmp_path / "hand.tif", HAND.astype("uint8"), "EPSG:32650",
                    Affine(10, 0, 0, 0, -10, 40), nodata=255)
    finer = run_tool("resample", user="alice", home=tmp_path, save=False, image=str(source),
                     factor=0.5, resampling="nearest").data
    np.testing.assert_array_equal(finer.values[0], np.kron(HAND, np.ones((2, 2))))
    home = tmp_path / "home"
    home.mkdir()
    result = run_tool("resample", user="alice", home=home, image=str(source), resolution=20,
                      resampling="max")
    with rasterio.open(result.path) as out:
        assert out.transform == Affine(20, 0, 0, 0, -20, 40) and out.nodata == 255
        assert out.bounds == (0, 0, 40, 40) and out.crs == CRS.from_epsg(32650)
        np.testing.assert_array_equal(out.read(1), [[4, 7], [9, 8]])


def test_nodata_is_left_out_when_resampling() -> None:
    values = HAND.copy()
    values[0, 0] = np.nan
    image = _array(values, Affine(10, 0, 0, 0, -10, 40))
    out = warp(image, Grid(image.rio.crs, Affine(20, 0, 0, 0, -20, 40), 2, 2),
               resampling="average")
    assert out.values[0, 0, 0] == pytest.approx(3.0)   # (2 + 3 + 4) / 3


def test_lazy_reprojection_memory(tmp_path: Path, peak_memory) -> None:
    side = 6000
    path = tmp_path / "big.tif"
    with rasterio.open(path, "w", driver="GTiff", width=side, height=side, count=1,
                       dtype="uint16", crs="EPSG:32651", tiled=True, blockxsize=512,
                       blockysize=512,
                       transform=Affine(10, 0, 200_000, 0, -10, 3_400_000)) as dst:
        for row in range(0, side, 512):
            rows = min(512, side - row)
            block = np.arange(row, row + rows)[:, None] + np.arange(side)[None, :]
            dst.write(block.astype("uint16")[None], window=((row, row + rows), (0, side)))
    home = tmp_path / "home"
    home.mkdir()
    lazy = run_tool("reproject", user="alice", home=home, save=False, image=str(path),
                    crs="EPSG:4549").data
    assert lazy.chunks is not None   # nothing computed yet
    image_bytes = side * side * 2
    with peak_memory() as peak, dask.config.set(num_workers=2), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_tool("reproject", user="alice", home=home, image=str(path),
                          crs="EPSG:4549")
    assert peak.traced < image_bytes / 2, \
        f"peak {peak.traced_mb:.0f} MB, image {image_bytes / 1e6:.0f} MB"
    with rasterio.open(result.path) as out:
        assert out.crs == CRS.from_epsg(4549) and out.dtypes[0] == "uint16"
        assert out.width > 5000 and out.height > 5000


def test_resample_of_the_real_landsat_sample_matches_gdal(real_data: Path) -> None:
    path = next((real_data / "landsat7_rgb").glob("*.tif"))
    lazy = run_tool("resample", user="alice", home=real_data.parent / "unused", save=False,
                    image=str(path), factor=2, resampling="average").data
    values = lazy.compute().values
    with rasterio.open(path) as src:
        expected = np.zeros((src.count, *values.shape[1:]), dtype=src.dtypes[0])
        gdal_reproject(src.read(), expected, src_transform=src.transform, src_crs=src.crs,
                       dst_transform=src.transform * Affine.scale(2), dst_crs=src.crs,
                       src_nodata=src.nodata, dst_nodata=src.nodata,
                       resampling=Resampling.average)
        assert lazy.rio.crs == src.crs
        assert lazy.rio.transform().almost_equals(src.transform * Affine.scale(2), 1e-6)
    assert values.shape[1] == expected.shape[1] and values.shape[2] == expected.shape[2]
    difference = np.abs(values.astype(int) - expected.astype(int))
    assert np.mean(difference) < 0.5 and np.mean(difference <= 1) > 0.97


def test_resample_of_a_demo_scene(demo_home: Path, demo_item: dict[str, str]) -> None:
    lazy = run_tool("resample", user="alice", home=demo_home, save=False, image=demo_item,
                    resolution=2.0, resampling="mode").data
    res_x, res_y = lazy.rio.resolution()
    assert abs(res_x) == pytest.approx(2.0) and abs(res_y) == pytest.approx(2.0)
    assert lazy.sizes["x"] > 0 and float(lazy.max()) > 0
