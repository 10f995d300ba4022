"""Raster uploads: the checks of terralab.mydata.raster_checks and the publishing of raster_publish.

Every bad input has its own test that checks the rule and that the message says what is wrong.
"""

from __future__ import annotations

import re
import struct
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.control import GroundControlPoint
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
from rasterio.io import MemoryFile
from rasterio.windows import Window

from terralab.mydata.errors import UploadError
from terralab.mydata.limits import UploadLimits
from terralab.mydata.raster_checks import band_names, inspect_raster, open_raster
from terralab.mydata.raster_publish import BandStats, publish_raster
from terralab.raster_budget import apply_raster_budget
from tests.memory_probe import measure_peak

pytestmark = pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")

LIMITS = UploadLimits()
# pixel grids for each kind of CRS: (origin x, origin y, pixel size)
GEOGRAPHIC = (116.0, 40.0, 1e-5)
PROJECTED = (500_000.0, 3_000_000.0, 1.0)


def pattern(count: int, height: int, width: int, dtype: str = "uint8", seed: int = 0) -> np.ndarray:
    """Return seeded pixels that look like an image (gradients plus noise), cheap to compress."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:height, 0:width]
    top = 250 if dtype == "uint8" else 4000
    bands = [((rows // (3 + b) + cols // (5 + b)) * (b + 1)) % top for b in range(count)]
    noise = rng.integers(0, 5, (count, height, width))
    return (np.stack(bands) + noise).astype(dtype)


def write_raster(path: Path, *, width: int = 1024, height: int = 1024, count: int = 3,
                 dtype: str = "uint8", crs: str | None = "EPSG:4490",
                 grid: tuple[float, float, float] = GEOGRAPHIC,
                 transform: Affine | None = None, nodata: float | None = None,
                 tiled: bool = True, compress: str | None = "deflate", driver: str = "GTiff",
                 data: np.ndarray | None = None, **options: object) -> Path:
    """Write a raster with rasterio (GeoTIFF by default) and return its path."""
    if transform is None:
        transform = Affine(grid[2], 0, grid[0], 0, -grid[2], grid[1])
    profile: dict[str, object] = dict(driver=driver, width=width, height=height, count=count,
                                      dtype=dtype, crs=crs, transform=transform, nodata=nodata)
    if driver == "GTiff":
        profile.update(tiled=tiled, **options)
        if tiled:
            profile.update(blockxsize=256, blockysize=256)
        if compress:
            profile["compress"] = compress
    if data is None:
        data = pattern(count, height, width, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path, "w", **profile) as dataset:
            dataset.write(data)
    return path


def refused(path: Path, limits: UploadLimits = LIMITS, *, name: str | None = None) -> UploadError:
    """Return the UploadError that inspecting ``path`` raises."""
    with pytest.raises(UploadError) as caught:
        inspect_raster(path, limits, name=name)
    assert "Traceback" not in str(caught.value)
    return caught.value


# --- format and driver ----------------------------------------------------------------------

def test_vrt_disguised_as_tif_is_refused_and_never_read(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    secret = write_raster(tmp_path / "elsewhere" / "secret.tif")
    with rasterio.open(secret) as source:
        bands = "".join(
            f'<VRTRasterBand dataType="Byte" band="{b}"><SimpleSource>'
            f'<SourceFilename relativeToVRT="0">{secret}</SourceFilename>'
            f"<SourceBand>{b}</SourceBand></SimpleSource></VRTRasterBand>"
            for b in (1, 2, 3))
        xml = (f'<VRTDataset rasterXSize="1024" rasterYSize="1024"><SRS>{source.crs.to_wkt()}'
               f"</SRS><GeoTransform>{', '.join(map(repr, source.transform.to_gdal()))}"
               f"</GeoTransform>{bands}</VRTDataset>")
    upload = tmp_path / "upload" / "image.tif"
    upload.parent.mkdir()
    upload.write_text(xml)
    # the threat is real: GDAL left to itself reads the other file through it
    with rasterio.open(upload) as opened:
        assert opened.driver == "VRT" and opened.read(1, window=Window(0, 0, 4, 4)).any()
    error = refused(upload)
    assert error.rule == "driver"
    assert "'image.tif' is not a GeoTIFF (it looks like a VRT/XML file" in str(error)
    # and even without the first-bytes check, terralab's GTiff-only open refuses it
    with pytest.raises(RasterioIOError), open_raster(upload, "GTiff"):
        pass
    folder = tmp_path / "published"
    with pytest.raises(UploadError):
        publish_raster(upload, folder, LIMITS)
    assert not folder.exists() or not any(folder.iterdir())


def test_png_renamed_tif_is_refused(tmp_path: Path) -> None:
    with warnings.catch_warnings(), MemoryFile() as memory:
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with memory.open(driver="PNG", width=1024, height=1024, count=3, dtype="uint8") as png:
            png.write(pattern(3, 1024, 1024))
        (tmp_path / "photo.tif").write_bytes(memory.read())
    error = refused(tmp_path / "photo.tif")
    assert error.rule == "driver"
    assert "'photo.tif' is not a GeoTIFF (it looks like a PNG image)" in str(error)


def test_wrong_suffix_is_refused_with_what_is_accepted(tmp_path: Path) -> None:
    staged = write_raster(tmp_path / "upload-0001.part")
    error = refused(staged, name="scene.jp2")
    assert error.rule == "type"
    assert "'scene.jp2' is a .jp2 file" in str(error)
    assert ".tif, .tiff" in str(error) and ".img" in str(error)
    # a staging name is fine: the user's name gives the suffix
    assert inspect_raster(staged, LIMITS, name="scene.tif").width == 1024


def test_tiff_named_img_is_refused(tmp_path: Path) -> None:
    error = refused(write_raster(tmp_path / "scene.img"))
    assert error.rule == "driver"
    assert "is not an Erdas Imagine (.img) file (it looks like a GeoTIFF)" in str(error)


def test_unreadable_tiff_gets_a_clean_message(tmp_path: Path) -> None:
    staged = tmp_path / "staging-123.bin"
    staged.write_bytes(b"II*\x00" + bytes(range(256)) * 8)
    error = refused(staged, name="broken.tif")
    assert error.rule == "driver"
    assert str(error).startswith("'broken.tif' cannot be read as a GeoTIFF")
    assert str(staged) not in str(error)


def test_sidecar_files_are_ignored(tmp_path: Path) -> None:
    # a world file and a PAM .aux.xml beside it would georeference the file for plain GDAL
    path = tmp_path / "plain.tif"
    with rasterio.open(path, "w", driver="GTiff", width=1024, height=1024, count=3,
                       dtype="uint8") as out:  # no CRS and no geotransform tags at all
        out.write(pattern(3, 1024, 1024))
    (tmp_path / "plain.tfw").write_text("1\n0\n0\n-1\n500000\n3000000\n")
    (tmp_path / "plain.tif.aux.xml").write_text(
        "<PAMDataset><SRS>EPSG:4490</SRS></PAMDataset>")
    with rasterio.open(path) as plain:
        assert plain.crs == "EPSG:4490" and plain.transform.c == 499_999.5
    error = refused(path)
    assert error.rule == "georeference"
    assert "no coordinate system and no geotransform" in str(error)


# --- sizes ----------------------------------------------------------------------------------

def patch_dimensions(path: Path, width: int, height: int) -> None:
    """Rewrite ImageWidth / ImageLength of a little-endian classic TIFF's first directory."""
    data = bytearray(path.read_bytes())
    assert data[:4] == b"II*\x00"
    (offset,) = struct.unpack_from("<I", data, 4)
    (entries,) = struct.unpack_from("<H", data, offset)
    for index in range(entries):
        at = offset + 2 + 12 * index
        (tag,) = struct.unpack_from("<H", data, at)
        if tag in (256, 257):
            struct.pack_into("<HHII", data, at, tag, 4, 1, width if tag == 256 else height)
    path.write_bytes(bytes(data))


