"""Map tiles: who may read what, and tiles whose pixels are the source's pixels."""

from __future__ import annotations

import os
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import morecantile
import numpy as np
import pytest
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.shutil import copy as rio_copy
from rasterio.transform import from_bounds, from_origin, rowcol
from rasterio.warp import transform

from terralab.catalog.index import CatalogIndex, default_index_path
from terralab.home import user_dir
from terralab.tiles import (
    TileAccessError,
    TileNotFound,
    TileOutside,
    TileParameterError,
    check_user_path,
    render_tile,
    resolve_tile_source,
    tile_info,
)

TMS = morecantile.tms.get("WebMercatorQuad")
ANCHOR = (119.93, 30.59)  # the demo region (Deqing)
PATTERN_ZOOM = 16
STATS = {"minimum": 1, "maximum": 255, "mean": 128, "stddev": 70, "valid_percent": 98.4,
         "percentile_2": 10, "percentile_98": 240}


@dataclass
class TilesHome:
    """A terralab home for tile tests: the demo index plus alice's and bob's data."""

    home: Path
    pattern: np.ndarray  # alice's uploads/p/data.tif, (3, 512, 512) uint8, 0 = nodata
    tile: morecantile.Tile  # the top-left tile of the pattern at PATTERN_ZOOM


def write_pattern_cog(path: Path, *, seed: int = 7) -> tuple[np.ndarray, morecantile.Tile]:
    """Write a 3-band uint8 COG on the WebMercatorQuad grid: 2×2 tiles at PATTERN_ZOOM.

    Random values 1…255 with a nodata (0) block in the top-left corner, so a tile of it is
    exactly a 256×256 window of the array.
    """
    tile = TMS.tile(*ANCHOR, PATTERN_ZOOM)
    left, _, right, top = TMS.xy_bounds(tile)
    data = np.random.default_rng(seed).integers(1, 256, (3, 512, 512), dtype=np.uint8)
    data[:, :64, :64] = 0
    profile = {"driver": "GTiff", "count": 3, "height": 512, "width": 512, "dtype": "uint8",
               "crs": "EPSG:3857", "nodata": 0,
               "transform": from_origin(left, top, (right - left) / 256, (right - left) / 256)}
    path.parent.mkdir(parents=True, exist_ok=True)
    with MemoryFile() as memory, memory.open(**profile) as tmp:
        tmp.write(data)
        rio_copy(tmp, path, driver="COG", compress="DEFLATE", blocksize=256)
    return data, tile


def user_item(item_id: str, path: Path, tile: morecantile.Tile) -> dict:
    """A my-data style item: one asset 'data', bands named blue, green, red (BGR order)."""
    west, south, east, north = TMS.bounds(tile)
    return {
        "type": "Feature", "stac_version": "1.1.0", "id": item_id, "collection": "my-data",
        "bbox": [west, south, east, north],
        "geometry": {"type": "Polygon", "coordinates": [[[west, south], [east, south],
                                                         [east, north], [west, north],
                                                         [west, south]]]},
        "properties": {"datetime": "2025-05-01T00:00:00Z"}, "links": [],
        "assets": {"data": {
            "href": str(path), "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "roles": ["data"],
            "eo:bands": [{"name": n, "common_name": n} for n in ("blue", "green", "red")],
            "raster:bands": [{"data_type": "uint8", "nodata": 0, "statistics": STATS}] * 3}},
    }


def make_tiles_home(root: Path, demo_home: Path) -> TilesHome:
    """Copy the demo index into ``root`` and add alice's and bob's files and items."""
    (root / "catalog").mkdir(parents=True)
    for file in (demo_home / "catalog").glob("index.sqlite*"):
        shutil.copy(file, root / "catalog" / file.name)
    alice, bob = user_dir("alice", home=root), user_dir("bob", home=root)
    pattern, tile = write_pattern_cog(alice / "uploads" / "p" / "data.tif")
    write_pattern_cog(bob / "secret.tif", seed=8)
    (alice / "link-to-bob.tif").symlink_to(bob / "secret.tif")
    (alice / "bob-folder").symlink_to(bob, target_is_directory=True)
    (alice / "disguised.tif").write_text(
        f'<VRTDataset rasterXSize="512" rasterYSize="512"><VRTRasterBand dataType="Byte" '
        f'band="1"><SimpleSource><SourceFilename relativeToVRT="0">{bob / "secret.tif"}'
        f"</SourceFilename><SourceBand>1</SourceBand></SimpleSource></VRTRasterBand>"
        f"</VRTDataset>")
    (alice / "loop.tif").symlink_to(alice / "loop.tif")
    os.mkfifo(alice / "pipe.tif")
    with CatalogIndex(default_index_path(root)) as index:
        index.add_items([user_item("alice-field", alice / "uploads/p/data.tif", tile),
                         user_item("alice-escape", bob / "secret.tif", tile)], owner="alice")
        index.add_items([user_item("bob-field", bob / "secret.tif", tile)], owner="bob")
        remote = user_item("remote-scene", Path("x"), tile)
        remote["collection"] = "remote-demo"
        remote["assets"]["data"]["href"] = "https://example.com/scene.tif"
        index.add_items([remote])
    return TilesHome(root, pattern, tile)


