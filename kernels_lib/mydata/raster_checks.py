"""Checks of an uploaded raster against the upload rules (PRODUCT.md §2), before any pixel is read.

terralab accepts GeoTIFF (``.tif``, ``.tiff``) and Erdas Imagine (``.img``) rasters of 3 (RGB)
or 4 (blue, green, red, NIR) bands, 8 or 16 bit, 1024 to 100,000 pixels a side, at most 5 GB,
georeferenced on WGS84, CGCS2000, Xian 1980 or Beijing 1954 (the defaults of
:class:`~terralab.mydata.limits.UploadLimits`). An upload is untrusted, so:

* the format is decided by the file's first bytes as well as its suffix, and GDAL opens it
  with that one driver only: a ``.tif`` that is really a GDAL virtual raster (VRT, an XML file
  that can point at any file on the machine), a PNG or a JPEG is refused, never read;
* GDAL is told the file's folder is empty (``GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR``) and
  keeps no ``.aux.xml`` side files (``GDAL_PAM_ENABLED=NO``), so no sidecar file is consulted;
* a TIFF's width and height are read from its first directory by hand before GDAL opens it,
  so a header claiming millions of pixels a side is refused without allocating anything;
* every broken rule is reported in one message, one line each, for the person who uploaded.

Every refusal is an :class:`~terralab.mydata.errors.UploadError` whose ``rule`` names the
first broken rule (``"type"``, ``"size"``, ``"driver"``, ``"pixels"``, ``"bands"``,
``"dtype"``, ``"layout"``, ``"georeference"``, ``"crs"``).
"""

from __future__ import annotations

import struct
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyproj
import rasterio
from affine import Affine
from pyproj import Transformer
from pyproj.exceptions import CRSError, ProjError
from rasterio.crs import CRS
from rasterio.errors import CRSError as RasterioCRSError
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.io import DatasetReader
from shapely.geometry import Polygon

from terralab.areas.crs import check_crs
from terralab.areas.errors import AreaError
from terralab.mydata.errors import UploadError
from terralab.mydata.limits import UploadLimits
from terralab.raster_open import check_dataset
from terralab.sizes import format_size

__all__ = ["DRIVERS", "FORMAT_NAMES", "SAFE_GDAL_OPTIONS", "RasterInfo", "band_names",
           "inspect_raster", "open_raster"]

DRIVERS = {".tif": "GTiff", ".tiff": "GTiff", ".img": "HFA"}
"""The accepted suffixes and the one GDAL driver each is opened with."""

FORMAT_NAMES = {"GTiff": "a GeoTIFF", "HFA": "an Erdas Imagine (.img) file"}
"""How messages name each accepted format."""

SAFE_GDAL_OPTIONS = {"GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR", "GDAL_PAM_ENABLED": "NO"}
"""GDAL settings for reading uploads: no sidecar files, no ``.aux.xml`` written or read."""

_MAX_BLOCK_BYTES = 256 * 1024**2
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_HFA_MAGIC = b"EHFA_HEADER_TAG"
_OTHER_FORMATS = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x00\x00\x00\x0cjP  ", "a JPEG 2000 image"),
    (b"\xff\x4f\xff\x51", "a JPEG 2000 image"),
    (b"PK\x03\x04", "a zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"%PDF", "a PDF document"),
    (b"\x89HDF", "an HDF5 file"),
    (b"CDF\x01", "a NetCDF file"),
    (b"CDF\x02", "a NetCDF file"),
    (b"RIFF", "a WebP or other RIFF file"),
    (b"BM", "a BMP image"),
)
_BAND_WORDS = {1: "1-band (grey)", 3: "3-band RGB", 4: "4-band (blue, green, red, NIR)"}
_UNKNOWN = "an unknown format"
_KNOWN_NAMES = {"red", "green", "blue", "nir", "alpha"}


