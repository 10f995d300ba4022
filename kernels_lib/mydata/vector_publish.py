"""Publish an uploaded vector file: check it, keep it as one GeoPackage layer, draw a preview.

Accepted (PRODUCT.md §2): a ``.zip`` holding one ``.shp``/``.shx``/``.dbf`` set at its root
(``.prj`` optional), GeoJSON (``.geojson``, ``.json``) and GeoPackage (``.gpkg``: its one
vector layer, or ``layer``). Files go through the safe reader's checks
(:mod:`terralab.areas.vector_files`: zip slip and zip bombs refused before anything is
unpacked) and are written, in their own CRS, as ``folder/data.gpkg`` (layer ``data``) with a
256-pixel ``folder/thumbnail.png``. Decisions:

* no ``.prj``: accepted with the CRS **unknown**, stored without one and flagged; never
  assumed to be WGS84.
* shapefile text: the ``.cpg``'s encoding first (else a CJK code page named by the ``.dbf``
  language-driver byte, then UTF-8); when the raw bytes are not valid in it, GB18030 (common
  for Chinese data), then ISO-8859-1. Which one is in ``encoding`` and, when not the first,
  in ``flags``. An undeclared GBK ``.dbf`` is thus not read as latin-1 mojibake.
* ``limits.crs == "platform"``: a known CRS must be on WGS84, CGCS2000, Xian 1980 or Beijing
  1954 (:mod:`terralab.areas.crs`; Web Mercator refused as for search areas). Coordinates
  that do not land on the Earth in lon/lat are refused (a wrong ``.prj``).
* the type comes from ``name`` (the user's file name) when given, else from ``path``.

Refusals are :class:`~terralab.mydata.errors.UploadError` with ``rule`` ``"type"``,
``"size"``, ``"zip"``, ``"layers"``, ``"crs"`` or ``"vector"``.
"""

from __future__ import annotations

import codecs
import math
import os
import struct
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError
from shapely.geometry.base import BaseGeometry

from terralab.areas.crs import check_crs, reproject
from terralab.areas.errors import AreaError
from terralab.areas.vector_files import (
    check_geojson,
    check_shapefile_zip,
    gpkg_layers,
    unpack_shapefile_zip,
)
from terralab.mydata.errors import UploadError
from terralab.mydata.limits import UploadLimits

__all__ = ["PublishedVector", "list_layers", "publish_vector"]

_KINDS = {".zip": "shapefile", ".geojson": "geojson", ".json": "geojson", ".gpkg": "geopackage"}
_FALLBACKS = ("GB18030", "ISO-8859-1")
_LDID_CJK = {0x13: "cp932", 0x4D: "cp936", 0x4E: "cp949", 0x4F: "cp950", 0x7A: "cp936",
             0x7B: "cp932"}
_TYPE_NAMES = ("Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString",
               "MultiPolygon", "GeometryCollection")
_THUMB = 256
_MARGIN = 8
_BLUE = (51, 136, 255)
_FILL_ALPHA = 90
_NO_PRJ = ("CRS unknown: the shapefile has no .prj; set the coordinate system before using "
           "it on the map")
_BAD_PRJ = ("CRS unknown: the shapefile's .prj could not be read; set the coordinate system "
            "before using it on the map")
_NO_CRS = ("CRS unknown: the file declares no coordinate system; set it before using it on "
           "the map")


@dataclass(frozen=True)
class PublishedVector:
    """An uploaded vector file, published.

    Attributes:
        gpkg: ``folder/data.gpkg``: one layer named ``data``, in the file's own CRS (none
            when unknown).
        thumbnail: ``folder/thumbnail.png``: a 256×256 RGBA preview of the features.
        source_layer: the layer read (GeoPackage layer, shapefile name, GeoJSON layer name).
        feature_count: how many features were kept (those without geometry included).
        geometry_types: the geometry types found (``("MultiPolygon", "Polygon")``).
        crs_name: the CRS's name, None when unknown.
        crs_known: whether the file declares its CRS.
        footprint_wgs84: the convex hull of the data in EPSG:4326; None when the CRS is
            unknown.
        bounds_wgs84: west, south, east, north of the footprint; None when the CRS is unknown.
        encoding: the attribute text encoding used (``"UTF-8"``, ``"GB18030"`` …).
        flags: notes for the user (unknown CRS, text encoding guessed, features without
            geometry).
    """

    gpkg: Path
    thumbnail: Path
    source_layer: str | None
    feature_count: int
    geometry_types: tuple[str, ...]
    crs_name: str | None
    crs_known: bool
    footprint_wgs84: BaseGeometry | None
    bounds_wgs84: tuple[float, float, float, float] | None
    encoding: str | None
    flags: tuple[str, ...]