def decode(png: bytes) -> np.ndarray:
    """Return the bands of a PNG (RGBA, or grey + alpha)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with warnings.catch_warnings(), MemoryFile(png) as memory:
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with memory.open() as src:
            return src.read()


@pytest.fixture(autouse=True)
def demo_root(demo_home, monkeypatch) -> None:
    """The demo catalog is a data root here: the tiles home reads the demo home's files."""
    monkeypatch.setenv("TERRALAB_CATALOG_ROOTS", str(demo_home / "catalog"))


@pytest.fixture(scope="module")
def th(tmp_path_factory, demo_home) -> TilesHome:
    return make_tiles_home(tmp_path_factory.mktemp("tiles-home"), demo_home)


def source_of(th: TilesHome, **kwargs):
    return resolve_tile_source("alice", home=th.home, **kwargs)


# -- access --------------------------------------------------------------------------------

BAD_PATHS = [
    "/etc/passwd", "../bob/secret.tif", "uploads/../../bob/secret.tif", "uploads/..",
    "/vsicurl/http://example.com/a.tif", "/vsizip/x.zip/a.tif", "WMTS:http://example.com",
    "GTIFF_RAW:uploads/p/data.tif", "http://example.com/a.tif", "file:///etc/passwd",
    "C:/a.tif", "uploads/p/data.tif\x00", "", "uploads\\..\\x.tif", "~/x.tif",
]


@pytest.mark.parametrize("path", BAD_PATHS)
def test_bad_paths_are_refused(th, path):
    with pytest.raises(TileAccessError) as caught:
        source_of(th, path=path)
    assert isinstance(caught.value, PermissionError) and str(caught.value)


def test_good_paths_are_relative_to_the_users_folder(th):
    assert str(check_user_path("./uploads//p/data.tif")) == "uploads/p/data.tif"
    assert str(check_user_path("a..b.tif")) == "a..b.tif"
    source = source_of(th, path="./uploads/p/data.tif")
    assert source.owner == "alice" and source.root == user_dir("alice", home=th.home)
    assert [b.name for b in source.bands] == ["b1", "b2", "b3"]


@pytest.mark.parametrize("path", ["link-to-bob.tif", "bob-folder/secret.tif"])
def test_links_out_of_the_folder_are_refused(th, path):
    with pytest.raises(TileAccessError, match="outside your folder"):
        source_of(th, path=path)


def test_a_link_loop_is_refused(th):
    with pytest.raises(TileAccessError):
        source_of(th, path="loop.tif")


def test_a_vrt_named_tif_is_refused(th):
    with pytest.raises(TileAccessError, match="not a GeoTIFF"):
        source_of(th, path="disguised.tif")


def test_a_fifo_is_refused_without_hanging(th):
    started = time.monotonic()
    with pytest.raises(TileAccessError, match="not a regular file"):
        source_of(th, path="pipe.tif")
    assert time.monotonic() - started < 5


def test_a_missing_file_is_not_found(th):
    with pytest.raises(TileNotFound):
        source_of(th, path="uploads/none.tif")


def test_the_opened_file_is_checked_again(tmp_path, th):
    """A file swapped for a link to another user's file after the check is refused."""
    folder = user_dir("alice", home=tmp_path)
    write_pattern_cog(folder / "x.tif")
    source = resolve_tile_source("alice", path="x.tif", home=tmp_path)
    (folder / "x.tif").unlink()
    (folder / "x.tif").symlink_to(user_dir("bob", home=th.home) / "secret.tif")
    with pytest.raises(TileAccessError, match="outside your folder"):
        render_tile(source, PATTERN_ZOOM, th.tile.x, th.tile.y)