def test_absurd_header_dimensions_are_refused_from_the_header(tmp_path: Path) -> None:
    path = write_raster(tmp_path / "huge.tif", width=64, height=64, tiled=False, compress=None)
    patch_dimensions(path, 2_000_000, 2_000_000)
    assert path.stat().st_size < 20_000
    started = time.perf_counter()
    with measure_peak() as peak:  # a small file: this test stays in the fast lane
        error = refused(path)
    elapsed = time.perf_counter() - started
    assert error.rule == "pixels"
    assert "'huge.tif' is 2,000,000×2,000,000 pixels" in str(error)
    assert "1,024 to 100,000 pixels a side" in str(error)
    assert elapsed < 2.0
    assert peak.traced < 5 * 1024**2  # nothing near 2e6² pixels (or even one row) was allocated
    # and publishing stops at the same check
    with pytest.raises(UploadError, match="2,000,000×2,000,000"):
        publish_raster(path, tmp_path / "out", LIMITS)


def test_dimensions_a_libtiff_refuses_are_refused(tmp_path: Path) -> None:
    path = write_raster(tmp_path / "zero.tif", width=64, height=64, tiled=False, compress=None)
    patch_dimensions(path, 0, 4_294_967_295)
    error = refused(path)
    assert error.rule == "pixels"
    assert "0×4,294,967,295 pixels" in str(error)


