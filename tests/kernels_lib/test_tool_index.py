"""Spectral indices: bands by name through the product conventions, checked by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from terralab.tools.inputs import InputError
from terralab.tools.runner import ToolParameterError, run_tool


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def test_ndvi_of_the_sen1floods11_chip_matches_a_hand_computation(real_data, home):
    chip = real_data / "sen1floods11" / "Spain_7370579_S2Hand.tif"
    result = run_tool("index", user="alice", home=home, image=str(chip), index="ndvi")
    with rasterio.open(chip) as src:
        red = src.read(4).astype("float64")   # B4
        nir = src.read(8).astype("float64")   # B8
        nodata = src.nodata
    expected = (nir - red) / (nir + red)
    expected[(red == nodata) | (nir == nodata) | (nir + red == 0)] = np.nan
    with rasterio.open(result.path) as out:
        ndvi = out.read(1)
        assert out.descriptions == ("ndvi",)
        with rasterio.open(chip) as src:
            assert out.crs == src.crs and out.transform.almost_equals(src.transform, 1e-9)
    valid = np.isfinite(expected)
    assert valid.mean() > 0.5
    assert np.array_equal(np.isfinite(ndvi), valid)
    assert np.allclose(ndvi[valid], expected[valid], atol=1e-6)
    assert result.record.kind == "result" and result.record.source_name == "index"


@pytest.mark.parametrize("name", ["rvi", "ndwi", "mndwi", "evi", "savi", "ndbi", "nbr"])
def test_every_index_matches_its_formula(real_data, home, name):
    chip = real_data / "sen1floods11" / "Spain_7370579_S2Hand.tif"
    lazy = run_tool("index", user="alice", home=home, save=False, image=str(chip), index=name,
                    scale=1e-4)
    with rasterio.open(chip) as src:
        b = {key: src.read(i).astype("float64") * 1e-4 for key, i in
             (("blue", 2), ("green", 3), ("red", 4), ("nir", 8), ("swir16", 12),
              ("swir22", 13))}
    formulas = {
        "rvi": b["nir"] / b["red"],
        "ndwi": (b["green"] - b["nir"]) / (b["green"] + b["nir"]),
        "mndwi": (b["green"] - b["swir16"]) / (b["green"] + b["swir16"]),
        "evi": 2.5 * (b["nir"] - b["red"]) / (b["nir"] + 6 * b["red"] - 7.5 * b["blue"] + 1),
        "savi": 1.5 * (b["nir"] - b["red"]) / (b["nir"] + b["red"] + 0.5),
        "ndbi": (b["swir16"] - b["nir"]) / (b["swir16"] + b["nir"]),
        "nbr": (b["nir"] - b["swir22"]) / (b["nir"] + b["swir22"]),
    }
    values = lazy.data.compute().values
    expected = formulas[name]
    valid = np.isfinite(values) & np.isfinite(expected)
    assert valid.mean() > 0.5
    assert np.allclose(values[valid], expected[valid], rtol=1e-4, atol=1e-5)


def test_ndvi_of_a_sentinel2_item_uses_reflectance(demo_home):
    from terralab.catalog.search import search
    from terralab.products import open_band

    item = search(collections="sentinel-2-l2a", limit=1, home=demo_home)[0]
    lazy = run_tool("index", user="alice", home=demo_home, save=False, image=item.id)
    red = open_band(item, "B04").values.astype("float64")     # physical: offset applied
    nir = open_band(item, "B08").values.astype("float64")
    expected = (nir - red) / (nir + red)
    values = lazy.data.values
    valid = np.isfinite(expected)
    assert np.allclose(values[valid], expected[valid], atol=1e-6)
    assert lazy.data.rio.crs == open_band(item, "B04").rio.crs


def test_ndvi_of_an_aerial_image_finds_its_bands_by_name(demo_home):
    from terralab.catalog.search import search

    item = search(collections="demo-aerial", limit=1, home=demo_home)[0]
    lazy = run_tool("index", user="alice", home=demo_home, save=False, image=item.id)
    with rasterio.open(item.assets["image"].href) as src:
        red, nir = (src.read(i).astype("float64") for i in (1, 4))
    expected = np.where(nir + red != 0, (nir - red) / np.where(nir + red == 0, 1, nir + red),
                        np.nan)
    values = lazy.data.values
    valid = np.isfinite(expected)
    assert np.allclose(values[valid], expected[valid], atol=1e-6)


def test_unknown_bands_and_bad_parameters_are_explained(tmp_path, home):
    from affine import Affine

    plain = tmp_path / "plain.tif"
    with rasterio.open(plain, "w", driver="GTiff", width=8, height=8, count=2, dtype="uint8",
                       crs="EPSG:4490", transform=Affine(1e-4, 0, 120, 0, -1e-4, 30)) as dst:
        dst.write(np.ones((2, 8, 8), "uint8"))
    with pytest.raises(InputError, match="band_map"):
        run_tool("index", user="alice", home=home, save=False, image=str(plain))
    lazy = run_tool("index", user="alice", home=home, save=False, image=str(plain),
                    band_map={"nir": 2, "red": 1})
    assert float(lazy.data.mean()) == 0.0
    with pytest.raises(ToolParameterError, match="index"):
        run_tool("index", user="alice", home=home, image=str(plain), index="ndxx")
    with pytest.raises(ToolParameterError, match="savi_l"):
        run_tool("index", user="alice", home=home, image=str(plain), savi_l=3)
