import json

import numpy as np
import pystac
import pytest
import rasterio

from terralab.demo import demo_data_exists, write_demo_data
from terralab.landcover import CLASSES


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    return home, write_demo_data(home, size=512, seed=7)


def test_every_file_is_a_georeferenced_cog(demo):
    _, data = demo
    assert len(data.files) == 5
    for path in data.files:
        with rasterio.open(path) as src:
            assert src.driver == "GTiff"
            assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG", path
            assert src.overviews(1), f"{path} has no overviews"
            assert src.crs.to_epsg() == 32651
            assert src.res == (0.5, 0.5)
            assert src.width == src.height == 512


def test_image_is_4_band_uint8_and_labels_use_the_10_classes(demo):
    _, data = demo
    image = next(p for p in data.files if p.name == "image.tif")
    with rasterio.open(image) as src:
        assert (src.count, src.dtypes[0]) == (4, "uint8")
        assert src.tags()["BAND_NAMES"] == "red,green,blue,nir"
    labels = next(p for p in data.files if p.name == "landcover.tif")
    with rasterio.open(labels) as src:
        values = set(np.unique(src.read(1)).tolist())
    assert values <= {c.code for c in CLASSES}
    assert {1, 4, 9} <= values  # cropland, building and water are all present


def test_water_is_dark_in_nir(demo):
    _, data = demo
    folder = data.files[0].parent
    with rasterio.open(folder / "image.tif") as img, rasterio.open(folder / "landcover.tif") as lc:
        nir, classes = img.read(4), lc.read(1)
    assert nir[classes == 9].mean() < 60 < nir[classes == 1].mean()


def test_change_mask_matches_the_two_label_maps(demo):
    _, data = demo
    before, after = sorted({p.parent for p in data.files})
    with rasterio.open(before / "landcover.tif") as a, rasterio.open(after / "landcover.tif") as b:
        changed = a.read(1) != b.read(1)
    with rasterio.open(after / "change.tif") as mask:
        assert np.array_equal(mask.read(1).astype(bool), changed)
    assert changed.any()


def test_stac_catalog_lists_both_dates_with_existing_assets(demo):
    home, data = demo
    catalog = pystac.Catalog.from_file(str(data.catalog))
    items = sorted(catalog.get_items(recursive=True), key=lambda i: i.datetime)
    assert [i.datetime.year for i in items] == [2024, 2025]
    for item in items:
        assert item.properties["proj:code"] == "EPSG:32651"
        lon_min, lat_min, lon_max, lat_max = item.bbox
        assert 119.5 < lon_min < lon_max < 120.5 and 30.0 < lat_min < lat_max < 31.0
        for asset in item.assets.values():
            assert (data.catalog.parent / asset.get_absolute_href()).exists()
    assert demo_data_exists(home)


def test_same_seed_same_pixels_other_seed_other_pixels(tmp_path):
    a = write_demo_data(tmp_path / "a", size=256, seed=3)
    b = write_demo_data(tmp_path / "b", size=256, seed=3)
    c = write_demo_data(tmp_path / "c", size=256, seed=4)
    read = lambda d: rasterio.open(d.files[0]).read()  # noqa: E731
    assert np.array_equal(read(a), read(b))
    assert not np.array_equal(read(a), read(c))


def test_incomplete_demo_data_is_not_taken_as_present(tmp_path):
    write_demo_data(tmp_path, size=256)
    marker = tmp_path / "catalog" / "demo" / "demo.json"
    marker.write_text(json.dumps({"version": "0.0.0"}))
    assert not demo_data_exists(tmp_path)
    marker.unlink()
    assert not demo_data_exists(tmp_path)
