"""How tool results and published COGs are compressed (terralab.raster_codecs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr
from rasterio.transform import from_origin

from terralab.mydata.limits import UploadLimits
from terralab.mydata.raster_publish import publish_raster
from terralab.raster_codecs import cog_options, gtiff_options
from terralab.tools.base import ToolOutput
from terralab.tools.outputs import write_output


@pytest.fixture
def raster_settings(monkeypatch):
    """Set the ``raster`` settings of this test: ``raster_settings(codec=..., error=...)``
    (the settings follow the variables; the autouse fixture clears them afterwards)."""

    def apply(codec: str | None = None, error: float | None = None) -> None:
        for name, value in (("TERRALAB_RASTER_CODEC", codec),
                            ("TERRALAB_FLOAT_MAX_ERROR", error)):
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, str(value))

    return apply


def _index(side: int = 1024) -> xr.DataArray:
    """A smooth float32 'index' from -1 to 1 on a UTM grid."""
    rows, cols = np.mgrid[0:side, 0:side].astype("float32")
    values = np.sin(rows / 57) * np.cos(cols / 91)
    data = xr.DataArray(values[None], dims=("band", "y", "x"),
                        coords={"band": [1], "y": 3_400_000 - 10 * (rows[:, 0] + 0.5),
                                "x": 200_000 + 10 * (cols[0] + 0.5)})
    return data.rio.write_crs("EPSG:32651").rio.write_transform(
        from_origin(200_000, 3_400_000, 10, 10))


def _classes(side: int = 1024) -> xr.DataArray:
    return (_index(side) * 4 + 5).astype("uint8")


def _structure(path: Path) -> dict[str, str]:
    with rasterio.open(path) as dataset:
        return dataset.tags(ns="IMAGE_STRUCTURE")


def test_each_kind_gets_its_codec_and_predictor(raster_settings):
    raster_settings()
    assert gtiff_options("uint8") == {"compress": "DEFLATE", "predictor": 2,
                                      "NUM_THREADS": "ALL_CPUS"}
    assert gtiff_options("float32")["predictor"] == 3
    assert cog_options("int16") == {"compress": "DEFLATE", "predictor": "YES",
                                     "num_threads": "ALL_CPUS"}
    raster_settings(codec="zstd", error=0.001)
    assert gtiff_options("uint16")["compress"] == "ZSTD"
    assert gtiff_options("float32") == {"compress": "LERC_ZSTD", "MAX_Z_ERROR": 0.001,
                                        "NUM_THREADS": "ALL_CPUS"}
    assert cog_options("float64")["compress"] == "LERC_ZSTD"
    assert gtiff_options("uint8")["predictor"] == 2  # integers stay lossless


def test_tool_results_are_written_with_their_kinds_codec(raster_settings, tmp_path):
    raster_settings()
    index = write_output(ToolOutput(raster=_index(), name="ndvi"), tmp_path / "a")
    classes = write_output(ToolOutput(raster=_classes(), name="classes"), tmp_path / "b")
    assert _structure(index).items() >= {"COMPRESSION": "DEFLATE", "PREDICTOR": "3"}.items()
    assert _structure(classes).items() >= {"COMPRESSION": "DEFLATE", "PREDICTOR": "2"}.items()
    with rasterio.open(index) as dataset:
        assert np.array_equal(dataset.read(1), _index().values[0])  # lossless

    raster_settings(codec="zstd")
    zstd = write_output(ToolOutput(raster=_classes(), name="classes"), tmp_path / "c")
    assert _structure(zstd)["COMPRESSION"] == "ZSTD"
    with rasterio.open(zstd) as dataset:
        assert np.array_equal(dataset.read(1), _classes().values[0])


def test_floats_within_the_allowed_error_are_smaller(raster_settings, tmp_path):
    raster_settings()
    lossless = write_output(ToolOutput(raster=_index(), name="ndvi"), tmp_path / "a")
    raster_settings(error=0.002)
    lossy = write_output(ToolOutput(raster=_index(), name="ndvi"), tmp_path / "b")
    assert _structure(lossy)["COMPRESSION"].startswith("LERC")
    with rasterio.open(lossy) as dataset:
        error = np.abs(dataset.read(1) - _index().values[0]).max()
    assert 0 < error <= 0.002 + 1e-7
    assert lossy.stat().st_size < lossless.stat().st_size / 2


def test_published_cogs_follow_the_codec(raster_settings, tmp_path):
    path = tmp_path / "upload.tif"
    rows, cols = np.mgrid[0:1024, 0:1024]
    pixels = np.stack([(rows + cols) % 4000, (rows * 3) % 4000, (cols * 7) % 4000])
    with rasterio.open(path, "w", driver="GTiff", width=1024, height=1024, count=3,
                       dtype="uint16", crs="EPSG:4490",
                       transform=from_origin(116, 40, 1e-5, 1e-5)) as dataset:
        dataset.write(pixels.astype("uint16"))
    raster_settings(codec="zstd")
    published = publish_raster(path, tmp_path / "out", UploadLimits())
    assert _structure(published.cog).items() >= {"COMPRESSION": "ZSTD", "PREDICTOR": "2",
                                                  "LAYOUT": "COG"}.items()
    with rasterio.open(published.cog) as cog:
        assert np.array_equal(cog.read(), pixels)
