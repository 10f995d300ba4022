"""The clip tool: same pixels as rasterio/GDAL's mask, lazy, clear errors."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import rasterio.mask
import rioxarray
import xarray as xr
from affine import Affine
from shapely.geometry import Polygon, box, mapping

from terralab.tools.inputs import InputError
from terralab.tools.registry import default_registry
from terralab.tools.runner import ToolParameterError, run_tool

ITEM = "deqing-aerial-20240510"


def _truth(demo_home: Path) -> Path:
    return next((demo_home / "catalog" / "demo" / "demo-aerial").rglob(f"{ITEM}/truth.gpkg"))


def _naip(real_data: Path) -> Path:
    files = sorted((real_data / "naip").glob("*.tif"))
    if not files:
        pytest.skip("no NAIP sample in the real data")
    return files[-1]


def _rasterio_mask(path: Path, geoms: list, *, crop: bool) -> tuple[np.ndarray, Affine]:
    with rasterio.open(path) as src:
        return rasterio.mask.mask(src, geoms, crop=crop)


def _naip_area(path: Path) -> Polygon:
    """An irregular polygon inside the NAIP tile, in EPSG:4326."""
    with rasterio.open(path) as src:
        left, bottom, right, top = src.bounds
    w, h = right - left, top - bottom
    local = Polygon([(left + 0.1 * w, bottom + 0.2 * h), (left + 0.7 * w, bottom + 0.05 * h),
                     (left + 0.9 * w, bottom + 0.6 * h), (left + 0.5 * w, bottom + 0.4 * h),
                     (left + 0.3 * w, bottom + 0.9 * h)])
    return gpd.GeoSeries([local], crs="EPSG:26914").to_crs("EPSG:4326").iloc[0]


def test_registered_with_bilingual_params() -> None:
    tool = default_registry()["clip"]
    assert tool.info.title_zh == "裁剪" and tool.info.inputs == ("raster", "vector")
    props = tool.schema()["properties"]
    assert set(props) == {"image", "area", "where", "crop", "all_touched", "nodata"}
    assert all(p.get("help_zh") and p.get("description") for p in props.values())


@pytest.mark.parametrize("crop", [True, False])
def test_naip_matches_rasterio_mask(real_data, tmp_path, crop) -> None:
    source = _naip(real_data)
    area = _naip_area(source)
    expected, transform = _rasterio_mask(
        source, [gpd.GeoSeries([area], crs="EPSG:4326").to_crs("EPSG:26914").iloc[0]],
        crop=crop)
    result = run_tool("clip", user="alice", home=tmp_path, save=False, image=str(source),
                      area=mapping(area), crop=crop)
    data = result.data
    assert hasattr(data.data, "dask")
    assert data.rio.transform() == transform and data.rio.nodata == 0
    assert data.dtype == np.uint8 and data.shape == expected.shape
    assert np.array_equal(data.values, expected)
    with rasterio.open(source) as src:
        if crop:
            assert data.shape[1:] < (src.height, src.width)
        else:
            assert data.shape[1:] == (src.height, src.width)
    # small chunks: the polygon is rasterized block by block, same pixels
    chunked = rioxarray.open_rasterio(source, chunks={"band": 1, "x": 100, "y": 128})
    small = run_tool("clip", user="alice", home=tmp_path, save=False, image=chunked,
                     area=area, crop=crop)
    assert len(small.data.data.chunks[2]) > 1
    assert np.array_equal(small.data.values, expected)


def test_naip_saved_result_is_the_same_grid(real_data, tmp_path) -> None:
    source = _naip(real_data)
    area = _naip_area(source)
    expected, transform = _rasterio_mask(
        source, [gpd.GeoSeries([area], crs="EPSG:4326").to_crs("EPSG:26914").iloc[0]],
        crop=True)
    result = run_tool("clip", user="alice", home=tmp_path, image=str(source), area=area)
    assert result.record.kind == "result"
    with rasterio.open(result.path) as out:
        assert out.transform == transform and out.nodata == 0
        assert out.crs.to_epsg() == 26914
        assert np.array_equal(out.read(), expected)


def test_demo_layer_with_where_filter(demo_home, tmp_path) -> None:
    truth = _truth(demo_home)
    parcels = gpd.read_file(truth, layer="parcels")
    chosen = parcels[parcels["parcel_id"].isin([1, 2, 5])]
    image = truth.parent / "image.tif"
    expected, transform = _rasterio_mask(image, list(chosen.geometry), crop=True)
    result = run_tool("clip", user="alice", home=demo_home, save=False, image=ITEM,
                      area=parcels, where="parcel_id in (1, 2, 5)")
    assert result.data.rio.transform() == transform
    assert np.array_equal(result.data.values, expected)
    assert result.extra["polygons"] == 3
    # the same by a mapping, and a one-layer GeoPackage path (read in EPSG:4326)
    layer = tmp_path / "parcels.gpkg"
    parcels.to_file(layer, layer="parcels", driver="GPKG")
    again = run_tool("clip", user="alice", home=demo_home, save=False, image=ITEM,
                     area=str(layer), where={"parcel_id": [1, 2, 5]})
    assert np.array_equal(again.data.values, expected)
    buildings = gpd.read_file(truth, layer="buildings")
    everything = run_tool("clip", user="alice", home=demo_home, save=False, image=ITEM,
                          area=buildings, crop=False)
    full, _ = _rasterio_mask(image, list(buildings.geometry), crop=False)
    assert np.array_equal(everything.data.values, full)
    with pytest.raises(InputError, match="no attribute 'colour'"):
        run_tool("clip", user="alice", home=demo_home, save=False, image=ITEM, area=parcels,
                 where="colour = 'red'")
    with pytest.raises(InputError, match="matches"):
        run_tool("clip", user="alice", home=demo_home, save=False, image=ITEM, area=parcels,
                 where="parcel_id > 100000")
    with pytest.raises(InputError, match="cannot read"):
        run_tool("clip", user="alice", home=demo_home, save=False, image=ITEM, area=parcels,
                 where="parcel_id ~ 3")


def test_area_outside_the_image_is_a_clear_error(real_data, tmp_path) -> None:
    source = _naip(real_data)
    far = box(116.3, 39.9, 116.4, 40.0)  # Beijing, far from the NAIP tile
    with pytest.raises(InputError, match="overlaps the image"):
        run_tool("clip", user="alice", home=tmp_path, save=False, image=str(source), area=far)
    with pytest.raises(InputError, match="no polygon"):
        run_tool("clip", user="alice", home=tmp_path, save=False, image=str(source),
                 area={"type": "LineString", "coordinates": [[0, 0], [1, 1]]})
    with pytest.raises(ToolParameterError, match="area"):
        run_tool("clip", user="alice", home=tmp_path, save=False, image=str(source))


def _write(path: Path, data: np.ndarray, nodata: float | None = None) -> Path:
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0],
                       count=1, dtype=data.dtype, crs="EPSG:32651", nodata=nodata,
                       transform=Affine(10, 0, 220_000, 0, -10, 3_400_000)) as dst:
        dst.write(data, 1)
    return path


@pytest.mark.parametrize(("dtype", "expected"), [("float32", np.nan), ("uint16", 0),
                                                 ("int16", -32768)])
def test_nodata_chosen_by_type(tmp_path, dtype, expected) -> None:
    image = _write(tmp_path / "in.tif", np.ones((40, 40), dtype=dtype))
    area = box(220_100, 3_399_700, 220_300, 3_399_900)
    frame = gpd.GeoDataFrame(geometry=[area], crs="EPSG:32651")
    result = run_tool("clip", user="alice", home=tmp_path, save=False, image=str(image),
                      area=frame, crop=False)
    values = result.data.values[0]
    assert values.dtype == np.dtype(dtype)
    assert (values[10:30, 10:30] == 1).all() and values[10:30, 10:30].size == 400
    outside = values[0]
    assert np.isnan(outside).all() if np.isnan(expected) else (outside == expected).all()
    assert np.isnan(result.output.nodata) if np.isnan(expected) \
        else result.output.nodata == expected
    custom = run_tool("clip", user="alice", home=tmp_path, save=False, image=str(image),
                      area=frame, nodata=7)
    assert custom.output.nodata == 7 and custom.data.shape == (1, 20, 20)
    if dtype != "float32":
        with pytest.raises(InputError, match="does not fit"):
            run_tool("clip", user="alice", home=tmp_path, save=False, image=str(image),
                     area=frame, nodata=0.5)


def test_stays_lazy_on_a_huge_raster(tmp_path) -> None:
    import dask.array as dsa

    side = 100_000
    transform = Affine(1, 0, 500_000, 0, -1, 4_000_000)
    image = xr.DataArray(dsa.ones((1, side, side), dtype="uint8", chunks=(1, 4096, 4096)),
                         dims=("band", "y", "x"),
                         coords={"band": [1], "y": 4_000_000 - 0.5 - np.arange(side),
                                 "x": 500_000.5 + np.arange(side)})
    image = image.rio.write_crs("EPSG:32650").rio.write_transform(transform)
    area = gpd.GeoDataFrame(geometry=[box(500_000, 3_900_000, 600_000, 4_000_000).buffer(
        -1000).difference(box(540_000, 3_940_000, 560_000, 3_960_000))], crs="EPSG:32650")
    result = run_tool("clip", user="alice", home=tmp_path, save=False, image=image,
                      area=area, crop=False)
    data = result.data
    assert data.shape == (1, side, side) and hasattr(data.data, "dask")
    assert data.data.chunks == image.data.chunks
    corner = data.isel(y=slice(0, 2000), x=slice(0, 2000)).values[0]
    assert (corner[:1000] == 0).all() and (corner[1000:, 1000:] == 1).all()
    hole = data.isel(y=slice(49_000, 51_000), x=slice(49_000, 51_000)).values
    assert (hole == 0).all()