def test_too_small_is_refused(tmp_path: Path) -> None:
    error = refused(write_raster(tmp_path / "small.tif", width=512, height=512))
    assert error.rule == "pixels"
    assert "'small.tif' is 512×512 pixels; terralab takes images of 1,024 to 100,000" in str(error)


def test_over_max_side_is_refused(tmp_path: Path) -> None:
    path = write_raster(tmp_path / "wide.tif", width=2000, height=1024)
    error = refused(path, UploadLimits(max_side=1500))
    assert error.rule == "pixels"
    assert "2,000×1,024 pixels" in str(error) and "1,024 to 1,500 pixels a side" in str(error)


def test_over_max_bytes_is_refused(tmp_path: Path) -> None:
    path = write_raster(tmp_path / "big.tif", compress=None)  # 3 MB
    error = refused(path, UploadLimits(max_bytes=1024**2))
    assert error.rule == "size"
    assert "'big.tif' is 3" in str(error) and "the largest raster upload is 1 MB" in str(error)


# --- bands, types, georeference -------------------------------------------------------------

def test_five_bands_are_refused(tmp_path: Path) -> None:
    error = refused(write_raster(tmp_path / "five.tif", count=5))
    assert error.rule == "bands"
    assert str(error) == ("'five.tif' has 5 bands; terralab takes 3-band RGB or 4-band "
                          "(blue, green, red, NIR) images")


def test_float32_is_refused(tmp_path: Path) -> None:
    error = refused(write_raster(tmp_path / "float.tif", dtype="float32"))
    assert error.rule == "dtype"
    assert str(error) == "'float.tif' is float32; terralab takes 8- or 16-bit integer images"


def test_no_crs_is_refused(tmp_path: Path) -> None:
    error = refused(write_raster(tmp_path / "nocrs.tif", crs=None))
    assert error.rule == "georeference"
    assert str(error) == "'nocrs.tif' is not georeferenced (it has no coordinate system)"


def test_identity_transform_is_refused(tmp_path: Path) -> None:
    error = refused(write_raster(tmp_path / "pixels.tif", transform=Affine.identity()))
    assert error.rule == "georeference"
    assert str(error) == "'pixels.tif' is not georeferenced (it has no geotransform)"


