"""What the fuzzer runs on one input: the checks and publishing of an uploaded file.

:func:`check_upload` writes the bytes where the service stages an upload and runs what the
service runs on them before accepting them: :func:`~terralab.mydata.raster_publish.
publish_raster` for a GeoTIFF or Erdas Imagine file (the raster checks, every pixel read,
the COG and the thumbnail), :func:`~terralab.mydata.vector_publish.publish_vector` for a
zipped shapefile (the zip checks, the unpacking, the read, the GeoPackage and the preview),
then the STAC item and the catalog index's rows of the result. The outcome is
``"accepted"`` or ``"refused:<rule>"`` (an :class:`~terralab.mydata.errors.MyDataError`,
answered 400/413 by the hub service); any other exception escapes: that is a finding (the
service would answer 500).

:func:`write_seeds` builds the seed corpus from the real samples in ``../shared/data/real``:
small crops of real Landsat images written with rasterio as GeoTIFF and HFA (WGS84 UTM and
CGCS2000), and zipped shapefiles of the real footprints of the STAC items there.

The rules are the platform's defaults except the smallest side (:data:`FUZZ_LIMITS`), so
that 64-pixel seeds pass and the fuzzer's mutations land on header fields rather than on
megabytes of pixels.
"""

from __future__ import annotations

import io
import itertools
import json
import shutil
import zipfile
from pathlib import Path

from terralab.catalog._item_rows import item_rows
from terralab.mydata.errors import MyDataError
from terralab.mydata.items import build_item
from terralab.mydata.limits import UploadLimits
from terralab.mydata.raster_publish import publish_raster
from terralab.mydata.vector_publish import publish_vector

__all__ = ["FORMATS", "FUZZ_LIMITS", "MEMBER_MARK", "REAL_DATA", "check_upload", "write_seeds",
           "zip_shapefile_parts"]

FORMATS = ("tif", "img", "zip", "shp")
"""The inputs fuzzed: GeoTIFF, Erdas Imagine (HFA), zipped shapefile (the zip's bytes), and
``shp``: the shapefile's own files, zipped by the harness, so that mutations of their bytes
reach GDAL's shapefile reader rather than fail the zip's CRC check."""

FUZZ_LIMITS = UploadLimits(min_side=16, max_side=2048)
"""The platform's upload rules, with small images allowed (fast runs) and at most 2048²."""

REAL_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
"""The real samples (see their README)."""

_SEED_SIDE = 64
_SHP_PARTS = ("shp", "shx", "dbf", "prj", "cpg")
MEMBER_MARK = b"\n--terralab-zip-member--\n"
"""Between the files of a shapefile in a ``shp`` input (the harness zips them)."""
_INPUTS = itertools.count()


def check_upload(data: bytes, fmt: str, work: Path) -> str:
    """Run the upload checks and publishing on ``data`` as an uploaded ``.<fmt>`` file.

    Args:
        data: the uploaded bytes.
        fmt: ``"tif"``, ``"img"``, ``"zip"`` or ``"shp"`` (see :data:`FORMATS`).
        work: a scratch folder of the caller's (emptied here).

    Returns:
        ``"accepted"``, or ``"refused:<rule>"`` for a user-facing refusal.

    Raises:
        Exception: anything else the service would not answer as a refusal (a finding).
    """
    shutil.rmtree(work, ignore_errors=True)
    folder = work / str(next(_INPUTS))  # a new path each time: GDAL caches by file name
    folder.mkdir(parents=True)
    if fmt == "shp":  # the shapefile's own files, zipped here with sound CRCs
        data, fmt = zip_shapefile_parts(data), "zip"
    source, out = folder / f"source.{fmt}", folder / "out"
    source.write_bytes(data)
    name = f"upload.{fmt}"
    try:
        if fmt == "zip":
            published = publish_vector(source, out, FUZZ_LIMITS, name=name)
            data_type = "vector"
        else:
            published = publish_raster(source, out, FUZZ_LIMITS, name=name)
            data_type = "raster"
    except MyDataError as error:
        return f"refused:{getattr(error, 'rule', 'mydata')}"
    item = build_item("fuzz-item", published=published, folder=folder / "item",
                      data_type=data_type, title=name, kind="upload", source_name=name,
                      created="2026-01-01T00:00:00Z", size=len(data),
                      flags=tuple(getattr(published, "flags", ())))
    if item["geometry"] is not None:  # what the catalog index stores of it
        item_rows([item], "fuzz")
    return "accepted"


