"""Class maps on the tile endpoint: ``colormap`` as JSON class colours, background transparent."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import morecantile
import numpy as np
import pytest
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.transform import from_bounds

from terralab.tiles import TileParameterError, render_tile, resolve_tile_source
from terralab.tiles.params import parse_colormap

TMS = morecantile.tms.get("WebMercatorQuad")
ZOOM = 16
WATER, LAND, NODATA = 1, 0, 255


def _decode(png: bytes) -> np.ndarray:
    with warnings.catch_warnings(), MemoryFile(png) as memory:
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with memory.open() as src:
            return src.read()


@pytest.fixture
def mask(tmp_path: Path) -> tuple[Path, np.ndarray, morecantile.Tile]:
    """alice's water mask: one tile of 0 (land), 1 (water) and 255 (nodata) stripes."""
    tile = TMS.tile(119.93, 30.59, ZOOM)
    left, bottom, right, top = TMS.xy_bounds(tile)
    codes = np.full((256, 256), LAND, dtype=np.uint8)
    codes[:, 100:160] = WATER
    codes[:20, :] = NODATA
    home = tmp_path / "home"
    path = home / "users" / "alice" / "results" / "water.tif"
    path.parent.mkdir(parents=True)
    with rasterio.open(path, "w", driver="GTiff", width=256, height=256, count=1,
                       dtype="uint8", crs="EPSG:3857", nodata=NODATA,
                       transform=from_bounds(left, bottom, right, top, 256, 256)) as dst:
        dst.write(codes, 1)
    return home, codes, tile


def test_class_colours_leave_the_background_transparent(mask) -> None:
    home, codes, tile = mask
    source = resolve_tile_source("alice", path="results/water.tif", home=home)
    png = render_tile(source, ZOOM, tile.x, tile.y, colormap=json.dumps({"1": "#1f78b4"}))
    rgba = _decode(png)
    assert rgba.shape == (4, 256, 256)
    water = codes == WATER
    assert (rgba[3][water] == 255).all()
    assert (np.moveaxis(rgba[:3], 0, -1)[water] == (0x1F, 0x78, 0xB4)).all()
    assert (rgba[3][~water] == 0).all()  # land (class 0) and nodata show what is under them


def test_class_colours_with_alpha_and_two_classes(mask) -> None:
    home, codes, tile = mask
    source = resolve_tile_source("alice", path="results/water.tif", home=home)
    table = {"0": [200, 200, 200, 128], "1": "#00f"}
    rgba = _decode(render_tile(source, ZOOM, tile.x, tile.y, colormap=json.dumps(table)))
    assert (rgba[3][codes == LAND] == 128).all() and (rgba[3][codes == NODATA] == 0).all()
    assert (rgba[2][codes == WATER] == 255).all() and (rgba[0][codes == WATER] == 0).all()


def test_the_grey_default_is_what_class_colours_replace(mask) -> None:
    """Without class colours a 0/1 mask is an opaque dark square over everything under it."""
    home, codes, tile = mask
    source = resolve_tile_source("alice", path="results/water.tif", home=home)
    grey = _decode(render_tile(source, ZOOM, tile.x, tile.y))
    assert (grey[-1][codes == LAND] == 255).all()


@pytest.mark.parametrize(("value", "message"), [
    ("{", "not valid JSON"), ("{}", "JSON object"), ('{"x": "#fff"}', "whole number"),
    ('{"1": "blue"}', "#rrggbb"), ('{"1": [1, 2]}', "#rrggbb"),
    ('{"1": [256, 0, 0]}', "0…255"), ('{"1": [1, 2, true]}', "0…255"),
    ("[1]", "unknown colormap")])
def test_bad_class_colours_are_refused(value: str, message: str) -> None:
    with pytest.raises(TileParameterError, match=message):
        parse_colormap(value, 1)


def test_class_colours_parse_and_colour_one_band() -> None:
    assert parse_colormap('{"1": "#1f78b4", "2": "#abc", "3": "#01020380"}', 1) == {
        1: (0x1F, 0x78, 0xB4, 255), 2: (0xAA, 0xBB, 0xCC, 255), 3: (1, 2, 3, 128)}
    with pytest.raises(TileParameterError, match="one band"):
        parse_colormap('{"1": "#fff"}', 3)