def _size(size: int) -> str:
    """``5 GB``, ``12.3 MB``… for messages."""
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


def _kind(what: str) -> str:
    """The kind of file its name says, or a ``type`` refusal."""
    suffix = Path(what).suffix.lower()
    if suffix not in _KINDS:
        raise UploadError(f"{what}: vector files of type {suffix or '(none)'!r} are not "
                          "accepted; upload a zipped shapefile (.zip), GeoJSON (.geojson, "
                          ".json) or GeoPackage (.gpkg)", rule="type")
    return _KINDS[suffix]


def _zip_members(path: Path, limits: UploadLimits, what: str) -> dict[str, Any]:
    """Check a zipped shapefile against the upload limits (nothing unpacked)."""
    try:
        return check_shapefile_zip(
            path, max_bytes=limits.max_bytes, max_entries=limits.zip_max_entries,
            max_unpacked=limits.zip_max_unpacked, max_ratio=limits.zip_max_ratio,
            require_prj=False, name=what)
    except AreaError as error:
        raise UploadError(str(error), rule="zip") from None


def _stem(info: Any) -> str:
    """A zipped shapefile's name; names not marked UTF-8 are cp437 to zipfile, or GBK."""
    stem = info.filename[:-4]
    if not info.flag_bits & 0x800:
        for encoding in ("utf-8", "gb18030"):
            try:
                return stem.encode("cp437").decode(encoding)
            except UnicodeError:
                continue
    return stem


def _layers(path: Path, kind: str, what: str, limits: UploadLimits) -> list[str]:
    """The file's vector layers (a shapefile or GeoJSON has one)."""
    import pyogrio

    if kind == "shapefile":
        return [_stem(_zip_members(path, limits, what)[".shp"])]
    try:
        if kind == "geopackage":
            return gpkg_layers(path, name=what)
        check_geojson(path, name=what)
        return [str(row[0]) for row in pyogrio.list_layers(path)][:1]
    except AreaError as error:
        raise UploadError(str(error), rule="vector") from None
    except (pyogrio.errors.DataSourceError, OSError, ValueError) as error:
        raise UploadError(f"{what} cannot be read as GeoJSON: {error}", rule="vector") from None


def list_layers(path: str | Path) -> list[str]:
    """The vector layers of a GeoPackage, or the one layer of a zipped shapefile / GeoJSON.

    Raises:
        UploadError: for a file type not accepted (``"type"``), an unsafe zip (``"zip"``) or
            an unreadable file (``"vector"``).
    """
    path = Path(path)
    return _layers(path, _kind(path.name), path.name, UploadLimits())


def _choose(layers: list[str], layer: str | None, what: str) -> str:
    """The layer asked for, or the only one, or a ``layers`` refusal."""
    if not layers:
        raise UploadError(f"{what} holds no vector layer", rule="vector")
    if layer is None and len(layers) > 1:
        raise UploadError(f"{what} holds {len(layers)} vector layers ({', '.join(layers)}); "
                          "choose one with layer=…", rule="layers", layers=layers)
    if layer is not None and layer not in layers:
        raise UploadError(f"{what} has no vector layer {layer!r}; its layers: "
                          f"{', '.join(layers)}", rule="layers", layers=layers)
    return layer or layers[0]


def _read(source: Path, what: str, **options: Any) -> Any:
    """Read with pyogrio; its errors (decoding ones aside) become ``vector`` refusals."""
    import pyogrio
    from pyogrio import errors

    try:
        return pyogrio.read_dataframe(source, **options)
    except UnicodeDecodeError:
        raise
    except (errors.DataSourceError, errors.DataLayerError, errors.GeometryError,
            errors.FieldError, errors.CRSError, ValueError, OSError) as error:
        raise UploadError(f"{what} cannot be read as a vector file: {error}",
                          rule="vector") from None


