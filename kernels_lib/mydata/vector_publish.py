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

import contextlib
import math
import os
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
    prj_is_text,
    unpack_shapefile_zip,
)
from terralab.mydata._dbf_text import FALLBACK_ENCODINGS, candidate_encodings, dbf_decodes
from terralab.mydata._vector_preview import draw_preview
from terralab.mydata.errors import UploadError
from terralab.mydata.limits import UploadLimits
from terralab.sizes import format_size

__all__ = ["PublishedVector", "check_vector", "list_layers", "publish_vector"]

_KINDS = {".zip": "shapefile", ".geojson": "geojson", ".json": "geojson", ".gpkg": "geopackage"}
_TYPE_NAMES = ("Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString",
               "MultiPolygon", "GeometryCollection")
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
            errors.FieldError, errors.CRSError, ValueError, OSError,
            shapely.errors.GEOSException) as error:  # GEOS: e.g. a ring that is not closed
        raise UploadError(f"{what} cannot be read as a vector file: {error}",
                          rule="vector") from None


def _read_shapefile(shp: Path, what: str, flags: list[str]) -> tuple[Any, str]:
    """Read an unpacked shapefile in the first encoding its text is valid in."""
    candidates, from_cpg = candidate_encodings(shp, flags)
    for encoding in candidates:
        if encoding != candidates[-1] and not dbf_decodes(shp.with_suffix(".dbf"), encoding):
            continue
        try:
            frame = _read(shp, what, encoding=encoding)
        except UnicodeDecodeError:
            continue
        if encoding != candidates[0]:
            said = " (as its .cpg says)" if from_cpg else ""
            last = encoding == FALLBACK_ENCODINGS[-1]
            check = "; check that the text looks right" if last else ""
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
    if span > 0:  # GEOS refuses a span too small for the coordinates' size: keep the outline
        with contextlib.suppress(shapely.errors.GEOSException):
            hull = shapely.segmentize(hull, span / 32)
    try:
        transformer = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        footprint = reproject(hull, transformer).convex_hull
    except (ProjError, CRSError) as error:
        raise UploadError(f"{what}: its coordinate system {crs.name!r} cannot be turned into "
                          f"longitude/latitude ({error})", rule="crs") from None
    except shapely.errors.GEOSException:  # coordinates that become infinite or NaN
        footprint = shapely.Point(math.inf, math.inf)
    coords = shapely.get_coordinates(footprint)
    if (not np.isfinite(coords).all() or np.abs(coords[:, 0]).max() > 180.000001
            or np.abs(coords[:, 1]).max() > 90.000001):
        raise UploadError(f"{what}: its coordinates do not fall on the Earth in its coordinate "
                          f"system {crs.name!r}; check that the .prj matches the data",
                          rule="crs")
    return footprint


def _unique_columns(frame: Any, flags: list[str]) -> Any:
    """Give attribute fields without a name, or with one used before, a name of their own.

    A DBF may hold fields with empty or repeated names; a GeoPackage table cannot. They are
    renamed ``field_<n>`` (its position) or ``<name>_2``, ``<name>_3`` … and a flag says so.
    """
    geometry = frame.geometry.name
    seen, names, renamed = {str(geometry).lower()}, [], []
    for position, column in enumerate(frame.columns, start=1):
        if column == geometry:
            names.append(column)
            continue
        base = str(column).strip() or f"field_{position}"
        name, number = base, 2
        while name.lower() in seen:  # GeoPackage (SQLite) names ignore letter case
            name, number = f"{base}_{number}", number + 1
        seen.add(name.lower())
        names.append(name)
        if name != column:
            renamed.append(f"{column!r} → {name}")
    if not renamed:
        return frame
    frame = frame.copy()
    frame.columns = names
    flags.append("attribute fields without a name or with a repeated name were renamed: "
                 + ", ".join(renamed))
    return frame


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


def _check_file(path: Path, what: str, limits: UploadLimits) -> None:
    """Refuse a missing upload or one larger than the upload rules allow."""
    if not path.is_file():
        raise UploadError(f"{what}: the uploaded file is missing", rule="vector")
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise UploadError(f"{what} is {format_size(size)}, more than the "
                          f"{format_size(limits.max_bytes)} allowed", rule="size")


def check_vector(path: str | Path, limits: UploadLimits, *, layer: str | None = None,
                 name: str | None = None) -> str:
    """The quick checks of an uploaded vector file: type, size, zip members and layers.

    Reads no features (a zip's directory, a GeoPackage's layer list, a GeoJSON's header),
    so the hub service runs it at once on a received upload; :func:`publish_vector` runs
    the same checks again before reading the features.

    Returns:
        The layer that will be published.

    Raises:
        UploadError: when the file breaks a rule; ``rule`` says which (``"layers"`` with
            the file's layers when one must be chosen).
    """
    path = Path(path)
    what = name or path.name
    kind = _kind(what)
    _check_file(path, what, limits)
    return _choose(_layers(path, kind, what, limits), layer, what)


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
    _check_file(path, what, limits)
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
            if not prj_is_text(shp):  # read without it: the CRS is unknown, and flagged
                shp.with_suffix(".prj").unlink()
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
    if not np.isfinite(shapely.get_coordinates(geoms[present])).all():
        raise UploadError(f"{what} holds coordinates that are not numbers (NaN or infinite)",
                          rule="vector")
    if not present.all():
        flags.append(f"{int((~present).sum())} of {len(frame)} features have no geometry; "
                     "they are kept but not drawn")
    frame = _unique_columns(frame, flags)
    crs = _crs(frame, limits, what)
    footprint = None if crs is None else _footprint(geoms[present], crs, what)
    if crs is None:
        flags.insert(0, unknown)
    gpkg, thumbnail = folder / "data.gpkg", folder / "thumbnail.png"
    _write_gpkg(frame, gpkg, what)
    draw_preview(geoms[present], crs is not None and crs.is_geographic, thumbnail)
    return PublishedVector(
        gpkg=gpkg, thumbnail=thumbnail, source_layer=source_layer, feature_count=len(frame),
        geometry_types=tuple(sorted(_TYPE_NAMES[i] for i in
                                    np.unique(shapely.get_type_id(geoms[present])))),
        crs_name=None if crs is None else crs.name, crs_known=crs is not None,
        footprint_wgs84=footprint,
        bounds_wgs84=None if footprint is None else tuple(footprint.bounds),
        encoding=encoding, flags=tuple(flags))
