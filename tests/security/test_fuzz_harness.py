"""The upload fuzzing harness on its seeds, hand-made malformed headers and past findings.

``make fuzz`` (``tests/fuzz/run_fuzz.py``) runs :func:`tests.fuzz.upload_harness.check_upload`
on hundreds of thousands of mutated files; these tests run it on a few, so the harness keeps
working and what the fuzzer found stays fixed. Every input must end in acceptance or a
user-facing refusal (``MyDataError``, a 400 from the hub service), never another exception.
"""

from __future__ import annotations

import io
import math
import struct
import zipfile
from pathlib import Path

import pytest

from tests.fuzz.upload_harness import (
    FORMATS,
    FUZZ_LIMITS,
    MEMBER_MARK,
    check_upload,
    write_seeds,
    zip_shapefile_parts,
)


@pytest.fixture(scope="module")
def seeds(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[bytes]]:
    """The fuzzer's seed corpus, written from the real samples (skips without them)."""
    folder = tmp_path_factory.mktemp("seeds")
    return {fmt: [path.read_bytes() for path in write_seeds(fmt, folder / fmt)]
            for fmt in FORMATS}


def _run(data: bytes, fmt: str, tmp_path: Path) -> str:
    return check_upload(data, fmt, tmp_path / "work")


def _first_ifd(data: bytes) -> tuple[int, int]:
    """The offset and entry count of a little-endian classic TIFF's first directory."""
    assert data[:4] == b"II*\x00"
    (offset,) = struct.unpack_from("<I", data, 4)
    (count,) = struct.unpack_from("<H", data, offset)
    return offset, count


def _set_tag(data: bytes, tag: int, value: int) -> bytes:
    """Set a SHORT or LONG tag of the first directory to ``value`` (made LONG)."""
    out = bytearray(data)
    offset, count = _first_ifd(data)
    for entry in range(offset + 2, offset + 2 + 12 * count, 12):
        if struct.unpack_from("<H", out, entry)[0] == tag:
            struct.pack_into("<HHII", out, entry, tag, 4, 1, value)
            return bytes(out)
    raise AssertionError(f"tag {tag} not in the first directory")


def _with_central(data: bytes, field: str, value: int) -> bytes:
    """Set a field of every central-directory record of a zip."""
    at = {"version_needed": (6, "<H"), "file_size": (24, "<I"), "compress_size": (20, "<I")}
    shift, form = at[field]
    out = bytearray(data)
    start = 0
    while (start := out.find(b"PK\x01\x02", start)) >= 0:
        struct.pack_into(form, out, start + shift, value)
        start += 4
    return bytes(out)


@pytest.mark.parametrize("fmt", FORMATS)
def test_seeds_are_accepted(seeds: dict[str, list[bytes]], fmt: str, tmp_path: Path) -> None:
    """The seed corpus is valid uploads: the fuzzer starts from files the service accepts."""
    assert seeds[fmt]
    for data in seeds[fmt]:
        assert _run(data, fmt, tmp_path) == "accepted"


def _tif(seeds: dict[str, list[bytes]]) -> bytes:
    """The striped RGB GeoTIFF seed (classic, little-endian)."""
    return next(data for data in seeds["tif"] if data[:4] == b"II*\x00"
                and _first_ifd(data)[1] > 0 and 322 not in _tags(data))


def _tiled(seeds: dict[str, list[bytes]]) -> bytes:
    """The tiled GeoTIFF seed."""
    return next(data for data in seeds["tif"] if data[:4] == b"II*\x00" and 322 in _tags(data))


def _tags(data: bytes) -> set[int]:
    offset, count = _first_ifd(data)
    return {struct.unpack_from("<H", data, offset + 2 + 12 * i)[0] for i in range(count)}