def _codec(name: str) -> str | None:
    """The Python codec for an encoding named in a ``.cpg`` (``UTF-8``, ``936``, ``GBK``…)."""
    text = name.strip()
    if text.isdigit():
        text = "utf-8" if text == "65001" else f"cp{text}"
    elif text.upper().startswith("8859"):
        text = "iso-8859-" + text[4:].lstrip("-_")
    try:
        return codecs.lookup(text).name.upper() if text else None
    except LookupError:
        return None


def _encodings(shp: Path, flags: list[str]) -> tuple[list[str], bool]:
    """The encodings to try for a shapefile's text, and whether a ``.cpg`` named the first."""
    cpg = shp.with_suffix(".cpg")
    first: list[str] = []
    from_cpg = False
    if cpg.is_file():
        text = cpg.read_bytes()[:64].decode("ascii", "replace").strip()
        codec = _codec(text)
        if codec:
            first, from_cpg = [codec], True
        elif text:
            flags.append(f"the .cpg names an unknown encoding {text!r}; it was ignored")
    if not first:
        with open(shp.with_suffix(".dbf"), "rb") as dbf:
            header = dbf.read(32)
        if len(header) > 29 and header[29] in _LDID_CJK:
            first = [_LDID_CJK[header[29]].upper()]
    tried: list[str] = []
    for name in (*first, "UTF-8", *_FALLBACKS):
        if all(codecs.lookup(name).name != codecs.lookup(seen).name for seen in tried):
            tried.append(name)
    return tried, from_cpg


def _dbf_decodes(dbf: Path, encoding: str) -> bool:
    """Whether every field name and text value of a ``.dbf`` decodes strictly in ``encoding``.

    GDAL replaces bytes it cannot recode with ``?`` (warning once per process), so the check
    is made here, on the raw bytes, 64k records at a time.
    """
    with open(dbf, "rb") as handle:
        head = handle.read(32)
        if len(head) < 32:
            return True  # GDAL says what is wrong with it
        count, header_length, record_length = struct.unpack_from("<IHH", head, 4)
        descriptors = handle.read(max(0, header_length - 32))
    names, texts, offset = [], [], 1
    for at in range(0, len(descriptors) - 31, 32):
        if descriptors[at] == 0x0D:
            break
        names.append(descriptors[at:at + 11].split(b"\x00")[0])
        width = descriptors[at + 16]
        if descriptors[at + 11:at + 12] == b"C" and offset + width <= record_length:
            texts.append((offset, width))
        offset += width
    try:
        b"\x00".join(names).decode(encoding)
    except UnicodeDecodeError:
        return False
    available = (dbf.stat().st_size - header_length) // record_length if record_length else 0
    count = min(count, max(available, 0))
    if not texts or not count:
        return True
    records = np.memmap(dbf, np.uint8, "r", offset=header_length, shape=(count, record_length))
    for start in range(0, count, 65536):
        rows = records[start:start + 65536]
        for offset, width in texts:  # one value per line: a cut character cannot hide
            block = np.zeros((len(rows), width + 1), np.uint8)
            block[:, :width] = rows[:, offset:offset + width]
            try:
                block.tobytes().decode(encoding)
            except UnicodeDecodeError:
                return False
    return True


def _read_shapefile(shp: Path, what: str, flags: list[str]) -> tuple[Any, str]:
    """Read an unpacked shapefile in the first encoding its text is valid in."""
    candidates, from_cpg = _encodings(shp, flags)
    for encoding in candidates:
        if encoding != candidates[-1] and not _dbf_decodes(shp.with_suffix(".dbf"), encoding):
            continue
        try:
            frame = _read(shp, what, encoding=encoding)
        except UnicodeDecodeError:
            continue
        if encoding != candidates[0]:
            said = " (as its .cpg says)" if from_cpg else ""
            check = "; check that the text looks right" if encoding == _FALLBACKS[-1] else ""
            flags.append(f"attribute text was not valid {candidates[0]}{said} and was read "
                         f"as {encoding}{check}")
        return frame, encoding
    raise AssertionError("ISO-8859-1 decodes any bytes")  # pragma: no cover


def _crs(frame: Any, limits: UploadLimits, what: str) -> CRS | None:
    """The file's CRS (None when unknown), checked against the rule."""
    crs = frame.crs
    if crs is None:
        return None
    if limits.crs == "platform":
        try:
            check_crs(crs, what=what)
        except AreaError as error:
            raise UploadError(str(error), rule="crs") from None
    elif not (crs.is_geographic or crs.is_projected):
        raise UploadError(f"{what} uses {crs.name!r}, which is neither geographic nor "
                          "projected", rule="crs")
    return crs