def test_another_users_item_is_not_found_like_a_missing_one(th):
    with pytest.raises(TileNotFound) as other:
        source_of(th, item="bob-field")
    with pytest.raises(TileNotFound) as missing:
        source_of(th, item="no-such-item")
    assert str(other.value).replace("bob-field", "X") == \
        str(missing.value).replace("no-such-item", "X")
    assert resolve_tile_source("bob", item="bob-field", home=th.home).owner == "bob"


def test_own_item_pointing_into_another_folder_is_refused(th):
    with pytest.raises(TileAccessError, match="outside the folder of alice"):
        source_of(th, item="alice-escape")


def test_remote_assets_are_not_tiled(th):
    with pytest.raises(TileAccessError, match="remote"):
        source_of(th, item="remote-scene")


def test_exactly_one_of_item_and_path(th):
    with pytest.raises(TileParameterError):
        source_of(th)
    with pytest.raises(TileParameterError):
        source_of(th, item="alice-field", path="uploads/p/data.tif")
    with pytest.raises(TileNotFound, match="no asset"):
        source_of(th, item="alice-field", asset="nope")


# -- pixels --------------------------------------------------------------------------------


def test_tile_pixels_are_the_source_pixels(th):
    source = source_of(th, path="uploads/p/data.tif")
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        rgba = decode(render_tile(source, PATTERN_ZOOM, th.tile.x + dx, th.tile.y + dy))
        window = th.pattern[:, dy * 256:(dy + 1) * 256, dx * 256:(dx + 1) * 256]
        assert rgba.shape == (4, 256, 256)
        valid = window.all(axis=0)
        assert np.array_equal(rgba[3], np.where(valid, 255, 0))
        assert np.array_equal(rgba[:3][:, valid], window[:, valid])
    # the nodata corner is transparent
    first = decode(render_tile(source, PATTERN_ZOOM, th.tile.x, th.tile.y))
    assert (first[3, :64, :64] == 0).all() and (first[3, 64:, 64:] == 255).all()


def test_512_pixel_tiles_and_a_zoomed_in_tile(th):
    source = source_of(th, path="uploads/p/data.tif")
    big = decode(render_tile(source, PATTERN_ZOOM, th.tile.x, th.tile.y, tilesize=512))
    assert big.shape == (4, 512, 512)
    assert np.array_equal(big[:3, 100:300:2, 100:300:2], th.pattern[:, 50:150, 50:150])
    child = decode(render_tile(source, PATTERN_ZOOM + 1, 2 * th.tile.x + 1, 2 * th.tile.y))
    assert np.array_equal(child[:3, ::2, ::2], th.pattern[:, :128, 128:256])


def test_demo_aerial_tile_matches_the_source_pixels(th, demo_home):
    """Each tile pixel is a source pixel at (or next to) the pixel centre's position.

    The source is in UTM, so tile pixels map onto source pixels through a reprojection:
    nearest-neighbour resampling picks the source pixel under the centre, give or take one
    pixel (rio-tiler warps at the source resolution, then sizes the tile).
    """
    source = source_of(th, item="deqing-aerial-20240510")
    info = tile_info(source)
    z = info["maxzoom"]
    tile = TMS.tile(*info["center"][:2], z)
    rgba = decode(render_tile(source, z, tile.x, tile.y))
    left, _, right, top = TMS.xy_bounds(tile)
    step = (right - left) / 256
    cols, rows = np.meshgrid(np.arange(256) + 0.5, np.arange(256) + 0.5)
    image = next((demo_home / "catalog").rglob("deqing-aerial-20240510/image.tif"))
    with rasterio.open(image) as src:
        data = src.read([1, 2, 3])
        xs, ys = transform("EPSG:3857", src.crs, (left + cols * step).ravel(),
                           (top - rows * step).ravel())
        r, c = rowcol(src.transform, xs, ys)
    r, c = np.asarray(r).reshape(256, 256), np.asarray(c).reshape(256, 256)
    inside = (r >= 1) & (r < data.shape[1] - 1) & (c >= 1) & (c < data.shape[2] - 1)
    assert inside.sum() > 5000  # the image covers much of this tile
    near = np.zeros((256, 256), dtype=bool)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            rr, cc = np.clip(r + dr, 0, data.shape[1] - 1), np.clip(c + dc, 0, data.shape[2] - 1)
            near |= (data[:, rr, cc] == rgba[:3]).all(axis=0)
    shown = inside & (rgba[3] == 255)
    assert shown.sum() > 0.99 * inside.sum()
    assert near[shown].mean() > 0.995
    outside = (r < -1) | (r > data.shape[1]) | (c < -1) | (c > data.shape[2])
    assert outside.any() and (rgba[3][outside] == 0).all()