def zip_shapefile_parts(data: bytes) -> bytes:
    """A zip of ``layer.shp``, ``.shx``, ``.dbf``, ``.prj``, ``.cpg`` cut from ``data`` at
    :data:`MEMBER_MARK` (missing parts are left out, so the zip checks refuse it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for ext, part in zip(_SHP_PARTS, data.split(MEMBER_MARK), strict=False):
            if part or ext in _SHP_PARTS[:3]:  # an empty .prj or .cpg means none
                archive.writestr(f"layer.{ext}", part)
    return buffer.getvalue()


def _real_crop(name: str, bands: list[int]) -> tuple:
    """A ``_SEED_SIDE``² crop of a real image: pixels (bands, rows, cols) and its profile."""
    import rasterio
    from rasterio.windows import Window

    with rasterio.open(REAL_DATA / name) as src:
        window = Window(src.width // 3, src.height // 3, _SEED_SIDE, _SEED_SIDE)
        pixels = src.read(bands, window=window)
        return pixels, src.window_transform(window), src.crs


def _write_raster(path: Path, driver: str, pixels, transform, crs, **options) -> None:
    import rasterio

    count, height, width = pixels.shape
    with rasterio.open(path, "w", driver=driver, width=width, height=height, count=count,
                       dtype=pixels.dtype, crs=crs, transform=transform, **options) as dst:
        dst.write(pixels)


def _raster_seeds(folder: Path, fmt: str) -> None:
    """GeoTIFF or HFA seeds: RGB in WGS84 / UTM 18N, 4-band in CGCS2000, nodata, tiling."""
    from rasterio.crs import CRS

    rgb, rgb_transform, rgb_crs = _real_crop("landsat7_rgb/RGB.byte.tif", [1, 2, 3])
    four, four_transform, _ = _real_crop("landsat_pucallpa/2020.tif", [1, 2, 3, 4])
    cgcs2000 = CRS.from_epsg(4490)
    if fmt == "tif":
        _write_raster(folder / "rgb_utm_strips.tif", "GTiff", rgb, rgb_transform, rgb_crs,
                      nodata=0, photometric="RGB")
        _write_raster(folder / "bgrn_cgcs2000_tiled.tif", "GTiff", four, four_transform,
                      cgcs2000, tiled=True, blockxsize=32, blockysize=32, compress="deflate")
        _write_raster(folder / "rgb_uint16_bigtiff.tif", "GTiff", rgb.astype("uint16") * 200,
                      rgb_transform, rgb_crs, BIGTIFF="YES", compress="lzw",
                      interleave="band")
    else:
        _write_raster(folder / "rgb_utm.img", "HFA", rgb, rgb_transform, rgb_crs, nodata=0)
        _write_raster(folder / "bgrn_cgcs2000_compressed.img", "HFA", four, four_transform,
                      cgcs2000, COMPRESSED="YES")


def _footprints() -> list[tuple[dict, dict]]:
    """The real footprints (GeoJSON geometries) and a few properties of the STAC items."""
    rows = []
    for path in sorted((REAL_DATA / "stac_items").glob("*.json")):
        items = json.loads(path.read_text())
        items = items.get("features", items) if isinstance(items, dict) else items
        for item in items:
            props = item.get("properties", {})
            rows.append((item["geometry"], {
                "item_id": item["id"][:60], "platform": str(props.get("platform", ""))[:30],
                "cloud": float(props.get("eo:cloud_cover") or 0.0)}))
    return rows


def _zip_of(folder: Path, stem: str, keep: tuple[str, ...]) -> bytes:
    """The files ``folder/stem.<ext>`` for ``ext`` in ``keep``, zipped at the root."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for ext in keep:
            part = folder / f"{stem}.{ext}"
            if part.exists():
                archive.write(part, part.name)
    return buffer.getvalue()


def _vector_seeds(folder: Path, work: Path) -> None:
    """Zipped shapefiles: real footprints (WGS84 and CGCS2000 UTM), their centroids."""
    import geopandas
    import shapely.geometry

    rows = _footprints()
    frame = geopandas.GeoDataFrame([props for _, props in rows],
                                   geometry=[shapely.geometry.shape(g) for g, _ in rows],
                                   crs="EPSG:4326").iloc[:6]
    frame["name"] = ["森林", "water", "城市", "farm", "河流", "road"][:len(frame)]
    work.mkdir(parents=True, exist_ok=True)
    frame.to_file(work / "footprints.shp", engine="pyogrio", encoding="UTF-8")
    (folder / "footprints_wgs84.zip").write_bytes(
        _zip_of(work, "footprints", ("shp", "shx", "dbf", "prj", "cpg")))
    projected = frame.to_crs("EPSG:4547")  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
    points = projected.set_geometry(projected.geometry.centroid)
    points.to_file(work / "centres.shp", engine="pyogrio")
    (folder / "centres_cgcs2000.zip").write_bytes(
        _zip_of(work, "centres", ("shp", "shx", "dbf", "prj")))
    (folder / "centres_no_prj.zip").write_bytes(_zip_of(work, "centres", ("shp", "shx", "dbf")))


def write_seeds(fmt: str, folder: Path) -> list[Path]:
    """Write the seed corpus of ``fmt`` into ``folder`` from the real samples.

    Raises:
        FileNotFoundError: when the real samples are absent.
    """
    if not REAL_DATA.is_dir():
        raise FileNotFoundError(f"real sample data not found at {REAL_DATA}")
    folder.mkdir(parents=True, exist_ok=True)
    if fmt in ("zip", "shp"):
        _vector_seeds(folder, folder.parent / f".{fmt}-seed-work")
        shutil.rmtree(folder.parent / f".{fmt}-seed-work", ignore_errors=True)
        if fmt == "shp":
            for path in list(folder.glob("*.zip")):
                with zipfile.ZipFile(path) as archive:
                    parts = {Path(n).suffix[1:]: archive.read(n) for n in archive.namelist()}
                path.with_suffix(".shp").write_bytes(
                    MEMBER_MARK.join(parts.get(ext, b"") for ext in _SHP_PARTS))
                path.unlink()
    else:
        _raster_seeds(folder, fmt)
    return sorted(folder.glob(f"*.{fmt}"))
