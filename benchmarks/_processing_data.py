"""Seeded inputs of ``processing.py``: a 4-band uint16 image and a huge VRT of one tile.

The image looks like a 10 m red/green/blue/NIR scene of digital numbers in UTM zone 50N
(EPSG:32650, the North China Plain near 117.5°E 40.6°N): per band a smooth field (waves of
a few kilometres) plus Gaussian pixel noise (σ = 40), red ~600–1,400 and NIR ~2,000–4,000,
so NDVI varies. It is written twice: a plain tiled GeoTIFF (512-pixel tiles, DEFLATE, no
predictor: what a terralab tool writes) and a COG made from it with GDAL's COG driver (DEFLATE
with predictor, 512-pixel tiles, overviews).

The huge raster is a VRT of ``size × size`` pixels that repeats one ``tile × tile`` uncompressed
GeoTIFF (cut from the image) on a grid of ``SimpleSource``s: no pixel is stored twice, every
block GDAL reads is a real read of the (cached) tile file.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
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


def make_tile(image: Path, tile_path: Path, tile: int) -> None:
    """Cut the top-left ``tile × tile`` pixels of ``image`` into an uncompressed GeoTIFF."""
    import rasterio
    from rasterio.windows import Window

    with rasterio.open(image) as src:
        data = src.read(window=Window(0, 0, tile, tile))
        profile = {"driver": "GTiff", "count": src.count, "width": tile, "height": tile,
                   "dtype": "uint16", "crs": src.crs, "transform": src.transform,
                   "tiled": True, "blockxsize": 512, "blockysize": 512,
                   "photometric": "MINISBLACK"}
    with rasterio.open(tile_path, "w", **profile) as dst:
        dst.write(data)


def make_vrt(tile_path: Path, vrt: Path, size: int, tile: int) -> int:
    """Write a ``size × size`` 4-band VRT repeating ``tile_path``; return the source count."""
    import rasterio

    with rasterio.open(tile_path) as src:
        crs = src.crs.to_wkt()
    root = ET.Element("VRTDataset", rasterXSize=str(size), rasterYSize=str(size))
    ET.SubElement(root, "SRS").text = crs
    ET.SubElement(root, "GeoTransform").text = (
        f"{ORIGIN[0]!r}, {PIXEL!r}, 0.0, {ORIGIN[1]!r}, 0.0, {-PIXEL!r}")
    steps = range(0, size, tile)
    sources = 0
    for band in range(1, 5):
        element = ET.SubElement(root, "VRTRasterBand", dataType="UInt16", band=str(band),
                                blockXSize="512", blockYSize="512")
        for row in steps:
            for col in steps:
                width, height = min(tile, size - col), min(tile, size - row)
                source = ET.SubElement(element, "SimpleSource")
                ET.SubElement(source, "SourceFilename", relativeToVRT="0").text = str(tile_path)
                ET.SubElement(source, "SourceBand").text = str(band)
                ET.SubElement(source, "SrcRect", xOff="0", yOff="0", xSize=str(width),
                              ySize=str(height))
                ET.SubElement(source, "DstRect", xOff=str(col), yOff=str(row),
                              xSize=str(width), ySize=str(height))
                sources += 1
    vrt.write_bytes(ET.tostring(root))
    return sources
