"""The thumbnails of typical results (scripts/tool_thumbnails.py) on the small demo region."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
SHIPPED = resources.files("terralab.widgets") / "thumbnails"


@pytest.fixture
def script(monkeypatch):
    """The script as a module."""
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import tool_thumbnails

    return tool_thumbnails


def _pixels(path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.size == (160, 120)
        return np.asarray(image.convert("RGBA"), dtype=float)


def test_only_index_draws_the_ndvi_of_the_demo(script, demo_home, tmp_path, capsys) -> None:
    out = tmp_path / "thumbnails"
    assert script.main(["--only", "index", "--out", str(out), "--home", str(demo_home)]) == 0
    assert [p.name for p in out.iterdir()] == ["index.png"]
    pixels = _pixels(out / "index.png")
    assert (out / "index.png").stat().st_size < 30_000
    blank = np.zeros_like(pixels)
    assert np.abs(pixels - blank).mean() > 50 and pixels[..., :3].std() > 20
    # the NDVI colour map: green fields and red built-up or water, both present
    rgb = pixels[..., :3]
    green = (rgb[..., 1] > rgb[..., 0] + 30).mean()
    red = (rgb[..., 0] > rgb[..., 1] + 60).mean()
    assert green > 0.3 and red > 0.02, (green, red)
    # the same pixels as the shipped thumbnail: the script is deterministic
    difference = np.abs(pixels - _pixels(SHIPPED / "index.png")).mean()
    assert difference < 2, ("the shipped thumbnail is not what the script draws now: "
                            "run python scripts/tool_thumbnails.py --only index")
    assert "index:" in capsys.readouterr().out


def test_a_deep_tool_without_a_model_is_skipped(script, demo_home, tmp_path, capsys) -> None:
    out = tmp_path / "thumbnails"
    script.main(["--only", "building_extraction", "--out", str(out), "--home", str(demo_home)])
    assert not (out / "building_extraction.png").exists()
    assert "skipped building_extraction: needs a model" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        script.main(["--only", "no_such_tool", "--out", str(out)])
