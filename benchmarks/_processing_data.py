"""Seeded inputs of ``processing.py``: a 4-band uint16 image and a big 4-band uint8 image.

The image looks like a 10 m red/green/blue/NIR scene of digital numbers in UTM zone 50N
(EPSG:32650, the North China Plain near 117.5°E 40.6°N): per band a smooth field (waves of
a few kilometres) plus Gaussian pixel noise (σ = 40), red ~600–1,400 and NIR ~2,000–4,000,
so NDVI varies. It is written twice: a plain tiled GeoTIFF (512-pixel tiles, DEFLATE, no
predictor: what a terralab tool writes) and a COG made from it with GDAL's COG driver (DEFLATE
with predictor, 512-pixel tiles, overviews).

The big image (part 4) is a real file: ``size × size`` pixels (default 50,000²), 4 bands of
uint8 (red, green, blue, NIR), the same kind of smooth fields with uniform pixel noise, written
strip by strip as a tiled DEFLATE GeoTIFF with the horizontal predictor (BigTIFF), so it stays
under the 5 GB upload rule (~3 GB at 50,000²) while every block is different.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CRS = "EPSG:32650"
ORIGIN = (450000.0, 4500000.0)
PIXEL = 10.0
_LEVELS = ((800, 250), (900, 250), (1000, 300), (3000, 800))  # (mean, wave amplitude) per band
_NOISE = 40.0
_STRIP = 1024


def _strip(rng: np.random.Generator, row: int, rows: int, size: int) -> np.ndarray:
    y = np.arange(row, row + rows, dtype=np.float32)[:, None]
    x = np.arange(size, dtype=np.float32)[None, :]
    out = np.empty((4, rows, size), np.uint16)
    for band, (mean, amplitude) in enumerate(_LEVELS):
        wave = np.sin(x / (170.0 + 23 * band)) * np.cos(y / (230.0 - 17 * band))
        field = mean + amplitude * wave + rng.normal(0.0, _NOISE, (rows, size)).astype(
            np.float32)
        out[band] = np.clip(field, 0, 65535)
    return out


def make_image(plain: Path, cog: Path, size: int, seed: int) -> None:
    """Write the ``size × size`` 4-band image as a plain tiled GeoTIFF and as a COG."""
    import rasterio
    from rasterio.shutil import copy as rio_copy
    from rasterio.transform import from_origin

    rng = np.random.default_rng(seed)
    profile = {"driver": "GTiff", "count": 4, "width": size, "height": size,
               "dtype": "uint16", "crs": CRS, "transform": from_origin(*ORIGIN, PIXEL, PIXEL),
               "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "DEFLATE",
               "photometric": "MINISBLACK", "BIGTIFF": "IF_SAFER", "num_threads": "ALL_CPUS"}
    with rasterio.open(plain, "w", **profile) as dst:
        for row in range(0, size, _STRIP):
            rows = min(_STRIP, size - row)
            dst.write(_strip(rng, row, rows, size),
                      window=rasterio.windows.Window(0, row, size, rows))
        dst.descriptions = ("red", "green", "blue", "nir")
    rio_copy(plain, cog, driver="COG", compress="DEFLATE", predictor="YES", blocksize=512,
             overview_resampling="average", num_threads="ALL_CPUS", BIGTIFF="IF_SAFER")


_BIG_LEVELS = ((60, 25), (70, 25), (80, 30), (150, 60))  # uint8 (mean, amplitude) per band
_BIG_NOISE = 2  # uniform noise of ±2 digital numbers (under the 5 GB upload rule at 50,000²)


def make_big_image(path: Path, size: int, seed: int) -> None:
    """Write the ``size × size`` 4-band uint8 image, 512 rows at a time (bounded memory)."""
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    rng = np.random.default_rng(seed)
    profile = {"driver": "GTiff", "count": 4, "width": size, "height": size,
               "dtype": "uint8", "crs": CRS, "transform": from_origin(*ORIGIN, PIXEL, PIXEL),
               "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "DEFLATE",
               "predictor": 2, "photometric": "MINISBLACK", "BIGTIFF": "YES",
               "num_threads": "ALL_CPUS"}
    x = np.arange(size, dtype=np.float32)[None, :]
    with rasterio.open(path, "w", **profile) as dst:
        for row in range(0, size, 512):
            rows = min(512, size - row)
            y = np.arange(row, row + rows, dtype=np.float32)[:, None]
            strip = np.empty((4, rows, size), np.uint8)
            for band, (mean, amplitude) in enumerate(_BIG_LEVELS):
                wave = np.sin(x / (170.0 + 23 * band)) * np.cos(y / (230.0 - 17 * band))
                field = mean + amplitude * wave + rng.integers(
                    -_BIG_NOISE, _BIG_NOISE + 1, (rows, size), dtype=np.int16)
                strip[band] = np.clip(field, 1, 255)
            dst.write(strip, window=Window(0, row, size, rows))
        dst.descriptions = ("red", "green", "blue", "nir")