@dataclass(frozen=True)
class RasterInfo:
    """What terralab learnt of a raster that passed the upload rules.

    Attributes:
        driver: the GDAL driver it was opened with (``"GTiff"`` or ``"HFA"``).
        width: columns.
        height: rows.
        count: bands.
        dtype: the numpy name of the sample type (``"uint8"``).
        crs: the coordinate system, as rasterio read it.
        crs_name: its name (``"CGCS2000 / 3-degree Gauss-Kruger CM 120E"``).
        datum: one of the platform datums (``"WGS 84"``, ``"CGCS2000"``, ``"Xian 1980"``,
            ``"Beijing 1954"``), or None for another datum admitted by ``crs="any"``.
        transform: the geotransform, pixel to CRS coordinates.
        bounds: (left, bottom, right, top) in the raster's CRS.
        footprint_wgs84: the image outline, densified, in EPSG:4326 longitude, latitude.
        bounds_wgs84: the bounds of ``footprint_wgs84`` (west, south, east, north).
        nodata: the nodata value, if any.
        band_names: a common name per band (``"red"``, ``"nir"``, ``"b5"`` …).
        size_bytes: the file's size.
    """

    driver: str
    width: int
    height: int
    count: int
    dtype: str
    crs: CRS
    crs_name: str
    datum: str | None
    transform: Affine
    bounds: tuple[float, float, float, float]
    footprint_wgs84: Polygon
    bounds_wgs84: tuple[float, float, float, float]
    nodata: float | None
    band_names: tuple[str, ...]
    size_bytes: int


@contextmanager
def open_raster(path: str | Path, driver: str) -> Iterator[DatasetReader]:
    """Open an upload with exactly one GDAL driver and no sidecar files.

    Args:
        path: the file on disk.
        driver: ``"GTiff"`` or ``"HFA"`` (see :data:`DRIVERS`).

    Yields:
        The open rasterio dataset.

    Raises:
        rasterio.errors.RasterioIOError: if that driver cannot open the file.
    """
    with rasterio.Env(**SAFE_GDAL_OPTIONS), rasterio.open(Path(path), driver=driver) as dataset:
        yield check_dataset(dataset, Path(path).name)  # nothing that names another file


def band_names(colorinterp: Sequence[str],
               descriptions: Sequence[str | None] = ()) -> tuple[str, ...]:
    """Return a common name per band.

    Band descriptions win when every one is a known name (red, green, blue, nir, alpha),
    as in a file terralab wrote. Otherwise the colour interpretation, when its first three
    bands say red, green, blue (or blue, green, red), names them, a 4th band that is
    undefined or grey becomes ``"nir"`` and an alpha band ``"alpha"``. Otherwise 3 bands are
    taken as red, green, blue and 4 bands as blue, green, red, NIR (the band order of
    GF-1/GF-2 multispectral products, PRODUCT.md's "BGRA"); other counts are ``b1``, ``b2`` ….

    Args:
        colorinterp: the GDAL colour interpretation of each band (``"red"``, ``"undefined"``).
        descriptions: the band descriptions, if any.
    """
    count = len(colorinterp)
    described = [(text or "").strip().lower() for text in descriptions]
    if (len(described) == count and set(described) <= _KNOWN_NAMES
            and len(set(described)) == count):
        return tuple(described)
    colours = [str(value).lower() for value in colorinterp]
    if count >= 3 and colours[:3] in (["red", "green", "blue"], ["blue", "green", "red"]):
        names = list(colours[:3])
        for number, colour in enumerate(colours[3:], start=4):
            if colour == "alpha" and "alpha" not in names:
                names.append("alpha")
            elif number == 4 and colour in ("undefined", "gray"):
                names.append("nir")
            else:
                names.append(f"b{number}")
        return tuple(names)
    if count == 3:
        return ("red", "green", "blue")
    if count == 4:
        return ("blue", "green", "red", "nir")
    return tuple(f"b{number}" for number in range(1, count + 1))