def test_gcps_only_are_refused(tmp_path: Path) -> None:
    path = write_raster(tmp_path / "gcps.tif", crs=None, transform=Affine.identity())
    gcps = [GroundControlPoint(row, col, 116 + col * 1e-5, 40 - row * 1e-5)
            for row, col in ((0, 0), (0, 1024), (1024, 0), (1024, 1024))]
    with rasterio.open(path, "r+") as dataset:
        dataset.gcps = (gcps, rasterio.crs.CRS.from_epsg(4490))
    error = refused(path)
    assert error.rule == "georeference"
    assert "only ground control points" in str(error)


# --- coordinate systems ---------------------------------------------------------------------

def test_osgb_is_refused_by_name(tmp_path: Path) -> None:
    error = refused(write_raster(tmp_path / "uk.tif", crs="EPSG:27700", grid=(400_000, 300_000, 1)))
    assert error.rule == "crs"
    assert "'uk.tif' uses 'OSGB36 / British National Grid'" in str(error)
    assert "Ordnance Survey of Great Britain 1936" in str(error)


def test_nad83_is_refused_by_name(tmp_path: Path) -> None:
    error = refused(write_raster(tmp_path / "us.tif", crs="EPSG:26914", grid=PROJECTED))
    assert error.rule == "crs"
    assert "'NAD83 / UTM zone 14N' on the datum 'North American Datum 1983'" in str(error)


def test_web_mercator_is_refused(tmp_path: Path) -> None:
    error = refused(write_raster(tmp_path / "web.tif", crs="EPSG:3857",
                                 grid=(12_900_000, 4_800_000, 1)))
    assert error.rule == "crs"
    assert "web-map display projection" in str(error)


@pytest.mark.parametrize(("crs", "grid", "datum", "lon"), [
    ("EPSG:4490", GEOGRAPHIC, "CGCS2000", 116.0),
    ("EPSG:4549", PROJECTED, "CGCS2000", 120.0),      # CGCS2000 3-degree Gauss-Krüger CM 120E
    ("EPSG:2383", PROJECTED, "Xian 1980", 114.0),     # Xian 1980 3-degree Gauss-Krüger CM 114E
    ("EPSG:4214", GEOGRAPHIC, "Beijing 1954", 116.0),
    ("EPSG:2401", (25_500_000, 3_000_000, 1), "Beijing 1954", 75.0),  # GK zone 25
    ("EPSG:32650", PROJECTED, "WGS 84", 117.0),
])
def test_platform_crs_are_accepted(tmp_path: Path, crs: str, grid: tuple[float, float, float],
                                   datum: str, lon: float) -> None:
    info = inspect_raster(write_raster(tmp_path / "ok.tif", crs=crs, grid=grid,
                                       data=np.zeros((3, 1024, 1024), "uint8")), LIMITS)
    assert info.datum == datum
    assert info.crs == rasterio.crs.CRS.from_user_input(crs)
    west, south, _, north = info.bounds_wgs84
    assert west == pytest.approx(lon, abs=0.05) and 20 < south < north < 41
    assert info.footprint_wgs84.is_valid and len(info.footprint_wgs84.exterior.coords) > 60


def test_any_crs_admits_nad83(tmp_path: Path) -> None:
    path = write_raster(tmp_path / "us.tif", crs="EPSG:26914", grid=PROJECTED)
    info = inspect_raster(path, UploadLimits(crs="any"))
    assert info.datum is None
    assert info.crs_name == "NAD83 / UTM zone 14N"
    assert info.bounds_wgs84[0] == pytest.approx(-99.0, abs=0.05)


# --- several problems -----------------------------------------------------------------------

def test_several_problems_are_reported_together(tmp_path: Path) -> None:
    path = write_raster(tmp_path / "bad.tif", width=512, height=512, count=5, dtype="float32",
                        crs=None)
    error = refused(path)
    assert error.rule == "pixels"
    lines = str(error).splitlines()
    assert lines[0] == "'bad.tif' breaks 4 upload rules:"
    assert [line.split(";")[0] for line in lines[1:]] == [
        "- 'bad.tif' is 512×512 pixels", "- 'bad.tif' has 5 bands", "- 'bad.tif' is float32",
        "- 'bad.tif' is not georeferenced (it has no coordinate system)"]