def test_sentinel2_tile_is_the_preset_of_three_files(th, demo_home):
    from rio_tiler.io import Reader

    source = source_of(th, item="S2A_MSIL2A_20250507T023551_R089_T51RTP_20250507T061010")
    assert [b.name for b in source.pick(None)] == ["B04", "B03", "B02"]
    info = tile_info(source)
    tile = TMS.tile(*info["center"][:2], info["maxzoom"])
    rgba = decode(render_tile(source, tile.z, tile.x, tile.y))
    for channel, band in enumerate(source.pick(None)):
        with Reader(str(band.path)) as reader:
            dn = reader.tile(tile.x, tile.y, tile.z, nodata=0).array[0]
        reflectance = dn.data.astype(np.float64) * 1e-4 - 0.1
        expected = np.clip(np.round(reflectance / 0.3 * 255), 0, 255)
        valid = ~np.ma.getmaskarray(dn) & (rgba[3] == 255)
        assert valid.mean() > 0.3
        assert np.abs(rgba[channel][valid] - expected[valid]).max() <= 1


def test_rescale_stretches_each_band(th):
    source = source_of(th, path="uploads/p/data.tif")
    x, y = th.tile.x + 1, th.tile.y + 1
    window = th.pattern[:, 256:, 256:].astype(np.float64)
    one = decode(render_tile(source, PATTERN_ZOOM, x, y, rescale="0,127.5"))
    assert np.array_equal(one[:3], np.clip(np.round(window * 2), 0, 255))
    per_band = decode(render_tile(source, PATTERN_ZOOM, x, y,
                                  rescale=[(0, 255), (0, 127.5), (100, 200)]))
    assert np.array_equal(per_band[0], window[0])
    assert np.array_equal(per_band[1], np.clip(np.round(window[1] * 2), 0, 255))
    expected = np.clip(np.round((window[2] - 100) * 2.55), 0, 255)
    assert np.abs(per_band[2] - expected).max() <= 1  # float32 rounding at .5


def test_bands_choose_and_reorder(th):
    source = source_of(th, path="uploads/p/data.tif")
    x, y = th.tile.x + 1, th.tile.y + 1
    window = th.pattern[:, 256:, 256:]
    swapped = decode(render_tile(source, PATTERN_ZOOM, x, y, bands="3,2,1"))
    assert np.array_equal(swapped[:3], window[::-1])
    grey = decode(render_tile(source, PATTERN_ZOOM, x, y, bands="b2"))
    assert grey.shape == (2, 256, 256) and np.array_equal(grey[0], window[1])


def test_colormap_colours_one_band(th):
    from rio_tiler.colormap import cmap

    source = source_of(th, path="uploads/p/data.tif")
    x, y = th.tile.x + 1, th.tile.y + 1
    rgba = decode(render_tile(source, PATTERN_ZOOM, x, y, bands="1", colormap="viridis"))
    table = np.array([cmap.get("viridis")[v][:3] for v in range(256)], dtype=np.uint8)
    assert rgba.shape == (4, 256, 256)
    assert np.array_equal(np.moveaxis(rgba[:3], 0, -1), table[th.pattern[0, 256:, 256:]])


def test_named_bands_of_a_product(th):
    source = source_of(th, item="deqing-aerial-20240510")
    assert [b.name for b in source.pick(("nir", "red", "green"))] == ["nir", "red", "green"]
    assert [b.index for b in source.pick((4, 1, 2))] == [4, 1, 2]
    sar = source_of(th, item="S1A_IW_GRDH_1SDV_20240303T100129_20240303T100154_052813_1B8878")
    assert [b.name for b in sar.pick(None)] == ["vv", "vh", "vv"]
    assert tile_info(sar)["shown"]["rescale"] == "-25,0;-30,-5;-25,0"