def _sniff(path: Path) -> str:
    """Return ``"GTiff"`` or ``"HFA"`` from the first bytes, else what the file looks like."""
    with path.open("rb") as stream:
        head = stream.read(512)
    if not head:
        return "an empty file"
    if head[:4] in _TIFF_MAGIC:
        return "GTiff"
    if head.startswith(_HFA_MAGIC):
        return "HFA"
    for magic, what in _OTHER_FORMATS:
        if head.startswith(magic):
            return what
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        if b"<vrtdataset" in head.lower():
            return "a VRT/XML file (a GDAL virtual raster, which can point at other files)"
        return "an XML or HTML file"
    return _UNKNOWN


def _tiff_dimensions(path: Path) -> tuple[int, int] | None:
    """Return (width, height) from a TIFF's first directory, without GDAL; None if unclear."""
    try:
        with path.open("rb") as stream:
            head = stream.read(16)
            order = "<" if head[:2] == b"II" else ">"
            (magic,) = struct.unpack(order + "H", head[2:4])
            if magic == 42:
                (offset,) = struct.unpack(order + "I", head[4:8])
                count_format, entry_size, value_at = "H", 12, 8
            elif magic == 43:
                (offset,) = struct.unpack(order + "Q", head[8:16])
                count_format, entry_size, value_at = "Q", 20, 12
            else:
                return None
            stream.seek(offset)
            count_bytes = stream.read(struct.calcsize(count_format))
            (entries,) = struct.unpack(order + count_format, count_bytes)
            if not 0 < entries <= 4096:
                return None
            table = stream.read(entries * entry_size)
    except (OSError, struct.error, ValueError):
        return None
    found: dict[int, int] = {}
    value_formats = {3: "H", 4: "I", 16: "Q"}
    for start in range(0, len(table) - entry_size + 1, entry_size):
        tag, kind = struct.unpack(order + "HH", table[start:start + 4])
        if tag in (256, 257) and kind in value_formats:
            value_format = order + value_formats[kind]
            at = start + value_at
            end = at + struct.calcsize(value_format)
            if end > start + entry_size:  # a LONG8 in a classic TIFF: not inline, not valid
                return None
            (found[tag],) = struct.unpack(value_format, table[at:end])
    if 256 in found and 257 in found:
        return found[256], found[257]
    return None


def _pixels_problem(label: str, width: int, height: int, limits: UploadLimits) -> str | None:
    """Return the message when a side is outside the allowed range."""
    if all(limits.min_side <= side <= limits.max_side for side in (width, height)):
        return None
    return (f"{label} is {width:,}×{height:,} pixels; terralab takes images of "
            f"{limits.min_side:,} to {limits.max_side:,} pixels a side")


def _accepted_bands(limits: UploadLimits) -> str:
    """Return the accepted band counts in words."""
    words = [_BAND_WORDS.get(count, f"{count}-band") for count in limits.band_counts]
    return " or ".join(words) + " images"


def _accepted_dtypes(limits: UploadLimits) -> str:
    """Return the accepted sample types in words (``"8- or 16-bit integer images"``)."""
    if set(limits.dtypes) <= {"uint8", "uint16", "uint32"}:
        bits = [f"{np.dtype(name).itemsize * 8}-" for name in limits.dtypes]
        words = bits[0] if len(bits) == 1 else f"{', '.join(bits[:-1])} or {bits[-1]}"
        return f"{words}bit integer images"
    return "images of type " + ", ".join(limits.dtypes)


def _georeference_problem(label: str, dataset: DatasetReader) -> str | None:
    """Return the message when the raster cannot be placed on a map."""
    transform = dataset.transform
    no_transform = transform == Affine.identity() or transform.is_degenerate
    if no_transform and dataset.gcps[0]:
        return (f"{label} is not georeferenced (it has only ground control points, no "
                f"geotransform); warp it onto a map grid first")
    missing = [what for what, gone in (("no coordinate system", dataset.crs is None),
                                      ("no geotransform", no_transform)) if gone]
    if missing:
        return f"{label} is not georeferenced (it has {' and '.join(missing)})"
    return None


