"""Band math: arithmetic on named bands only; anything else is refused, never evaluated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from terralab.tools.processing.band_math import ExpressionError, parse_expression
from terralab.tools.runner import ToolParameterError, run_tool


@pytest.fixture
def image(tmp_path: Path) -> Path:
    rng = np.random.default_rng(5)
    data = rng.integers(0, 200, size=(4, 32, 48)).astype("uint16")
    data[0, 0, 0] = data[3, 0, 0] = 0          # a zero denominator below
    path = tmp_path / "rgbn.tif"
    with rasterio.open(path, "w", driver="GTiff", width=48, height=32, count=4, dtype="uint16",
                       crs="EPSG:32651", transform=Affine(2, 0, 220_000, 0, -2, 3_400_000)) as dst:
        dst.write(data)
        dst.descriptions = ("red", "green", "blue", "nir")
    return path


@pytest.mark.parametrize("bad", [
    "__import__('os').system('true')", "red.real", "red[0]", "'red'", "lambda: red",
    "red if nir else blue", "red > nir", "open('x')", "sqrt(x=red)", "red @ nir",
    "red // nir", "not red", "Red + 1", "1 + 2", "", "sqrt(red, nir)", "min(red)",
    "red + " * 200 + "red",
])
def test_only_arithmetic_on_band_names_is_accepted(bad):
    with pytest.raises(ExpressionError):
        parse_expression(bad)


def test_band_names_are_found():
    _, names = parse_expression("(nir - red) / (nir + red) + sqrt(abs(b3)) - max(red, 2)")
    assert names == ("nir", "red", "b3")


def test_expression_matches_numpy(image, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    result = run_tool("band_math", user="alice", home=home, image=str(image),
                      expression="(nir - red) / (nir + red) * 2 ** 2 - sqrt(b3) + min(red, 50)",
                      band_name="custom")
    with rasterio.open(image) as src:
        red, _, b3, nir = (src.read(i).astype("float64") for i in (1, 2, 3, 4))
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = (nir - red) / (nir + red) * 4 - np.sqrt(b3) + np.fmin(red, 50)
    with rasterio.open(result.path) as out:
        values = out.read(1)
        assert out.descriptions == ("custom",)
    assert np.isnan(values[0, 0])                                   # 0 / 0 → NaN
    valid = np.isfinite(expected)
    assert np.allclose(values[valid], expected[valid], rtol=1e-5)


def test_bad_expressions_are_parameter_errors(image, tmp_path):
    with pytest.raises(ToolParameterError, match="expression"):
        run_tool("band_math", user="alice", home=tmp_path, image=str(image),
                 expression="__import__('os')")
    with pytest.raises(ToolParameterError, match="band_name"):
        run_tool("band_math", user="alice", home=tmp_path, image=str(image),
                 expression="red", band_name="bad name!")