def test_size_and_crs_problems_are_reported_together(tmp_path: Path) -> None:
    path = write_raster(tmp_path / "uk.tif", crs="EPSG:27700", grid=(400_000, 300_000, 1),
                        compress=None)
    error = refused(path, UploadLimits(max_bytes=1024**2))
    assert error.rule == "size"
    assert "largest raster upload" in str(error) and "OSGB36" in str(error)


# --- band names -----------------------------------------------------------------------------

@pytest.mark.parametrize(("colours", "descriptions", "expected"), [
    (["red", "green", "blue"], (), ("red", "green", "blue")),
    (["red", "green", "blue", "undefined"], (), ("red", "green", "blue", "nir")),
    (["red", "green", "blue", "alpha"], (), ("red", "green", "blue", "alpha")),
    (["blue", "green", "red", "undefined"], (), ("blue", "green", "red", "nir")),
    (["gray", "undefined", "undefined"], (), ("red", "green", "blue")),
    (["gray", "undefined", "undefined", "undefined"], (), ("blue", "green", "red", "nir")),
    (["gray"] * 4, ("Red", "Green", "Blue", "NIR"), ("red", "green", "blue", "nir")),
    (["gray"] * 5, (), ("b1", "b2", "b3", "b4", "b5")),
])
def test_band_names(colours: list[str], descriptions: tuple[str, ...],
                    expected: tuple[str, ...]) -> None:
    assert band_names(colours, descriptions) == expected


# --- publishing -----------------------------------------------------------------------------