def _footprint(geoms: np.ndarray, crs: CRS, what: str) -> BaseGeometry:
    """The convex hull of the data, in EPSG:4326 (densified before reprojecting)."""
    hull = shapely.MultiPoint(shapely.get_coordinates(geoms)).convex_hull
    west, south, east, north = hull.bounds
    span = max(east - west, north - south)
    if span > 0:
        hull = shapely.segmentize(hull, span / 32)
    try:
        transformer = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        footprint = reproject(hull, transformer).convex_hull
    except (ProjError, CRSError) as error:
        raise UploadError(f"{what}: its coordinate system {crs.name!r} cannot be turned into "
                          f"longitude/latitude ({error})", rule="crs") from None
    coords = shapely.get_coordinates(footprint)
    if (not np.isfinite(coords).all() or np.abs(coords[:, 0]).max() > 180.000001
            or np.abs(coords[:, 1]).max() > 90.000001):
        raise UploadError(f"{what}: its coordinates do not fall on the Earth in its coordinate "
                          f"system {crs.name!r}; check that the .prj matches the data",
                          rule="crs")
    return footprint


def _thumbnail(geoms: np.ndarray, lonlat: bool, target: Path) -> None:
    """Draw the features into a 256×256 RGBA PNG (fills translucent, edges and points solid)."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.features import rasterize
    from rasterio.transform import Affine

    parts = shapely.get_parts(geoms)
    for _ in range(3):  # nested collections
        if not (shapely.get_type_id(parts) == 7).any():
            break
        parts = shapely.get_parts(parts)
    parts = parts[~shapely.is_empty(parts)]
    west, south, east, north = shapely.total_bounds(parts)
    xscale = max(math.cos(math.radians((south + north) / 2)), 0.01) if lonlat else 1.0
    span = max((east - west) * xscale, north - south) or 1.0
    pixel = span / (_THUMB - 2 * _MARGIN)
    transform = Affine(pixel / xscale, 0, (west + east) / 2 - _THUMB / 2 * pixel / xscale,
                       0, -pixel, (south + north) / 2 + _THUMB / 2 * pixel)
    types = shapely.get_type_id(parts)
    polygons = parts[types == 3]
    lines = np.concatenate([parts[(types == 1) | (types == 2)], shapely.boundary(polygons)])
    shape = (_THUMB, _THUMB)

    def draw(shapes: np.ndarray, touched: bool) -> np.ndarray:
        if not len(shapes):
            return np.zeros(shape, bool)
        return rasterize(((g, 1) for g in shapes), out_shape=shape, transform=transform,
                         all_touched=touched, dtype="uint8").astype(bool)

    fill, edges, dots = draw(polygons, False), draw(lines, True), draw(parts[types == 0], True)
    padded = np.pad(dots, 2)
    dots = np.logical_or.reduce([padded[2 + dy:2 + dy + _THUMB, 2 + dx:2 + dx + _THUMB]
                                 for dy in range(-2, 3) for dx in range(-2, 3)])
    rgba = np.zeros((4, *shape), np.uint8)
    solid = edges | dots
    for band, value in enumerate(_BLUE):
        rgba[band][fill | solid] = value
    rgba[3][fill] = _FILL_ALPHA
    rgba[3][solid] = 255
    partial = target.with_name(f".{target.stem}.partial.png")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(partial, "w", driver="PNG", width=_THUMB, height=_THUMB, count=4,
                           dtype="uint8") as png:
            png.write(rgba)
    os.replace(partial, target)


def _write_gpkg(frame: Any, target: Path, what: str) -> None:
    """Write the features as the one layer ``data`` of a GeoPackage, then move it in place."""
    import pyogrio
    from pyogrio import errors

    options = {}
    if any(str(column).lower() == "fid" for column in frame.columns):
        options["layer_options"] = {"FID": "gpkg_fid"}  # keep the file's own "fid" column
    partial = target.with_name(f".{target.stem}.partial.gpkg")
    partial.unlink(missing_ok=True)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
            pyogrio.write_dataframe(frame, partial, layer="data", driver="GPKG", **options)
    except (errors.DataSourceError, errors.DataLayerError, errors.FieldError,
            errors.GeometryError, ValueError) as error:
        partial.unlink(missing_ok=True)
        raise UploadError(f"{what} cannot be stored as a GeoPackage: {error}",
                          rule="vector") from None
    os.replace(partial, target)


def publish_vector(path: str | Path, folder: str | Path, limits: UploadLimits, *,
                   layer: str | None = None, name: str | None = None) -> PublishedVector:
    """Check an uploaded vector file and publish it into ``folder``.

    Args:
        path: the uploaded file (``.zip``, ``.geojson``, ``.json`` or ``.gpkg``).
        folder: where to write ``data.gpkg`` and ``thumbnail.png``; created when missing.
            The caller owns it and removes it when this raises.
        limits: the upload rules (size, zip limits, CRS rule).
        layer: the GeoPackage layer to publish; needed only when it has several.
        name: the user's own file name, for messages and the type (default: ``path``'s).

    Returns:
        What was published: paths, feature count, CRS, footprint, encoding and flags.

    Raises:
        UploadError: when the file breaks a rule; ``rule`` says which.
    """
    path, folder = Path(path), Path(folder)
    what = name or path.name
    kind = _kind(what)
    if not path.is_file():
        raise UploadError(f"{what}: the uploaded file is missing", rule="vector")
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise UploadError(f"{what} is {_size(size)}, more than the {_size(limits.max_bytes)} "
                          "allowed", rule="size")
    flags: list[str] = []
    members = _zip_members(path, limits, what) if kind == "shapefile" else {}
    layers = [_stem(members[".shp"])] if members else _layers(path, kind, what, limits)
    source_layer = _choose(layers, layer, what)
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "shapefile":
        with tempfile.TemporaryDirectory(dir=folder, prefix=".unpack-") as work:
            try:
                shp = unpack_shapefile_zip(path, members, work, name=what,
                                           max_unpacked=limits.zip_max_unpacked)
            except AreaError as error:
                raise UploadError(str(error), rule="zip") from None
            frame, encoding = _read_shapefile(shp, what, flags)
    else:
        encoding = "UTF-8"
        options = {"layer": source_layer} if kind == "geopackage" else {}
        try:
            frame = _read(path, what, **options)
        except UnicodeDecodeError as error:
            raise UploadError(f"{what} holds text that is not UTF-8 ({error})",
                              rule="vector") from None
    unknown = (_NO_CRS if not members else _BAD_PRJ if ".prj" in members else _NO_PRJ)
    return _publish(frame, folder, limits, what, source_layer, encoding, flags, unknown)


def _publish(frame: Any, folder: Path, limits: UploadLimits, what: str, source_layer: str,
             encoding: str, flags: list[str], unknown: str) -> PublishedVector:
    """Check what was read, then write the GeoPackage and the thumbnail."""
    if "geometry" not in getattr(frame, "columns", ()) or not len(frame):
        raise UploadError(f"{what} is empty: it holds no features with a geometry",
                          rule="vector")
    geoms = np.asarray(frame.geometry.values, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not present.any():
        raise UploadError(f"{what} holds no geometry: none of its {len(frame)} features has "
                          "a shape", rule="vector")
    if not present.all():
        flags.append(f"{int((~present).sum())} of {len(frame)} features have no geometry; "
                     "they are kept but not drawn")
    crs = _crs(frame, limits, what)
    footprint = None if crs is None else _footprint(geoms[present], crs, what)
    if crs is None:
        flags.insert(0, unknown)
    gpkg, thumbnail = folder / "data.gpkg", folder / "thumbnail.png"
    _write_gpkg(frame, gpkg, what)
    _thumbnail(geoms[present], crs is not None and crs.is_geographic, thumbnail)
    return PublishedVector(
        gpkg=gpkg, thumbnail=thumbnail, source_layer=source_layer, feature_count=len(frame),
        geometry_types=tuple(sorted(_TYPE_NAMES[i] for i in
                                    np.unique(shapely.get_type_id(geoms[present])))),
        crs_name=None if crs is None else crs.name, crs_known=crs is not None,
        footprint_wgs84=footprint,
        bounds_wgs84=None if footprint is None else tuple(footprint.bounds),
        encoding=encoding, flags=tuple(flags))
