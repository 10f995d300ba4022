"""terralab.products: the official conventions, the registry, the reader."""

import json

import numpy as np
import pytest

import terralab.products as tp
from terralab.products.landsat_c2l2 import decode_qa_pixel, encode_qa_pixel, parse_mtl_txt
from terralab.products.sentinel1_grd import from_db
from terralab.products.sentinel2_l2a import boa_add_offset, decode_scl

REAL = {"landsat-c2-l2": "landsat-c2-l2-pc.json", "sentinel-2-l2a": "sentinel-2-l2a-pc.json",
        "sentinel-1-grd": "sentinel-1-rtc-pc.json"}


def test_registry_lists_gets_and_refuses_unknown_ids():
    assert {"landsat-c2-l2", "sentinel-2-l2a", "sentinel-1-grd"} <= set(tp.list_products())
    assert tp.get("landsat-c2-l2").quality == "qa_pixel"
    with pytest.raises(KeyError, match=r"known: .*landsat-c2-l2"):
        tp.get("modis-09a1")


def test_registry_is_frozen_and_register_needs_overwrite():
    registry = tp.default_registry()
    extra = tp.Product(id="my-drone", title="My drone")
    bigger = registry.register(extra)
    assert "my-drone" in bigger and "my-drone" not in registry
    with pytest.raises(ValueError, match="already registered"):
        bigger.register(extra)
    assert bigger.register(extra, overwrite=True).get("my-drone") is extra
    with pytest.raises(TypeError):
        registry.products["x"] = extra  # the mapping is read-only


def test_unknown_collections_fall_back_to_generic():
    assert tp.for_item({"collection": "uploads-alice"}).id == "generic"
    assert tp.for_item({"collection": "sentinel-2-l2a"}).id == "sentinel-2-l2a"


def test_landsat_scale_offset_follow_the_product_guide():
    landsat = tp.get("landsat-c2-l2")
    dn = np.array([0, 7273, 20000, 65535], dtype=np.uint16)
    out = landsat.to_physical("red", dn)
    assert out.dtype == np.float32 and np.isnan(out[0])
    np.testing.assert_allclose(out[1:], dn[1:] * 2.75e-5 - 0.2, atol=1e-6)
    kelvin = landsat.to_physical("lwir11", np.array([43689], dtype=np.uint16))
    np.testing.assert_allclose(kelvin, 43689 * 0.00341802 + 149.0, rtol=1e-6)


def test_qa_pixel_bits_decode_the_official_example_values():
    # LSDS-1619 examples: clear land, clear water, high-conf cloud, shadow, high cirrus, fill
    qa = np.array([21824, 21952, 22280, 23888, 54596, 1], dtype=np.uint16)
    flags = decode_qa_pixel(qa)
    assert flags["clear"].tolist() == [True, True, False, True, True, False]
    assert flags["water"].tolist() == [False, True, False, False, False, False]
    assert flags["cloud"].tolist() == [False, False, True, False, False, False]
    assert flags["cloud_shadow"].tolist() == [False, False, False, True, False, False]
    assert flags["cirrus"].tolist() == [False, False, False, False, True, False]
    assert flags["fill"].tolist() == [False] * 5 + [True]
    assert flags["cloud_confidence"].tolist() == [1, 1, 3, 1, 1, 0]
    assert np.array_equal(encode_qa_pixel(flags, qa.shape), qa)
    landsat = tp.get("landsat-c2-l2")
    assert landsat.cloud_mask(qa).tolist() == [False, False, True, False, True, False]
    assert landsat.shadow_mask(qa).tolist() == [False, False, False, True, False, False]
    assert landsat.water_mask(qa).tolist() == [False, True, False, False, False, False]