@pytest.mark.parametrize("tiled", [True, False], ids=["tiled", "striped"])
@pytest.mark.parametrize("compress", ["deflate", None], ids=["deflate", "raw"])
def test_truncated_file_is_refused(tmp_path: Path, tiled: bool, compress: str | None) -> None:
    path = write_raster(tmp_path / "cut.tif", height=2048, tiled=tiled, compress=compress)
    inspect_raster(path, LIMITS)  # the header is fine: the damage is in the pixels
    size = path.stat().st_size
    with path.open("r+b") as stream:
        stream.truncate(size // 2)
    with pytest.raises(UploadError) as caught:
        publish_raster(path, tmp_path / "out", LIMITS)
    assert caught.value.rule == "truncated"
    assert str(caught.value).startswith("'cut.tif' is damaged or truncated: the block at row ")
    assert str(caught.value).endswith("cannot be read")


def test_statistics_are_exact_and_respect_nodata(tmp_path: Path) -> None:
    data = pattern(4, 1100, 2500, "uint16", seed=3)
    data[:, :40, :] = 0
    data[2, 500:700, 900:1300] = 0
    path = write_raster(tmp_path / "scene.tif", width=2500, height=1100, count=4,
                        dtype="uint16", nodata=0, data=data, tiled=False,
                        crs="EPSG:4549", grid=PROJECTED)
    published = publish_raster(path, tmp_path / "out", LIMITS)
    for band, stats in zip(data, published.statistics, strict=True):
        valid = band[band != 0].astype(np.float64)
        assert stats.minimum == valid.min() and stats.maximum == valid.max()
        assert stats.mean == pytest.approx(valid.mean(), rel=1e-12)
        assert stats.stddev == pytest.approx(valid.std(), rel=1e-9)
        assert stats.valid_percent == pytest.approx(100 * valid.size / band.size)
        low, high = np.percentile(valid, (2, 98))
        assert abs(stats.percentile_2 - low) <= 1 and abs(stats.percentile_98 - high) <= 1
    assert set(published.statistics[0].as_stac()) == {
        "minimum", "maximum", "mean", "stddev", "valid_percent", "percentile_2", "percentile_98"}
    with rasterio.open(published.cog) as cog:
        assert cog.tags(1)["STATISTICS_MEAN"] == repr(published.statistics[0].mean)
        assert cog.descriptions == ("blue", "green", "red", "nir")
        assert (cog.read() == data).all() and cog.dtypes[0] == "uint16" and cog.nodata == 0


def test_internal_mask_is_respected_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "masked.tif"
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(
            path, "w", driver="GTiff", width=1024, height=1024, count=3, dtype="uint8",
            crs="EPSG:4490", transform=Affine(1e-5, 0, 116, 0, -1e-5, 40), tiled=True) as out:
        out.write(pattern(3, 1024, 1024))
        mask = np.zeros((1024, 1024), "uint8")
        mask[:256] = 255
        out.write_mask(mask)
    published = publish_raster(path, tmp_path / "out", LIMITS)
    assert [band.valid_percent for band in published.statistics] == [25.0] * 3
    with rasterio.open(published.cog) as cog:
        assert (cog.read_masks(1) == mask).all()


def test_band_without_valid_pixels_has_no_statistics() -> None:
    empty = BandStats(float("nan"), float("nan"), float("nan"), float("nan"), 0.0,
                      float("nan"), float("nan"))
    assert empty.as_stac() == {"valid_percent": 0.0}


def test_img_file_publishes(tmp_path: Path) -> None:
    path = write_raster(tmp_path / "scene.img", driver="HFA", crs="EPSG:2383", grid=PROJECTED)
    published = publish_raster(path, tmp_path / "out", LIMITS, name="scene.img")
    assert published.info.driver == "HFA" and published.info.datum == "Xian 1980"
    with rasterio.open(published.cog) as cog, rasterio.open(path) as source:
        assert cog.overviews(1)
        assert cog.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert cog.crs == source.crs and cog.transform == source.transform
        assert (cog.read() == source.read()).all()


def test_thumbnail_is_rgba_256_with_transparent_nodata(tmp_path: Path) -> None:
    data = pattern(3, 1024, 2048)
    data[:, :, 1024:] = 255
    path = write_raster(tmp_path / "half.tif", width=2048, height=1024, nodata=255, data=data)
    published = publish_raster(path, tmp_path / "out", LIMITS)
    with rasterio.open(published.thumbnail) as png:
        assert png.driver == "PNG" and (png.width, png.height) == (256, 128) and png.count == 4
        rgba = png.read()
    assert set(np.unique(rgba[3, :, :120])) == {255} and set(np.unique(rgba[3, :, 136:])) == {0}
    assert rgba[:3, :, :120].std() > 20


def _textured_geotiff(path: Path, side: int) -> Path:
    """A DEFLATE-tiled 3-band uint8 GeoTIFF of ``side``², written 1024 rows at a time."""
    profile = dict(driver="GTiff", width=side, height=side, count=3, dtype="uint8",
                   crs="EPSG:4490", transform=Affine(1e-5, 0, 116, 0, -1e-5, 40),
                   tiled=True, blockxsize=512, blockysize=512, compress="DEFLATE", zlevel=1,
                   BIGTIFF="IF_SAFER")
    columns = np.arange(side)
    with rasterio.open(path, "w", **profile) as dataset:
        for row in range(0, side, 1024):
            rows = np.arange(row, min(side, row + 1024))[:, None]
            band = (rows // 7 + columns // 5 + (rows * columns) % 13) % 256
            dataset.write(np.stack([band, band[::-1], band * 3 % 256]).astype("uint8"),
                          window=Window(0, row, side, len(rows)))
    return path


def test_publishing_memory_does_not_grow_with_the_raster(tmp_path: Path, peak_memory,
                                                         monkeypatch) -> None:
    """Publishing (statistics, COG with overviews, thumbnail) at 5,000² and at 20,000²: the
    process's resident memory grows alike, bounded by GDAL's cache budget, not the image."""
    monkeypatch.setenv("TERRALAB_GDAL_CACHE", "64MiB")
    apply_raster_budget(force=True)
    try:
        growth = {}
        for side in (5_000, 20_000):
            path = _textured_geotiff(tmp_path / f"in-{side}.tif", side)
            with peak_memory(traced=False) as peak:
                published = publish_raster(path, tmp_path / f"out-{side}", LIMITS)
            growth[side] = peak.rss_growth_mib
            assert published.statistics[0].valid_percent == 100.0
            with rasterio.open(published.cog) as cog:
                assert (cog.width, cog.height) == (side, side) and len(cog.overviews(1)) >= 3
            path.unlink()
    finally:
        monkeypatch.delenv("TERRALAB_GDAL_CACHE")
        apply_raster_budget(force=True)
    # 1.2 GB of pixels at 20,000²; 16 times the pixels of 5,000², the same memory
    assert growth[20_000] < 400, growth
    assert growth[20_000] < growth[5_000] + 100 * 1e6 / 2**20, growth


# --- real samples ---------------------------------------------------------------------------

def test_real_aerial_padded_publishes(tmp_path: Path, real_data: Path) -> None:
    with rasterio.open(real_data / "aerial_0p1m" / "OSBS_029.tif") as source:
        image, crs, transform = source.read(), source.crs, source.transform
    padded = np.full((3, 1024, 1024), 255, dtype="uint8")
    padded[:, :400, :400] = image
    path = write_raster(tmp_path / "OSBS_029.tif", crs=crs, transform=transform, nodata=255,
                        data=padded)
    published = publish_raster(path, tmp_path / "out", LIMITS)
    assert published.info.crs_name == "WGS 84 / UTM zone 17N"
    assert published.info.band_names == ("red", "green", "blue")
    with rasterio.open(published.cog) as cog:
        assert cog.overviews(1) and cog.crs == crs and cog.transform == transform
        assert cog.nodata == 255 and (cog.read() == padded).all()
    expected_valid = 100 * (image != 255).sum(axis=(1, 2)) / 1024**2
    for stats, valid in zip(published.statistics, expected_valid, strict=True):
        assert stats.valid_percent == pytest.approx(valid)
        assert 0 <= stats.minimum <= stats.percentile_2 <= stats.mean
        assert stats.mean <= stats.percentile_98 <= stats.maximum <= 254 and stats.stddev > 5
    with rasterio.open(published.thumbnail) as png:
        rgba = png.read()
    shown = rgba[3] == 255
    assert 0.1 < shown.mean() < 0.2 and rgba[:3][:, shown].std() > 10


def test_real_naip_is_refused_by_default(real_data: Path) -> None:
    for path in sorted((real_data / "naip").glob("*.tif")):
        error = refused(path)
        assert error.rule == "pixels"
        assert re.search(r"is 934×72\d pixels", str(error)), str(error)
        assert "'NAD83 / UTM zone 14N' on the datum 'North American Datum 1983'" in str(error)


def test_real_naip_publishes_with_open_limits(tmp_path: Path, real_data: Path) -> None:
    limits = UploadLimits(min_side=512, crs="any")
    for path in sorted((real_data / "naip").glob("*.tif")):
        published = publish_raster(path, tmp_path / path.stem, limits)
        # NAIP is red, green, blue, NIR but says nothing (grey/undefined colour
        # interpretation), so terralab's 4-band default, the GF-1/GF-2 order, applies
        assert published.info.band_names == ("blue", "green", "red", "nir")
        assert published.info.datum is None and published.info.nodata == 0
        with rasterio.open(published.cog) as cog, rasterio.open(path) as source:
            assert cog.crs == source.crs and cog.overviews(1)
            assert (cog.read() == source.read()).all()
        assert all(0 < band.mean < 255 for band in published.statistics)
