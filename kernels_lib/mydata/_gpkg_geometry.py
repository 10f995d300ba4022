"""GeoPackage geometry blobs (OGC 12-128r18 §2.1.3): the header and the WKB after it.

Used to edit a layer's rows with :mod:`sqlite3` directly (one row per edit, in a
transaction), and to give SQLite the ``ST_IsEmpty`` / ``ST_MinX`` … functions the R-tree
triggers of GDAL-written GeoPackages call.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Callable

import shapely
from shapely.geometry.base import BaseGeometry

__all__ = ["decode", "encode", "register_functions"]

_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def _parts(blob: bytes) -> tuple[int, bool, tuple[float, ...], bytes]:
    if blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry")
    flags = blob[3]
    order = "<" if flags & 1 else ">"
    indicator = (flags >> 1) & 0b111
    size = _ENVELOPE_BYTES.get(indicator)
    if size is None:
        raise ValueError("bad GeoPackage envelope indicator")
    srs_id = struct.unpack(order + "i", blob[4:8])[0]
    envelope = struct.unpack(order + "d" * (size // 8), blob[8:8 + size]) if size else ()
    return srs_id, bool(flags & 0x10), envelope, blob[8 + size:]


def decode(blob: bytes | None) -> BaseGeometry | None:
    """The shapely geometry of a GeoPackage blob (None for NULL)."""
    if blob is None:
        return None
    return shapely.from_wkb(_parts(blob)[3])


def encode(geometry: BaseGeometry, srs_id: int) -> bytes:
    """A GeoPackage blob (little-endian, xy envelope) of ``geometry``."""
    if geometry.is_empty:
        return b"GP" + bytes([0, 0x10 | 1]) + struct.pack("<i", srs_id) + \
            shapely.to_wkb(geometry, byte_order=1)
    minx, miny, maxx, maxy = geometry.bounds
    return (b"GP" + bytes([0, 0b011]) + struct.pack("<i", srs_id)
            + struct.pack("<dddd", minx, maxx, miny, maxy)
            + shapely.to_wkb(geometry, byte_order=1))


def _bound(index: int) -> Callable[[bytes | None], float | None]:
    def value(blob: bytes | None) -> float | None:
        if blob is None:
            return None
        _, empty, envelope, wkb = _parts(blob)
        if empty:
            return None
        if not envelope:
            envelope = _envelope(shapely.from_wkb(wkb))
        return envelope[index]
    return value


def _envelope(geometry: BaseGeometry) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = geometry.bounds
    return minx, maxx, miny, maxy


def _is_empty(blob: bytes | None) -> int | None:
    if blob is None:
        return None
    return int(_parts(blob)[1])


def register_functions(connection: sqlite3.Connection) -> None:
    """Give ``connection`` the spatial functions a GeoPackage's R-tree triggers need."""
    connection.create_function("ST_IsEmpty", 1, _is_empty, deterministic=True)
    for index, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        connection.create_function(name, 1, _bound(index), deterministic=True)