def test_user_item_defaults_come_from_its_metadata(th):
    source = source_of(th, item="alice-field")
    assert source.owner == "alice"
    assert [b.name for b in source.pick(None)] == ["red", "green", "blue"]
    info = tile_info(source)
    assert info["shown"] == {"bands": ["red", "green", "blue"], "rescale": "10,240;10,240;10,240"}
    rgba = decode(render_tile(source, PATTERN_ZOOM, th.tile.x + 1, th.tile.y + 1))
    window = th.pattern[::-1, 256:, 256:].astype(np.float64)
    assert np.array_equal(rgba[:3], np.clip(np.round((window - 10) * 255 / 230), 0, 255))


def test_tile_info_is_tilejson(th):
    info = tile_info(source_of(th, path="uploads/p/data.tif"))
    west, south, east, north = info["bounds"]
    tile_west, tile_south, tile_east, tile_north = TMS.bounds(th.tile)
    assert west == pytest.approx(tile_west) and north == pytest.approx(tile_north)
    assert east > tile_east and south < tile_south  # 2 × 2 tiles
    assert info["maxzoom"] == PATTERN_ZOOM and info["minzoom"] <= PATTERN_ZOOM
    assert info["tilejson"] == "3.0.0" and len(info["bands"]) == 3
    assert info["shown"]["rescale"] == "0,255;0,255;0,255"


def test_uint16_default_is_the_percentile_stretch(tmp_path):
    folder = user_dir("alice", home=tmp_path)
    folder.mkdir(parents=True)
    tile = TMS.tile(*ANCHOR, PATTERN_ZOOM)
    left, bottom, right, top = TMS.xy_bounds(tile)
    values = np.linspace(1000, 5000, 256 * 256).reshape(1, 256, 256).astype(np.uint16)
    with rasterio.open(folder / "u16.tif", "w", driver="GTiff", count=1, width=256,
                       height=256, dtype="uint16", crs="EPSG:3857", nodata=0,
                       transform=from_bounds(left, bottom, right, top, 256, 256)) as dst:
        dst.write(values)
    info = tile_info(resolve_tile_source("alice", path="u16.tif", home=tmp_path))
    low, high = (float(v) for v in info["shown"]["rescale"].split(","))
    assert low == pytest.approx(np.percentile(values, 2), rel=0.01)
    assert high == pytest.approx(np.percentile(values, 98), rel=0.01)


def test_invalid_parameters_are_value_errors(th):
    source = source_of(th, path="uploads/p/data.tif")
    z, x, y = PATTERN_ZOOM, th.tile.x, th.tile.y
    for kwargs in ({"bands": "1,2"}, {"bands": "9"}, {"bands": "nope"}, {"rescale": "1"},
                   {"rescale": "5,1"}, {"rescale": "0,1;0,2"}, {"colormap": "nope"},
                   {"colormap": "viridis"}, {"tilesize": 300}, {"nodata": "x"}):
        with pytest.raises(TileParameterError) as caught:
            render_tile(source, z, x, y, **kwargs)
        assert isinstance(caught.value, ValueError) and str(caught.value)


def test_tiles_outside_the_image(th):
    source = source_of(th, path="uploads/p/data.tif")
    with pytest.raises(TileOutside, match="tile outside the image"):
        render_tile(source, PATTERN_ZOOM, th.tile.x + 5, th.tile.y)
    with pytest.raises(TileOutside):
        render_tile(source, 1, 1, 1)  # the southern hemisphere
    with pytest.raises(TileOutside):
        render_tile(source, 3, 8, 0)
    assert decode(render_tile(source, 0, 0, 0)).shape == (4, 256, 256)


def test_files_without_overviews_are_not_read_whole(tmp_path):
    folder = user_dir("alice", home=tmp_path)
    folder.mkdir(parents=True)
    with rasterio.open(folder / "big.tif", "w", driver="GTiff", count=1, width=4200,
                       height=4200, dtype="uint8", crs="EPSG:32651", compress="deflate",
                       tiled=True, transform=from_origin(205420, 3388840, 1, 1)) as dst:
        dst.write(np.full((1, 4200, 4200), 7, dtype=np.uint8))
    source = resolve_tile_source("alice", path="big.tif", home=tmp_path)
    far = TMS.tile(119.93, 30.59, 10)
    with pytest.raises(TileParameterError, match="zoom in"):
        render_tile(source, 10, far.x, far.y)
    near = TMS.tile(119.93, 30.59, 17)
    assert render_tile(source, 17, near.x, near.y)[:4] == b"\x89PNG"
