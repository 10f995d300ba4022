"""The one safe reader of user vector files: zipped shapefile, GeoJSON, GeoPackage.

Used for search areas and, later, for uploads (PRODUCT.md §2). The rules:

* **zipped shapefile** (``.zip``): exactly one ``.shp`` with its ``.shx``, ``.dbf`` and
  ``.prj`` (same name) at the root of the archive; optional sidecars (``.cpg``, ``.qix``,
  ``.sbn``, ``.sbx``, ``.xml`` …) are allowed, anything inside a folder is refused (macOS
  ``__MACOSX/`` metadata excepted), and so are absolute names, ``..``, backslashes, links and
  encrypted members. Only the needed members are unpacked, under names of our own, into a
  temporary folder, counting the bytes.
* **GeoJSON** (``.geojson``, ``.json``): RFC 7946 lon/lat, or an old-style ``"crs"`` member.
* **GeoPackage** (``.gpkg``): its one vector layer, or the ``layer`` asked for.
* a plain ``.shp`` beside its companions (notebooks); uploads should use zips.
* size: at most :func:`max_vector_bytes` (5 GB by default, ``$TERRALAB_VECTOR_MAX_BYTES``)
  for the file, and four times that unpacked.
* CRS: see :mod:`terralab.areas.crs` (WGS84, CGCS2000, Xian 1980, Beijing 1954 and
  projections on them); the result is reprojected to EPSG:4326.

Every refusal is an :class:`~terralab.areas.AreaError` with a message for the user.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import shapely
from shapely.geometry.base import BaseGeometry

from terralab.areas.area import Area
from terralab.areas.crs import CrsCheck, check_crs
from terralab.areas.errors import AreaError
from terralab.areas.geometry import validate_lonlat

if TYPE_CHECKING:
    import geopandas

__all__ = ["DEFAULT_MAX_BYTES", "SUFFIXES", "VectorData", "check_shapefile_zip",
           "max_vector_bytes", "read_vector_file", "vector_area"]

DEFAULT_MAX_BYTES = 5 * 1024**3
ENV_MAX_BYTES = "TERRALAB_VECTOR_MAX_BYTES"
SUFFIXES = (".zip", ".geojson", ".json", ".gpkg", ".shp")
_REQUIRED = (".shp", ".shx", ".dbf", ".prj")
_SIDECARS = {".cpg", ".qix", ".sbn", ".sbx", ".xml", ".fix", ".qmd", ".aih", ".ain", ".atx",
             ".ixs", ".mxs", ".shp.xml"}
_JSON_CHECK_BYTES = 64 * 1024**2


@dataclass(frozen=True)
class VectorData:
    """A vector file read and checked.

    Attributes:
        frame: its features, reprojected to EPSG:4326.
        geometry: the union of their geometries (valid, not empty), EPSG:4326.
        crs: the file's own CRS as checked (datum, accuracy of the change to EPSG:4326).
        path: the file.
        layer: the layer read (GeoPackage), else None.
    """

    frame: geopandas.GeoDataFrame
    geometry: BaseGeometry
    crs: CrsCheck
    path: Path
    layer: str | None = None


def max_vector_bytes() -> int:
    """The largest vector file accepted: ``$TERRALAB_VECTOR_MAX_BYTES``, else 5 GB."""
    value = os.environ.get(ENV_MAX_BYTES, "").strip()
    try:
        return int(value) if value else DEFAULT_MAX_BYTES
    except ValueError:
        raise AreaError(f"${ENV_MAX_BYTES} must be a number of bytes, not {value!r}") from None


def _size_text(size: int) -> str:
    """``5 GB``, ``12.3 MB``… for messages."""
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


def check_shapefile_zip(path: str | Path, *,
                        max_bytes: int | None = None) -> dict[str, zipfile.ZipInfo]:
    """Check a zipped shapefile against the rules without unpacking it.

    Args:
        path: the ``.zip`` file.
        max_bytes: the largest accepted zip (default :func:`max_vector_bytes`); the
            members may hold four times that unpacked.

    Returns:
        The members to read, by extension (``".shp"``, ``".shx"``, ``".dbf"``, ``".prj"``
        and an optional ``".cpg"``).

    Raises:
        AreaError: when the archive breaks a rule; the message says which.
    """
    path = Path(path)
    limit = max_vector_bytes() if max_bytes is None else max_bytes
    name = path.name
    if not path.is_file():
        raise AreaError(f"vector file not found: {str(path)!r}")
    if path.stat().st_size > limit:
        raise AreaError(f"{name} is {_size_text(path.stat().st_size)}, more than the "
                        f"{_size_text(limit)} allowed")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise AreaError(f"{name} is not a readable zip archive ({error})") from None
    root: list[zipfile.ZipInfo] = []
    for info in infos:
        member = info.filename
        parts = PurePosixPath(member).parts
        if ("\\" in member or "\x00" in member or member.startswith("/") or ".." in parts
                or (parts and parts[0].endswith(":"))):
            raise AreaError(f"{name} holds an unsafe member name {member!r}")
        if parts and (parts[0] == "__MACOSX" or parts[-1] == ".DS_Store"):
            continue
        if info.is_dir() or len(parts) > 1:
            raise AreaError(f"{name} holds a folder ({member!r}); the shapefile's files must "
                            "be at the root of the zip, with no folders")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise AreaError(f"{name} holds a link ({member!r}), which is not allowed")
        if info.flag_bits & 0x1:
            raise AreaError(f"{name} is password-protected ({member!r}); upload it unencrypted")
        root.append(info)
    shps = [i for i in root if i.filename.lower().endswith(".shp")]
    if not shps:
        raise AreaError(f"{name} holds no shapefile (.shp) at its root")
    if len(shps) > 1:
        names = ", ".join(i.filename for i in shps)
        raise AreaError(f"{name} holds {len(shps)} shapefiles ({names}); exactly one "
                        "shapefile is allowed per zip")
    stem = shps[0].filename[:-4]
    members = {i.filename[len(stem):].lower(): i for i in root
               if i.filename[:len(stem)] == stem and i.filename[len(stem):].startswith(".")}
    missing = [ext for ext in _REQUIRED if ext not in members]
    if missing:
        why = (" (the .prj says which coordinate system the data uses)"
               if ".prj" in missing else "")
        raise AreaError(f"{name} lacks {', '.join(stem + ext for ext in missing)}: a shapefile "
                        f"needs its .shp, .shx, .dbf and .prj{why}")
    unpacked = sum(i.file_size for i in members.values())
    if unpacked > 4 * limit:
        raise AreaError(f"{name} unpacks to {_size_text(unpacked)}, more than the "
                        f"{_size_text(4 * limit)} allowed")
    return {ext: info for ext, info in members.items() if ext in (*_REQUIRED, ".cpg")}


def _unpack(path: Path, members: dict[str, zipfile.ZipInfo], folder: Path) -> Path:
    """Copy the members into ``folder`` as ``layer.<ext>``, counting the bytes."""
    with zipfile.ZipFile(path) as archive:
        for ext, info in members.items():
            written = 0
            with archive.open(info) as source, open(folder / f"layer{ext}", "wb") as target:
                while chunk := source.read(1024 * 1024):
                    written += len(chunk)
                    if written > info.file_size:
                        raise AreaError(f"{path.name}: {info.filename} is larger than its zip "
                                        "entry says; the archive is corrupt")
                    target.write(chunk)
    return folder / "layer.shp"


def _gpkg_layer(path: Path, layer: str | None) -> str:
    """Choose the layer of a GeoPackage: the one vector layer, or the one asked for."""
    import pyogrio
    from pyogrio import errors

    try:
        listed = pyogrio.list_layers(path)
    except (errors.DataSourceError, OSError, ValueError) as error:
        raise AreaError(f"{path.name} is not a readable GeoPackage: {error}") from None
    layers = [str(name) for name, kind in listed if kind is not None]
    if layer is not None:
        if layer not in layers:
            raise AreaError(f"{path.name} has no vector layer {layer!r}; its layers: "
                            f"{', '.join(layers) or 'none'}")
        return layer
    if not layers:
        raise AreaError(f"{path.name} holds no vector layer")
    if len(layers) > 1:
        raise AreaError(f"{path.name} holds {len(layers)} vector layers ({', '.join(layers)}); "
                        "choose one with layer=…")
    return layers[0]


def _check_json(path: Path) -> None:
    """Give JSON syntax errors a clear message before GDAL reads the file."""
    if path.stat().st_size > _JSON_CHECK_BYTES:
        return
    try:
        json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as error:
        raise AreaError(f"{path.name} is not valid GeoJSON (JSON error: {error})") from None


def _read(source: Path, name: str, layer: str | None) -> Any:
    """Read one dataset with pyogrio, turning its errors into AreaError."""
    import pyogrio
    from pyogrio import errors

    try:
        return pyogrio.read_dataframe(source, layer=layer)
    except (errors.DataSourceError, errors.DataLayerError, errors.GeometryError,
            errors.FieldError, errors.CRSError, ValueError, OSError, UnicodeError) as error:
        raise AreaError(f"{name} cannot be read as a vector file: {error}") from None


def read_vector_file(path: str | Path, *, layer: str | None = None,
                     max_bytes: int | None = None) -> VectorData:
    """Read a zipped shapefile, GeoJSON or GeoPackage safely, in EPSG:4326.

    Args:
        path: the file (``.zip``, ``.geojson``, ``.json``, ``.gpkg`` or ``.shp``).
        layer: the GeoPackage layer; needed only when it has several.
        max_bytes: the largest accepted file (default :func:`max_vector_bytes`).

    Returns:
        The features in EPSG:4326, their union and the file's checked CRS.

    Raises:
        AreaError: for a missing, too large, unsafe, unreadable, empty or wrongly
            referenced file.
    """
    path = Path(path).expanduser()
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise AreaError(f"{name}: unsupported vector file type {suffix or '(none)'!r}; use a "
                        "zipped shapefile (.zip), GeoJSON (.geojson, .json) or GeoPackage (.gpkg)")
    if not path.is_file():
        raise AreaError(f"vector file not found: {str(path)!r}")
    limit = max_vector_bytes() if max_bytes is None else max_bytes
    if path.stat().st_size > limit:
        raise AreaError(f"{name} is {_size_text(path.stat().st_size)}, more than the "
                        f"{_size_text(limit)} allowed")
    if suffix == ".zip":
        members = check_shapefile_zip(path, max_bytes=limit)
        with tempfile.TemporaryDirectory(prefix="terralab-vector-") as folder:
            frame = _read(_unpack(path, members, Path(folder)), name, None)
    elif suffix == ".shp":
        missing = [ext for ext in _REQUIRED if not path.with_suffix(ext).is_file()]
        if missing:
            raise AreaError(f"{name} lacks its {', '.join(missing)} companion file(s)")
        frame = _read(path, name, None)
    elif suffix == ".gpkg":
        layer = _gpkg_layer(path, layer)
        frame = _read(path, name, layer)
    else:
        _check_json(path)
        frame = _read(path, name, None)
    return _finish(frame, path, layer if suffix == ".gpkg" else None)


def _finish(frame: Any, path: Path, layer: str | None) -> VectorData:
    """Check the CRS and the geometries, reproject to EPSG:4326, union."""
    name = path.name
    checked = check_crs(frame.crs, what=name)
    geometries = frame.geometry
    frame = frame[geometries.notna() & ~geometries.is_empty]
    if frame.empty:
        raise AreaError(f"{name} is empty: it holds no features with a geometry")
    if checked.is_wgs84_lonlat:
        frame = frame.set_crs("EPSG:4326", allow_override=True)
    else:
        frame = frame.to_crs("EPSG:4326")
    valid = shapely.make_valid(frame.geometry.values)
    union = validate_lonlat(shapely.union_all(valid), what=name)
    return VectorData(frame=frame, geometry=union, crs=checked, path=path, layer=layer)


def vector_area(path: str | Path, *, layer: str | None = None) -> Area:
    """Return a vector file's union as a search :class:`~terralab.areas.Area` (kind ``"file"``).

    The area's ``note`` says which CRS the file used and how accurate the change to
    EPSG:4326 is.
    """
    data = read_vector_file(path, layer=layer)
    label = data.path.name + (f" ({data.layer})" if data.layer else "")
    note = f"read from {data.crs.name} ({data.crs.datum}); accuracy {data.crs.accuracy}"
    return Area(geometry=data.geometry, name=label, kind="file", note=note)