def _footprint(dataset: DatasetReader, crs: pyproj.CRS, steps: int = 16) -> Polygon:
    """Return the image outline, ``steps`` points an edge, transformed to EPSG:4326."""
    width, height = dataset.width, dataset.height
    along = np.linspace(0.0, 1.0, steps, endpoint=False)
    cols = np.concatenate([along * width, np.full(steps, width), (1 - along) * width,
                           np.zeros(steps)])
    rows = np.concatenate([np.zeros(steps), along * height, np.full(steps, height),
                           (1 - along) * height])
    xs, ys = dataset.transform @ (cols, rows)
    transformer = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lons, lats = transformer.transform(np.asarray(xs), np.asarray(ys))
    if not (np.all(np.isfinite(lons)) and np.all(np.isfinite(lats))):
        raise ProjError("coordinates do not convert to longitude, latitude")
    return Polygon(zip(lons.tolist(), lats.tolist(), strict=True))


def _refuse(problems: list[tuple[str, str]], label: str) -> None:
    """Raise one UploadError naming every problem; ``rule`` is the first one's."""
    if len(problems) == 1:
        rule, message = problems[0]
        raise UploadError(message, rule=rule)
    lines = "\n".join(f"- {message}" for _, message in problems)
    raise UploadError(f"{label} breaks {len(problems)} upload rules:\n{lines}",
                      rule=problems[0][0])


