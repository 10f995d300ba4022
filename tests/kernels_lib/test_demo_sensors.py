"""The demo satellite scenes read back through terralab.products match the generator."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pystac
import pytest
import rasterio

import terralab.products as tp
from terralab.demo import write_demo_data
from terralab.demo.grid import block_mode
from terralab.demo.spectra import NOISE, SIGMA0_DB, class_reflectance
from terralab.demo.truth import acquisition, optical_masks, scene_landcover
from terralab.products.landsat_c2l2 import parse_mtl_txt

SIZE, SEED = 256, 11
WATER, FOREST, CROP = 9, 2, 1


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    data = write_demo_data(home, size=SIZE, seed=SEED)
    return pystac.Catalog.from_file(str(data.catalog))


def _items(catalog, collection):
    return sorted(catalog.get_child(collection).get_items(), key=lambda i: i.datetime)


def _read(item, key):
    with rasterio.open(item.assets[key].get_absolute_href()) as src:
        return src.read(1)


def test_asset_keys_and_properties_follow_the_real_collections(catalog, real_data):
    real = {"landsat-c2-l2": "landsat-c2-l2-pc.json", "sentinel-2-l2a": "sentinel-2-l2a-pc.json",
            "sentinel-1-grd": "sentinel-1-rtc-pc.json"}
    for collection, name in real.items():
        samples = json.loads((real_data / "stac_items" / name).read_text())
        keys = set().union(*(s["assets"] for s in samples))
        props = set().union(*(s["properties"] for s in samples)) - {"proj:epsg", "proj:bbox"}
        for item in _items(catalog, collection):
            assert set(item.assets) <= keys, (item.id, set(item.assets) - keys)
            ours = {"proj:code", "proj:shape", "proj:transform", "gsd", "datetime"}
            assert set(item.properties) - ours <= props, item.id
    landsat = _items(catalog, "landsat-c2-l2")
    assert {i.properties["platform"] for i in landsat} == {"landsat-8", "landsat-9"}
    assert landsat[1].id == "LC09_L2SP_119039_20240510_02_T1"
    s2 = _items(catalog, "sentinel-2-l2a")[1]
    assert s2.id.startswith("S2A_MSIL2A_20240512T023551_R089_T51RTP_")
    assert s2.properties["s2:processing_baseline"] == "05.10"
    s1 = _items(catalog, "sentinel-1-grd")[0]
    assert s1.id.startswith("S1A_IW_GRDH_1SDV_2024")
    assert s1.properties["sar:instrument_mode"] == "IW"
    assert s1.properties["sar:polarizations"] == ["VV", "VH"]


def test_landsat_qa_pixel_decodes_to_the_generator_masks(catalog):
    landsat = tp.get("landsat-c2-l2")
    cloudy = 0
    for item in _items(catalog, "landsat-c2-l2"):
        flags = landsat.decode_quality(_read(item, "qa_pixel"))
        truth = optical_masks(item.id, size=SIZE, seed=SEED)
        for name in ("cloud", "dilated_cloud", "cirrus", "cloud_shadow", "water", "clear",
                     "cloud_confidence"):
            assert np.array_equal(flags[name], truth[name]), (item.id, name)
        cover = 100 * (flags["cloud"] | flags["cirrus"]).mean()
        assert item.properties["eo:cloud_cover"] == pytest.approx(cover, abs=0.006)
        cloudy += bool(flags["cloud"].any())
    assert cloudy >= 4


def test_sentinel2_scl_decodes_to_the_generator_masks(catalog):
    s2 = tp.get("sentinel-2-l2a")
    for item in _items(catalog, "sentinel-2-l2a"):
        scl = _read(item, "SCL")
        flags = s2.decode_quality(scl)
        truth = optical_masks(item.id, size=SIZE, seed=SEED)
        for name, mask in truth.items():
            assert np.array_equal(flags[name], mask), (item.id, name)
        cover = 100 * np.isin(scl, (8, 9, 10)).mean()
        assert item.properties["eo:cloud_cover"] == pytest.approx(cover, abs=1e-5)


def test_cloud_covers_spread_so_a_max_cloud_filter_matters(catalog):
    covers = [i.properties["eo:cloud_cover"] for c in ("landsat-c2-l2", "sentinel-2-l2a")
              for i in _items(catalog, c)]
    assert min(covers) < 10 and max(covers) > 50
    assert any(15 <= c <= 45 for c in covers)


def _clean(flags):
    return ~(flags["cloud"] | flags["cirrus"] | flags["cloud_shadow"]
             | flags.get("dilated_cloud", False))


@pytest.mark.parametrize("key", ["blue", "red", "nir08", "swir16"])
def test_landsat_reflectance_is_the_generator_spectrum(catalog, key):
    landsat = tp.get("landsat-c2-l2")
    band = landsat.band(key)
    for item in _items(catalog, "landsat-c2-l2"):
        reflectance = landsat.to_physical(key, _read(item, key), item.properties)
        clean = _clean(landsat.decode_quality(_read(item, "qa_pixel")))
        classes = block_mode(scene_landcover(item.id, size=SIZE, seed=SEED), 3)
        when = acquisition(item.id).datetime
        for code in np.unique(classes):
            pixels = reflectance[clean & (classes == code)]
            if pixels.size < 30:
                continue
            expected = class_reflectance(int(code), band.wavelength, when)
            assert np.median(pixels) == pytest.approx(expected, abs=3 * NOISE * expected + 0.01)


def test_sentinel2_reflectance_separates_water_and_vegetation(catalog):
    s2 = tp.get("sentinel-2-l2a")
    item = _items(catalog, "sentinel-2-l2a")[1]  # May 2024, 2 % cloud
    clean = np.repeat(np.repeat(_clean(s2.decode_quality(_read(item, "SCL"))), 2, 0), 2, 1)
    red = s2.to_physical("B04", _read(item, "B04"), item.properties)
    nir = s2.to_physical("B08", _read(item, "B08"), item.properties)
    classes = scene_landcover(item.id, size=SIZE, seed=SEED)
    ndvi = (nir - red) / (nir + red)
    assert np.median(nir[clean & (classes == WATER)]) < 0.05
    assert np.median(ndvi[clean & (classes == WATER)]) < 0
    assert np.median(ndvi[clean & (classes == FOREST)]) > 0.6
    expected = class_reflectance(FOREST, 0.842, item.datetime)
    assert np.median(nir[clean & (classes == FOREST)]) == pytest.approx(expected, rel=0.1)


def test_clouds_are_bright_in_the_optical_bands(catalog):
    s2 = tp.get("sentinel-2-l2a")
    item = max(_items(catalog, "sentinel-2-l2a"), key=lambda i: i.properties["eo:cloud_cover"])
    blue = s2.to_physical("B02", _read(item, "B02"), item.properties)
    cloud = np.repeat(np.repeat(_read(item, "SCL") == 9, 2, 0), 2, 1)
    assert np.median(blue[cloud]) > 0.5 > np.median(blue[~cloud])


def test_sentinel1_water_is_dark_and_vh_below_vv(catalog):
    s1 = tp.get("sentinel-1-grd")
    for item in _items(catalog, "sentinel-1-grd"):
        classes = scene_landcover(item.id, size=SIZE, seed=SEED)
        vv = tp.to_db(s1.to_physical("vv", _read(item, "vv")))
        vh = tp.to_db(s1.to_physical("vh", _read(item, "vh")))
        assert np.median(vv[classes != WATER]) - np.median(vv[classes == WATER]) > 10
        assert np.median(vv[classes == WATER]) == pytest.approx(SIGMA0_DB[WATER][0] - 1.6,
                                                                abs=1.5)  # speckle bias
        assert 5 < np.median(vv - vh) < 9


def test_landsat_mtl_holds_the_scale_factors(catalog):
    landsat = tp.get("landsat-c2-l2")
    item = _items(catalog, "landsat-c2-l2")[0]
    txt = parse_mtl_txt(Path(item.assets["mtl.txt"].get_absolute_href()).read_text())
    js = json.loads(Path(item.assets["mtl.json"].get_absolute_href()).read_text())
    assert txt == js
    for key in ("coastal", "red", "swir22", "lwir11"):
        scale, offset = landsat.scale_offset_from_mtl(js, key)
        assert (scale, offset) == pytest.approx(landsat.scale_offset(key))


def test_changes_show_in_the_satellite_scenes_after_the_change_date(catalog):
    items = _items(catalog, "sentinel-1-grd")
    before = [i for i in items if not acquisition(i.id).after_change]
    after = [i for i in items if acquisition(i.id).after_change]
    assert before and after
    maps = {i.id: scene_landcover(i.id, size=SIZE, seed=SEED) for i in items}
    assert all(np.array_equal(maps[i.id], maps[before[0].id]) for i in before)
    assert all(np.array_equal(maps[i.id], maps[after[0].id]) for i in after)
    assert not np.array_equal(maps[before[0].id], maps[after[0].id])


def test_open_band_reads_lazily_in_physical_units(catalog):
    landsat_item = _items(catalog, "landsat-c2-l2")[1]
    red = tp.open_band(landsat_item, "red", chunks=64)
    assert red.dtype == np.float32
    if importlib.util.find_spec("dask") is not None:
        assert red.chunks is not None
    expected = tp.get("landsat-c2-l2").to_physical("red", _read(landsat_item, "red"))
    np.testing.assert_allclose(red.values, expected, rtol=1e-6, equal_nan=True)
    assert red.rio.crs.to_epsg() == 32651
    qa = tp.open_band(landsat_item, "qa_pixel")
    assert qa.dtype == np.uint16
    s2_item = _items(catalog, "sentinel-2-l2a")[1]
    as_dict = s2_item.to_dict()  # relative hrefs, resolved against the self link
    b8a = tp.open_band(as_dict, "B8A")
    np.testing.assert_allclose(
        b8a.values, (_read(s2_item, "B8A").astype(np.float32) - 1000) / 10000, atol=1e-6)
    with pytest.raises(KeyError, match="no band"):
        tp.open_band(s2_item, "B10")


def test_open_band_reads_an_unregistered_item_from_its_metadata(catalog):
    item = _items(catalog, "demo-aerial")[0].clone()
    item.collection_id = "uploads-alice"
    image = tp.open_band(item, "image")
    assert image.sizes["band"] == 4 and image.dtype == np.float32
    aerial = tp.open_band(_items(catalog, "demo-aerial")[0], "nir")
    assert aerial.dims == ("y", "x")
