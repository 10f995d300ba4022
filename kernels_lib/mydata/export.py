"""Downloading my data in the format asked for (PRODUCT.md §5 "result download").

Rasters are kept as Cloud-Optimized GeoTIFFs, which every GeoTIFF reader opens: ``cog`` and
``geotiff`` both give that file. Vectors are kept as GeoPackage and can be had as
``gpkg``, ``geojson`` (RFC 7946: longitude, latitude on WGS84 — reprojected) or
``shapefile`` (a zip of ``.shp/.shx/.dbf/.prj/.cpg``, UTF-8; field names longer than 10
characters are shortened by the format, and the message says so). Every export is written
through a ``.part`` file and counted in the user's download record.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

from terralab.mydata.errors import MyDataError

__all__ = ["RASTER_FORMATS", "VECTOR_FORMATS", "export_file"]

RASTER_FORMATS = ("cog", "geotiff")
VECTOR_FORMATS = ("gpkg", "geojson", "shapefile")


def export_file(data: Path, data_type: str, fmt: str, folder: Path, stem: str) -> Path:
    """Write item data ``data`` as ``fmt`` into ``folder`` and return the file.

    Raises:
        MyDataError: for a format the data type does not have.
    """
    fmt = fmt.lower()
    allowed = RASTER_FORMATS if data_type == "raster" else VECTOR_FORMATS \
        if data_type == "vector" else ()
    if fmt not in allowed:
        raise MyDataError(f"a {data_type} downloads as {', '.join(allowed) or 'its own file'}"
                          f", not {fmt!r}")
    folder.mkdir(parents=True, exist_ok=True)
    if data_type == "raster" or fmt == "gpkg":
        target = folder / f"{stem}{data.suffix}"
        _copy(data, target)
        return target
    import geopandas as gpd

    frame = gpd.read_file(data)
    if fmt == "geojson":
        target = folder / f"{stem}.geojson"
        if frame.crs is not None:
            frame = frame.to_crs("EPSG:4326")
        partial = target.with_name(target.name + ".part")
        frame.to_file(partial, driver="GeoJSON")
        partial.replace(target)
        return target
    target = folder / f"{stem}.zip"
    with tempfile.TemporaryDirectory(prefix="terralab-export-") as scratch:
        shp = Path(scratch) / f"{stem}.shp"
        frame.to_file(shp, driver="ESRI Shapefile", encoding="UTF-8")
        partial = target.with_name(target.name + ".part")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(Path(scratch).iterdir()):
                archive.write(part, part.name)
        partial.replace(target)
    return target


def _copy(source: Path, target: Path) -> None:
    partial = target.with_name(target.name + ".part")
    try:
        shutil.copyfile(source, partial)
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