MALFORMED = {
    "TIFF cut in its header": lambda s: _tif(s)[:6],
    "TIFF cut after its directory": lambda s: _tif(s)[:_first_ifd(_tif(s))[0] + 200],
    "TIFF cut in its pixels": lambda s: _tif(s)[: len(_tif(s)) // 2],
    "TIFF directory of 65,535 entries": lambda s: (
        _tif(s)[:_first_ifd(_tif(s))[0]] + b"\xff\xff" + _tif(s)[_first_ifd(_tif(s))[0] + 2:]),
    "TIFF directory beyond the end": lambda s: _tif(s)[:4] + b"\xff\xff\xff\x7f" + _tif(s)[8:],
    "TIFF of 4 billion pixels a side": lambda s: _set_tag(_set_tag(_tif(s), 256, 2**32 - 1),
                                                          257, 2**32 - 1),
    "TIFF of zero pixels": lambda s: _set_tag(_tif(s), 256, 0),
    "TIFF with 2 GB tiles": lambda s: _set_tag(_set_tag(_tiled(s), 322, 2**31 - 16),
                                               323, 2**31 - 16),
    "TIFF with zero-size tiles": lambda s: _set_tag(_tiled(s), 322, 0),
    "TIFF with 65,535 samples a pixel": lambda s: _set_tag(_tif(s), 277, 65535),
    "TIFF strip offsets beyond the end": lambda s: _set_tag(_tif(s), 273, 2**32 - 1),
    "HFA header only": lambda s: s["img"][0][:20],
    "HFA with a bad header": lambda s: s["img"][0][:16] + b"\xff" * 16 + s["img"][0][32:],
    "HFA root node beyond the end": lambda s: (s["img"][0][:28] + b"\xff\xff\xff\x7f"
                                               + s["img"][0][32:]),
    "HFA cut in half": lambda s: s["img"][0][: len(s["img"][0]) // 2],
    "zip cut before its central directory": lambda s: s["zip"][0][: len(s["zip"][0]) // 2],
    "zip with a garbled central directory": lambda s: s["zip"][0].replace(
        b"PK\x01\x02", b"PK\x01\x03"),
    "zip bomb header (members claim 4 GB)": lambda s: _with_central(s["zip"][0], "file_size",
                                                                    2**32 - 2),
    "zip whose members claim 0 compressed bytes": lambda s: _with_central(
        s["zip"][0], "compress_size", 0),
}
_FORMAT_OF = {"TIFF": "tif", "HFA": "img", "zip": "zip"}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_headers_are_refused(seeds: dict[str, list[bytes]], case: str,
                                       tmp_path: Path) -> None:
    """Hand-made broken headers end in a refusal with a rule, never another exception."""
    fmt = next(fmt for word, fmt in _FORMAT_OF.items() if case.startswith(word))
    data = MALFORMED[case](seeds)
    assert _run(data, fmt, tmp_path).startswith("refused:")


def test_zip_needing_a_later_zip_version_is_refused(seeds: dict[str, list[bytes]],
                                                    tmp_path: Path) -> None:
    """fuzz finding 1 (zip): a member needing zip version 15.6 raised NotImplementedError (500)."""
    data = _with_central(seeds["zip"][0], "version_needed", 156)
    with zipfile.ZipFile(io.BytesIO(seeds["zip"][0])) as archive:
        assert archive.infolist()  # the seed itself is a sound zip
    assert _run(data, "zip", tmp_path) == "refused:zip"


def test_zip_member_without_a_name_is_refused(seeds: dict[str, list[bytes]],
                                              tmp_path: Path) -> None:
    """fuzz finding 2 (zip): a member with an empty name raised IndexError in zipfile (500)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(seeds["zip"][0])) as source, \
            zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr(zipfile.ZipInfo(""), b"x")
    assert _run(buffer.getvalue(), "zip", tmp_path) == "refused:zip"


def test_tiff_crs_name_not_utf8_is_refused(tmp_path: Path) -> None:
    """fuzz finding 3 (tif): a CRS name that is not UTF-8 raised UnicodeDecodeError (500)."""
    import numpy as np
    import rasterio
    from rasterio.crs import CRS
    from rasterio.transform import from_origin

    wkt = ('PROJCS["Custom TM QQQQ",GEOGCS["CGCS2000",DATUM["China_2000",SPHEROID["CGCS2000",'
           '6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],'
           'PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],'
           'PARAMETER["central_meridian",117],PARAMETER["scale_factor",1],'
           'PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1]]')
    path = tmp_path / "custom.tif"
    with rasterio.open(path, "w", driver="GTiff", width=64, height=64, count=3, dtype="uint8",
                       crs=CRS.from_wkt(wkt), transform=from_origin(500000, 3e6, 10, 10)) as dst:
        dst.write(np.ones((3, 64, 64), "uint8"))
    data = path.read_bytes()
    assert _run(data, "tif", tmp_path) == "accepted"
    assert _run(data.replace(b"QQQQ", b"\xff\xfe\xfd\xfc"), "tif", tmp_path) == "refused:driver"


def test_zip64_locator_beyond_any_file_is_refused(seeds: dict[str, list[bytes]],
                                                  tmp_path: Path) -> None:
    """fuzz finding 4 (zip): a zip64 locator pointing at byte 2**64-1 raised ValueError (500)."""
    data = seeds["zip"][0]
    end = data.rfind(b"PK\x05\x06")
    locator = b"PK\x06\x07" + struct.pack("<IQI", 0, 2**64 - 1, 1)
    record = bytearray(data[end:])
    struct.pack_into("<H", record, 10, 0xFFFF)  # "see the zip64 record" entry count
    assert _run(data[:end] + locator + bytes(record), "zip", tmp_path) == "refused:zip"


def test_tiff_width_as_long8_in_a_classic_tiff_is_refused(seeds: dict[str, list[bytes]],
                                                           tmp_path: Path) -> None:
    """fuzz finding 5 (tif): a classic TIFF's width typed LONG8 (8 bytes in a 4-byte slot,
    the last entry) raised struct.error in the header check (500)."""
    data = bytearray(_tif(seeds))
    offset, count = _first_ifd(bytes(data))
    del data[offset + 2 + 12 * count:]  # the directory ends the file: nothing after the slot
    entries = range(offset + 2, offset + 2 + 12 * count, 12)
    last = entries[-1]
    struct.pack_into("<HHII", data, last, 256, 16, 1, 64)  # width as LONG8, in the last entry
    for entry in entries[:-1]:
        if struct.unpack_from("<H", data, entry)[0] == 256:
            struct.pack_into("<H", data, entry, 0xFFFE)  # the old width entry: a private tag
    assert _run(bytes(data), "tif", tmp_path).startswith("refused:")


def test_hfa_with_a_damaged_map_info_node_is_refused(seeds: dict[str, list[bytes]],
                                                     tmp_path: Path) -> None:
    """fuzz finding 6 (img): an HFA whose Map_Info node has a damaged type name made GDAL
    build a CRS it cannot read back; rasterio's CRSError escaped the checks (500)."""
    data = next(seed for seed in seeds["img"] if b"UTM zone 18N" in seed)
    node = data.index(b"Eprj_MapInfo\x00", data.index(b"Map_Info\x00"))
    damaged = data[:node] + b"Eprj_MapInD\x01" + data[node + 12:]
    assert _run(damaged, "img", tmp_path) == "refused:crs"


def _shapefile_parts(seeds: dict[str, list[bytes]]) -> list[bytes]:
    """The files (.shp, .shx, .dbf, .prj, .cpg) of the polygon seed (it has a .cpg)."""
    return next(data for data in seeds["shp"] if data.endswith(b"UTF-8")).split(MEMBER_MARK)


def test_cpg_naming_an_encoding_with_a_nul_is_ignored(seeds: dict[str, list[bytes]],
                                                      tmp_path: Path) -> None:
    """fuzz finding 7 (shp): a .cpg holding a NUL made codecs.lookup raise ValueError (500)."""
    parts = _shapefile_parts(seeds)
    parts[4] = b"UTF\x00-8"
    assert _run(MEMBER_MARK.join(parts), "shp", tmp_path) == "accepted"


def test_dbf_fields_without_names_are_renamed(seeds: dict[str, list[bytes]],
                                              tmp_path: Path) -> None:
    """fuzz finding 8 (shp): two DBF fields with empty names broke the GeoPackage writer
    (AttributeError, 500); they are renamed field_<n> and a flag says so."""
    from terralab.mydata.vector_publish import publish_vector

    parts = _shapefile_parts(seeds)
    dbf = bytearray(parts[2])
    for field in (1, 2):  # the 2nd and 3rd field descriptors: names blanked
        dbf[32 * (field + 1):32 * (field + 1) + 11] = b"\x00" * 11
    parts[2] = bytes(dbf)
    assert _run(MEMBER_MARK.join(parts), "shp", tmp_path) == "accepted"
    archive = tmp_path / "blank.zip"
    archive.write_bytes(zip_shapefile_parts(MEMBER_MARK.join(parts)))
    published = publish_vector(archive, tmp_path / "out", FUZZ_LIMITS)
    assert any("renamed" in flag and "field_2" in flag for flag in published.flags)


def test_polygon_ring_that_is_not_closed_is_refused(seeds: dict[str, list[bytes]],
                                                    tmp_path: Path) -> None:
    """fuzz finding 9 (shp): a polygon ring whose last point is not its first made shapely
    raise GEOSException inside the read (500)."""
    parts = _shapefile_parts(seeds)
    shp = bytearray(parts[0])
    content = 108  # the first record's content: type, box, part and point counts, parts
    parts_count, points_count = struct.unpack_from("<ii", shp, content + 36)
    points = content + 44 + 4 * parts_count
    first_part_end = (struct.unpack_from("<i", shp, content + 48)[0] if parts_count > 1
                      else points_count)
    last = points + 16 * (first_part_end - 1)
    x, y = struct.unpack_from("<dd", shp, last)
    struct.pack_into("<dd", shp, last, x + 0.5, y + 0.5)
    parts[0] = bytes(shp)
    assert _run(MEMBER_MARK.join(parts), "shp", tmp_path) == "refused:vector"


def test_bzip2_member_that_does_not_decode_is_refused(seeds: dict[str, list[bytes]],
                                                      tmp_path: Path) -> None:
    """fuzz finding 10 (zip): a bzip2 member whose stream is damaged raised OSError while
    unpacking (500)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(seeds["zip"][0])) as source, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
    data = buffer.getvalue().replace(b"BZh9", b"XXXX")
    assert _run(data, "zip", tmp_path) == "refused:zip"


def test_prj_that_is_not_text_leaves_the_crs_unknown(seeds: dict[str, list[bytes]],
                                                     tmp_path: Path) -> None:
    """fuzz finding 11 (shp): a .prj with bytes that are not UTF-8 made pyogrio fail inside
    (UnboundLocalError, 500); it is read without the .prj, its CRS flagged unknown."""
    from terralab.mydata.vector_publish import publish_vector

    parts = _shapefile_parts(seeds)
    parts[3] = parts[3].replace(b'PRIMEM["Greenwich"', b'PRIMEM["Greenwich"\xff\xff\xff\x7f', 1)
    assert b"\xff" in parts[3]
    assert _run(MEMBER_MARK.join(parts), "shp", tmp_path) == "accepted"
    archive = tmp_path / "prj.zip"
    archive.write_bytes(zip_shapefile_parts(MEMBER_MARK.join(parts)))
    published = publish_vector(archive, tmp_path / "out", FUZZ_LIMITS)
    assert not published.crs_known and "could not be read" in published.flags[0]


def test_coordinates_too_large_for_geos_are_refused(tmp_path: Path) -> None:
    """fuzz finding 12 (shp): points about 1e200 apart by 1e185 made GEOS refuse to densify
    the outline (GEOSException, 500); they are refused as not on the Earth."""
    import geopandas
    import shapely

    x = 1e200
    frame = geopandas.GeoDataFrame(
        {"a": [1, 2, 3]}, crs="EPSG:4547",
        geometry=[shapely.Point(x, x), shapely.Point(x * (1 + 1e-15), x),
                  shapely.Point(x, x * (1 + 2e-15))])
    frame.to_file(tmp_path / "far.shp", engine="pyogrio")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for ext in ("shp", "shx", "dbf", "prj"):
            archive.write(tmp_path / f"far.{ext}", f"far.{ext}")
    assert _run(buffer.getvalue(), "zip", tmp_path) == "refused:crs"


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_point_with_a_coordinate_that_is_not_a_number_is_refused(
        seeds: dict[str, list[bytes]], value: float, tmp_path: Path) -> None:
    """fuzz finding 13 (shp): a point at NaN or infinity made GEOS fail drawing the outline
    (GEOSException, 500)."""
    parts = next(data for data in seeds["shp"] if not data.endswith(b"UTF-8")).split(MEMBER_MARK)
    shp = bytearray(parts[0])
    assert struct.unpack_from("<i", shp, 108)[0] == 1  # the first record is a point
    struct.pack_into("<d", shp, 112, value)
    parts[0] = bytes(shp)
    assert _run(MEMBER_MARK.join(parts), "shp", tmp_path) == "refused:vector"