def test_sentinel2_offset_depends_on_the_processing_baseline():
    s2 = tp.get("sentinel-2-l2a")
    dn = np.array([0, 1000, 3000], dtype=np.uint16)
    new = s2.to_physical("B04", dn, {"s2:processing_baseline": "05.10"})
    old = s2.to_physical("B04", dn, {"s2:processing_baseline": "03.01"})
    assert np.isnan(new[0]) and np.isnan(old[0])
    np.testing.assert_allclose(new[1:], [0.0, 0.2], atol=1e-6)
    np.testing.assert_allclose(old[1:], [0.1, 0.3], atol=1e-6)
    assert boa_add_offset({"s2:processing_baseline": "04.00"}) == -1000
    assert boa_add_offset({"s2:processing_baseline": "02.14"}) == 0


def test_scl_classes_decode_to_cloud_shadow_and_water():
    scl = np.arange(12, dtype=np.uint8)
    flags = decode_scl(scl)
    assert np.flatnonzero(flags["cloud"]).tolist() == [8, 9]
    assert np.flatnonzero(flags["cirrus"]).tolist() == [10]
    assert np.flatnonzero(flags["cloud_shadow"]).tolist() == [3]
    assert np.flatnonzero(flags["water"]).tolist() == [6]
    s2 = tp.get("sentinel-2-l2a")
    assert np.flatnonzero(s2.cloud_mask(scl)).tolist() == [8, 9, 10]


def test_sentinel1_db_round_trip_and_no_cloud_mask():
    s1 = tp.get("sentinel-1-grd")
    linear = np.array([0.0, 0.01, 1.0], dtype=np.float32)
    assert np.isnan(s1.to_physical("vv", linear)[0])
    np.testing.assert_allclose(tp.to_db(linear[1:]), [-20.0, 0.0], atol=1e-5)
    np.testing.assert_allclose(from_db(np.array([-20.0])), [0.01], rtol=1e-5)
    with pytest.raises(NotImplementedError):
        s1.cloud_mask(linear)


def test_mtl_txt_parses_into_groups():
    text = ('GROUP = LANDSAT_METADATA_FILE\n  GROUP = LEVEL2_SURFACE_REFLECTANCE_PARAMETERS\n'
            '    REFLECTANCE_MULT_BAND_4 = 2.75E-05\n    REFLECTANCE_ADD_BAND_4 = -0.200000\n'
            '  END_GROUP = LEVEL2_SURFACE_REFLECTANCE_PARAMETERS\n'
            'END_GROUP = LANDSAT_METADATA_FILE\nEND\n')
    mtl = parse_mtl_txt(text)
    assert tp.get("landsat-c2-l2").scale_offset_from_mtl(mtl, "red") == (2.75e-5, -0.2)


@pytest.mark.parametrize("collection", sorted(REAL))
def test_products_know_every_asset_key_of_the_real_items(real_data, collection):
    items = json.loads((real_data / "stac_items" / REAL[collection]).read_text())
    product = tp.get(collection)
    for item in items:
        assert set(item["assets"]) <= set(product.assets), item["id"]


def test_landsat_band_metadata_matches_the_real_items(real_data):
    items = json.loads((real_data / "stac_items" / REAL["landsat-c2-l2"]).read_text())
    landsat = tp.get("landsat-c2-l2")
    checked = 0
    for key, asset in items[0]["assets"].items():
        raster = (asset.get("raster:bands") or [None])[0]
        if raster is None or key not in landsat.bands:
            continue
        band = landsat.band(key)
        assert band.dtype == raster["data_type"], key
        assert band.scale == pytest.approx(raster.get("scale", 1.0)), key
        assert band.offset == pytest.approx(raster.get("offset", 0.0)), key
        if "nodata" in raster:
            assert band.nodata == raster["nodata"], key
        common = [b.get("common_name") for b in asset.get("eo:bands", [])]
        if common:
            assert band.common_name == common[0], key
        checked += 1
    assert checked >= 10


def test_real_sentinel2_items_read_with_the_new_offset(real_data):
    items = json.loads((real_data / "stac_items" / REAL["sentinel-2-l2a"]).read_text())
    s2 = tp.get("sentinel-2-l2a")
    for item in items:
        assert s2.scale_offset("B04", item["properties"])[1] == pytest.approx(-0.1)
        for key, asset in item["assets"].items():
            if key in s2.bands and "gsd" in asset:
                assert s2.band(key).resolution == asset["gsd"], key
