"""The one safe reader of user vector files: zipped shapefile, GeoJSON, GeoPackage.

Used for search areas and for uploads (PRODUCT.md §2; :mod:`terralab.mydata.vector_publish`
builds on the public pieces here). The rules:

* **zipped shapefile** (``.zip``): exactly one ``.shp`` with its ``.shx``, ``.dbf`` and
  ``.prj`` (same name, any letter case) at the root of the archive (uploads may leave the
  ``.prj`` out: ``require_prj=False``); optional sidecars (``.cpg``, ``.qix``, ``.sbn``,
  ``.sbx``, ``.xml`` …) are allowed, anything inside a folder is refused (macOS
  ``__MACOSX/`` metadata excepted), and so are absolute names, ``.`` and ``..`` parts,
  backslashes, colons (drive letters), control characters and NUL, links, encrypted
  members and two members that differ only by letter case. Zip-bomb limits (entry count,
  total unpacked size, compression ratio of a member) are checked on the central directory
  before anything is unpacked. Only the needed members are unpacked, under names of our
  own, counting the real bytes against the declared sizes.
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
import lzma
import stat
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shapely
from shapely.geometry.base import BaseGeometry

from terralab.areas.area import Area
from terralab.areas.crs import CrsCheck, check_crs
from terralab.areas.errors import AreaError
from terralab.areas.geometry import validate_lonlat
from terralab.settings import settings
from terralab.sizes import format_size

if TYPE_CHECKING:
    import geopandas

__all__ = ["DEFAULT_MAX_BYTES", "SUFFIXES", "VectorData", "check_geojson",
           "check_shapefile_zip", "gpkg_layers", "max_vector_bytes", "prj_is_text",
           "read_vector_file",
           "unpack_shapefile_zip", "vector_area"]

DEFAULT_MAX_BYTES = 5 * 1024**3
ENV_MAX_BYTES = "TERRALAB_VECTOR_MAX_BYTES"
SUFFIXES = (".zip", ".geojson", ".json", ".gpkg", ".shp")
_REQUIRED = (".shp", ".shx", ".dbf", ".prj")
_SIDECARS = {".cpg", ".qix", ".sbn", ".sbx", ".xml", ".fix", ".qmd", ".aih", ".ain", ".atx",
             ".ixs", ".mxs", ".shp.xml"}
_JSON_CHECK_BYTES = 64 * 1024**2
_RATIO_MIN_BYTES = 1024**2  # smaller members cannot be bombs; tiny files compress oddly
_CD_BYTES_PER_ENTRY = 4096  # a generous central-directory record (46 bytes + names)


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
    """The largest vector file accepted: the settings' ``areas.vector_max_bytes``, else 5 GB.

    Without a hub ``$TERRALAB_VECTOR_MAX_BYTES`` sets it (bytes, or "2GB").

    Raises:
        terralab.settings.SettingsError: for a bad value (the message names the variable).
    """
    value = settings().areas.vector_max_bytes
    return DEFAULT_MAX_BYTES if value is None else value


def _directory_size(path: Path) -> tuple[int, int] | None:
    """The entry count and central-directory size the end record declares, unparsed.

    Read from the end-of-central-directory record (and its zip64 form), so that an archive
    claiming millions of entries is refused before :mod:`zipfile` builds them all.
    """
    size = path.stat().st_size
    with open(path, "rb") as handle:
        start = max(0, size - 22 - 65535)
        handle.seek(start)
        tail = handle.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            return None
        entries, cd_size = struct.unpack_from("<HL", tail, at + 10)
        if entries != 0xFFFF and cd_size != 0xFFFFFFFF:
            return entries, cd_size
        handle.seek(max(0, start + at - 20))
        locator = handle.read(20)
        if len(locator) < 20 or locator[:4] != b"PK\x06\x07":
            return entries, cd_size
        (record_at,) = struct.unpack_from("<Q", locator, 8)
        if record_at > size - 56:  # points outside the file: zipfile calls it damaged
            return None
        handle.seek(record_at)
        record = handle.read(56)
        if len(record) < 56 or record[:4] != b"PK\x06\x06":
            return None
        return struct.unpack_from("<QQ", record, 32)


def _unsafe(member: str) -> bool:
    """Whether a member name is empty or could point outside the folder it is unpacked in."""
    parts = member.split("/")
    return (not member or member.startswith("/") or "\\" in member or ":" in member
            or any(ord(char) < 32 for char in member)
            or any(part in (".", "..") for part in parts)
            or "" in parts[:-1])


def _check_bomb(name: str, infos: list[zipfile.ZipInfo], max_unpacked: int,
                max_ratio: float | None) -> None:
    """Refuse archives that would unpack to too much, from the central directory alone."""
    unpacked = sum(info.file_size for info in infos)
    if unpacked > max_unpacked:
        raise AreaError(f"{name} would unpack to {format_size(unpacked)}, more than the "
                        f"{format_size(max_unpacked)} allowed")
    if max_ratio is None:
        return
    for info in infos:
        if not info.file_size or (info.file_size < _RATIO_MIN_BYTES and info.compress_size):
            continue
        ratio = info.file_size / info.compress_size if info.compress_size else float("inf")
        if ratio > max_ratio:
            shown = "∞" if ratio == float("inf") else f"{ratio:.0f}"
            raise AreaError(f"{name}: member {info.filename} is compressed {shown}:1, more than "
                            f"{max_ratio:.0f}:1 allowed (a zip bomb?)")


def check_shapefile_zip(path: str | Path, *, max_bytes: int | None = None,
                        max_entries: int | None = None, max_unpacked: int | None = None,
                        max_ratio: float | None = None, require_prj: bool = True,
                        name: str | None = None) -> dict[str, zipfile.ZipInfo]:
    """Check a zipped shapefile against the rules without unpacking it.

    Every limit is checked on the archive's central directory, before anything is unpacked.

    Args:
        path: the ``.zip`` file.
        max_bytes: the largest accepted zip (default :func:`max_vector_bytes`).
        max_entries: the most entries the archive may hold (default: no limit).
        max_unpacked: the most bytes all its entries may add up to, unpacked (default: four
            times ``max_bytes``).
        max_ratio: the largest uncompressed/compressed ratio of a member of 1 MB or more
            (default: no limit); a member that claims bytes from nothing is always refused.
        require_prj: refuse a shapefile without ``.prj`` (search areas); uploads accept it
            and leave its CRS unknown.
        name: how to call the file in messages (default: its file name).

    Returns:
        The members to read, by lower-case extension (``".shp"``, ``".shx"``, ``".dbf"``,
        ``".prj"`` when present and an optional ``".cpg"``).

    Raises:
        AreaError: when the archive breaks a rule; the message says which.
    """
    path = Path(path)
    limit = max_vector_bytes() if max_bytes is None else max_bytes
    name = name or path.name
    if not path.is_file():
        raise AreaError(f"vector file not found: {str(path)!r}")
    if path.stat().st_size > limit:
        raise AreaError(f"{name} is {format_size(path.stat().st_size)}, more than the "
                        f"{format_size(limit)} allowed")
    declared = _directory_size(path) if max_entries is not None else None
    if declared is not None and max_entries is not None:
        if declared[0] > max_entries:
            raise AreaError(f"{name} holds {declared[0]} entries; at most {max_entries} are "
                            "allowed")
        if declared[1] > max_entries * _CD_BYTES_PER_ENTRY:
            raise AreaError(f"{name} has a {format_size(declared[1])} table of contents, too "
                            f"large for the {max_entries} entries allowed")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise AreaError(f"{name} is not a readable zip archive ({error})") from None
    except NotImplementedError as error:  # e.g. a member needing a later zip version
        raise AreaError(f"{name} uses a zip feature that is not supported ({error}); zip it "
                        "again with the usual 'deflate'") from None
    if max_entries is not None and len(infos) > max_entries:
        raise AreaError(f"{name} holds {len(infos)} entries; at most {max_entries} are allowed")
    _check_bomb(name, infos, 4 * limit if max_unpacked is None else max_unpacked, max_ratio)
    root: list[zipfile.ZipInfo] = []
    for info in infos:
        member = info.orig_filename  # zipfile cuts names at a NUL; look at the real one
        if _unsafe(member):
            raise AreaError(f"{name} holds an unsafe member name {member!r}")
        parts = member.rstrip("/").split("/")
        if parts[0] == "__MACOSX" or parts[-1] == ".DS_Store":
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
    members: dict[str, zipfile.ZipInfo] = {}
    for info in root:
        head, ext = info.filename[:len(stem)], info.filename[len(stem):].lower()
        if head.lower() != stem.lower() or not ext.startswith("."):
            continue
        if ext in members:
            raise AreaError(f"{name} holds both {members[ext].filename} and {info.filename}; "
                            "keep one")
        members[ext] = info
    required = _REQUIRED if require_prj else tuple(e for e in _REQUIRED if e != ".prj")
    missing = [ext for ext in required if ext not in members]
    if missing:
        why = (" (the .prj says which coordinate system the data uses)"
               if ".prj" in missing else "")
        raise AreaError(f"{name} lacks {', '.join(stem + ext for ext in missing)}: a shapefile "
                        f"needs its .shp, .shx, .dbf and .prj{why}")
    chosen = {ext: info for ext, info in members.items() if ext in (*_REQUIRED, ".cpg")}
    _check_headers(path, name, chosen.values())
    return chosen


def _check_headers(path: Path, name: str, infos: Any) -> None:
    """Open the members without reading them: local header names and methods must agree."""
    try:
        with zipfile.ZipFile(path) as archive:
            for info in infos:
                archive.open(info).close()
    except NotImplementedError as error:
        raise AreaError(f"{name} uses a compression method that is not supported ({error}); "
                        "zip it again with the usual 'deflate'") from None
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise AreaError(f"{name} is a damaged zip archive ({error})") from None


def unpack_shapefile_zip(path: str | Path, members: dict[str, zipfile.ZipInfo],
                         folder: str | Path, *, max_unpacked: int | None = None,
                         name: str | None = None) -> Path:
    """Unpack checked members into ``folder`` as ``layer.<ext>``, counting the real bytes.

    Args:
        path: the ``.zip`` file.
        members: what :func:`check_shapefile_zip` returned.
        folder: an existing folder the caller owns (and removes).
        max_unpacked: the most bytes to write in all (default: the declared sizes only).
        name: how to call the file in messages (default: its file name).

    Returns:
        ``folder / "layer.shp"``.

    Raises:
        AreaError: when a member is larger than declared, the total over ``max_unpacked``,
            or the archive damaged.
    """
    path, folder = Path(path), Path(folder)
    name = name or path.name
    total = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for ext, info in members.items():
                written = 0
                with archive.open(info) as source, open(folder / f"layer{ext}", "wb") as target:
                    while chunk := _read_member(source, name):
                        written += len(chunk)
                        total += len(chunk)
                        if written > info.file_size:
                            raise AreaError(f"{name}: {info.filename} is larger than its zip "
                                            "entry says; the archive is corrupt")
                        if max_unpacked is not None and total > max_unpacked:
                            raise AreaError(f"{name} would unpack to more than the "
                                            f"{format_size(max_unpacked)} allowed")
                        target.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        raise AreaError(f"{name} is a damaged zip archive ({error})") from None
    return folder / "layer.shp"


def _read_member(source: Any, name: str) -> bytes:
    """The next MB of a member; a bzip2 or LZMA stream that does not decode is damage."""
    try:
        return source.read(1024 * 1024)
    except (OSError, lzma.LZMAError) as error:  # bz2 raises OSError("Invalid data stream")
        raise AreaError(f"{name} is a damaged zip archive ({error})") from None


def prj_is_text(shp: str | Path) -> bool:
    """Whether the ``.prj`` beside an unpacked ``.shp`` is UTF-8 text (true when it has none).

    GDAL reads a ``.prj`` with other bytes into a coordinate system whose description
    pyogrio cannot decode (it then fails with an internal error), so callers drop or refuse
    such a file before reading the shapefile.
    """
    prj = Path(shp).with_suffix(".prj")
    try:
        prj.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return True
    except UnicodeDecodeError:
        return False
    return True


def gpkg_layers(path: str | Path, *, name: str | None = None) -> list[str]:
    """The vector layers of a GeoPackage (attribute-only tables left out), in file order.

    Raises:
        AreaError: when the file is not a readable GeoPackage.
    """
    import pyogrio
    from pyogrio import errors

    path = Path(path)
    try:
        listed = pyogrio.list_layers(path)
    except (errors.DataSourceError, OSError, ValueError) as error:
        raise AreaError(f"{name or path.name} is not a readable GeoPackage: {error}") from None
    return [str(layer) for layer, kind in listed if kind is not None]


def _gpkg_layer(path: Path, layer: str | None) -> str:
    """Choose the layer of a GeoPackage: the one vector layer, or the one asked for."""
    layers = gpkg_layers(path)
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


def check_geojson(path: str | Path, *, name: str | None = None) -> None:
    """Give JSON syntax errors a clear message before GDAL reads the file (≤ 64 MB files).

    Raises:
        AreaError: when the file is not valid JSON (or not UTF-8).
    """
    path = Path(path)
    if path.stat().st_size > _JSON_CHECK_BYTES:
        return
    try:
        json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as error:
        raise AreaError(f"{name or path.name} is not valid GeoJSON (JSON error: {error})") \
            from None


def _read(source: Path, name: str, layer: str | None, encoding: str | None = None) -> Any:
    """Read one dataset with pyogrio, turning its errors into AreaError.

    A shapefile whose text is not valid in the encoding it declares is read again as
    latin-1: an area needs its shapes, not its attributes (uploads guess better).
    """
    import pyogrio
    from pyogrio import errors

    try:
        return pyogrio.read_dataframe(source, layer=layer, encoding=encoding)
    except UnicodeDecodeError as error:
        if source.suffix.lower() == ".shp" and encoding is None:
            return _read(source, name, layer, "ISO-8859-1")
        raise AreaError(f"{name} cannot be read as a vector file: {error}") from None
    except (errors.DataSourceError, errors.DataLayerError, errors.GeometryError,
            errors.FieldError, errors.CRSError, ValueError, OSError, UnicodeError,
            shapely.errors.GEOSException) as error:  # GEOS: e.g. a ring that is not closed
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
        raise AreaError(f"{name} is {format_size(path.stat().st_size)}, more than the "
                        f"{format_size(limit)} allowed")
    if suffix == ".zip":
        members = check_shapefile_zip(path, max_bytes=limit)
        with tempfile.TemporaryDirectory(prefix="terralab-vector-") as folder:
            shp = unpack_shapefile_zip(path, members, folder, max_unpacked=4 * limit)
            if not prj_is_text(shp):
                raise AreaError(f"{name}: its .prj is not readable text, so its coordinate "
                                "system is unknown")
            frame = _read(shp, name, None)
    elif suffix == ".shp":
        missing = [ext for ext in _REQUIRED if not path.with_suffix(ext).is_file()]
        if missing:
            raise AreaError(f"{name} lacks its {', '.join(missing)} companion file(s)")
        frame = _read(path, name, None)
    elif suffix == ".gpkg":
        layer = _gpkg_layer(path, layer)
        frame = _read(path, name, layer)
    else:
        check_geojson(path)
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