def inspect_raster(path: str | Path, limits: UploadLimits, *,
                   name: str | None = None) -> RasterInfo:
    """Check an uploaded raster against ``limits`` and describe it, reading no pixels.

    Args:
        path: the file on disk (may be a staging name; its suffix is ignored when ``name``
            is given).
        limits: the rules.
        name: the user's file name, for messages and for the suffix.

    Returns:
        What the raster is: size, bands, CRS, footprint in EPSG:4326 ….

    Raises:
        UploadError: naming every broken rule, one line each; ``rule`` is the first.
        FileNotFoundError: if ``path`` is not a file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no upload at {path}")
    display = name or path.name
    label = repr(display)
    problems: list[tuple[str, str]] = []
    suffix = Path(display).suffix.lower()
    driver = DRIVERS.get(suffix)
    if driver is None:
        what = f"a {suffix} file" if suffix else "a file without a suffix"
        problems.append(("type", f"{label} is {what}; terralab takes GeoTIFF (.tif, .tiff) or "
                                 f"Erdas Imagine (.img) rasters"))
    size = path.stat().st_size
    if size > limits.max_bytes:
        problems.append(("size", f"{label} is {format_size(size)}; the largest raster upload "
                                 f"is {format_size(limits.max_bytes)}"))
    if driver is None:
        _refuse(problems, label)
    kind = _sniff(path)
    if kind != driver:
        looks = f"it looks like {FORMAT_NAMES.get(kind, kind)}"
        if kind == _UNKNOWN:
            looks = f"its first bytes are not {'a TIFF' if driver == 'GTiff' else 'an HFA'} header"
        problems.append(("driver", f"{label} is not {FORMAT_NAMES[driver]} ({looks}); terralab "
                                   f"takes GeoTIFF (.tif, .tiff) or Erdas Imagine (.img) rasters"))
        _refuse(problems, label)
    header = _tiff_dimensions(path) if driver == "GTiff" else None
    if header is not None and (message := _pixels_problem(label, *header, limits)):
        problems.append(("pixels", message))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        try:
            with open_raster(path, driver) as dataset:
                return _inspect_open(dataset, path, driver, label, limits, problems, header)
        except RasterioError as error:
            if problems:  # what the header says explains why GDAL refused it
                _refuse(problems, label)
            detail = str(error).replace(str(path), display)
            raise UploadError(f"{label} cannot be read as {FORMAT_NAMES[driver]}: {detail}",
                              rule="driver") from None
        except RasterioCRSError as error:  # GDAL built a CRS from the header it cannot read back
            raise UploadError(f"{label} has a coordinate system terralab cannot read ({error}); "
                              f"its georeferencing is damaged", rule="crs") from None
        except UnicodeDecodeError as error:  # rasterio decodes GDAL's strings as UTF-8
            raise UploadError(f"{label} cannot be read as {FORMAT_NAMES[driver]}: its header "
                              f"holds text (coordinate system or band names) that is not "
                              f"valid UTF-8 ({error.reason} at byte {error.start})",
                              rule="driver") from None


def _inspect_open(dataset: DatasetReader, path: Path, driver: str, label: str,
                  limits: UploadLimits, problems: list[tuple[str, str]],
                  header: tuple[int, int] | None) -> RasterInfo:
    """Apply the rules that need the open dataset; raise or return the description."""
    if header is None and (message := _pixels_problem(label, dataset.width, dataset.height,
                                                       limits)):
        problems.append(("pixels", message))
    count = dataset.count
    if count not in limits.band_counts:
        problems.append(("bands", f"{label} has {count} band{'s' if count != 1 else ''}; "
                                  f"terralab takes {_accepted_bands(limits)}"))
    dtypes = sorted(set(dataset.dtypes))
    if len(dtypes) > 1:
        problems.append(("dtype", f"{label} has bands of different types ({', '.join(dtypes)}); "
                                  f"terralab takes {_accepted_dtypes(limits)}"))
    elif dtypes and dtypes[0] not in limits.dtypes:
        problems.append(("dtype", f"{label} is {dtypes[0]}; terralab takes "
                                  f"{_accepted_dtypes(limits)}"))
    others = [f for f in (dataset.files or []) if Path(f).resolve() != path.resolve()]
    if others:  # e.g. an .img naming a spill or overview file elsewhere
        problems.append(("driver", f"{label} refers to other files "
                                   f"({', '.join(Path(f).name for f in others[:3])}); "
                                   "upload a self-contained file"))
        _refuse(problems, label)
    block_rows, block_cols = dataset.block_shapes[0] if count else (0, 0)
    block_bytes = block_rows * block_cols * count * (np.dtype(dtypes[0]).itemsize if dtypes else 1)
    if block_bytes > _MAX_BLOCK_BYTES:
        problems.append(("layout", f"{label} stores its pixels in blocks of {block_cols:,}×"
                                   f"{block_rows:,} pixels ({format_size(block_bytes)} each); "
                                   f"terralab reads blocks of at most "
                                   f"{format_size(_MAX_BLOCK_BYTES)}: save it tiled"))
    georeference = _georeference_problem(label, dataset)
    if georeference:
        problems.append(("georeference", georeference))
        _refuse(problems, label)
    datum: str | None = None
    try:
        parsed = pyproj.CRS.from_user_input(dataset.crs.to_wkt())
        crs_name = parsed.name or dataset.crs.to_string()
    except CRSError as error:
        problems.append(("crs", f"{label} has a coordinate system terralab cannot read: {error}"))
        _refuse(problems, label)
    try:
        checked = check_crs(parsed, what=label, allow_web_mercator=limits.crs == "any")
        datum, crs_name = checked.datum, checked.name
    except AreaError as error:
        if limits.crs == "platform":
            problems.append(("crs", str(error)))
    if problems:
        _refuse(problems, label)
    try:
        footprint = _footprint(dataset, parsed)
    except (ProjError, ValueError) as error:
        raise UploadError(f"{label} cannot be placed on the map: its coordinates in "
                          f"{crs_name!r} do not convert to longitude, latitude ({error})",
                          rule="crs") from None
    bounds = tuple(float(value) for value in dataset.bounds)
    nodata = dataset.nodata
    return RasterInfo(
        driver=driver, width=dataset.width, height=dataset.height, count=count,
        dtype=dtypes[0], crs=dataset.crs, crs_name=crs_name, datum=datum,
        transform=dataset.transform, bounds=bounds,  # type: ignore[arg-type]
        footprint_wgs84=footprint,
        bounds_wgs84=tuple(float(value) for value in footprint.bounds),  # type: ignore[arg-type]
        nodata=nodata,
        band_names=band_names([c.name for c in dataset.colorinterp], dataset.descriptions),
        size_bytes=path.stat().st_size,
    )
