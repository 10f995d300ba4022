"""Compact item bodies of the embedded catalog index: what a row holds, the rest compressed.

An item's JSON text is stored as a zstd frame of its *residual*: the text with the parts the
index keeps elsewhere replaced by one control character each — the footprint's GeoJSON (kept
once per distinct footprint as WKB, see :func:`geometry_text`), the bbox, and the item id
(kept in its row; asset hrefs usually repeat it). ``json.dumps`` escapes control characters,
so those marks never occur in a stored text and putting the parts back gives the very same
text. A part is only replaced when the text holds exactly what the index would write back, so
an item whose footprint was repaired, or whose bbox is not its footprint's, keeps them inline.

Residuals are compressed with a dictionary trained on the first items of their collection
(about 40 bytes per item instead of 700–800 for the catalogs of Landsat, Sentinel-1 and
Sentinel-2), or without one before a collection has enough items to train it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from hashlib import blake2b

import numpy as np
import shapely
import zstandard

__all__ = ["DICTIONARY_SAMPLES", "BodyCodec", "bbox_text", "geometry_text", "key_of", "pack",
           "train_dictionary", "unpack"]

ID, GEOMETRY, BBOX = "\x01", "\x02", "\x03"
DICTIONARY_SAMPLES = 256  # items of a collection needed to train its dictionary
_DICTIONARY_BYTES = 4096
_LEVEL = 3  # with a dictionary, higher levels are slower and no smaller on items


def key_of(text: str | bytes) -> int:
    """A signed 64-bit hash of ``text`` (the key an index looks rows up by)."""
    data = text.encode() if isinstance(text, str) else text
    return int.from_bytes(blake2b(data, digest_size=8).digest(), "big", signed=True)


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def geometry_text(geometry: shapely.Geometry) -> str | None:
    """The GeoJSON text ``json.dumps`` writes for a 2-D Polygon or MultiPolygon.

    Returns:
        The text, or None for other kinds of geometry (they stay inline in the body).
    """
    kind = shapely.get_type_id(geometry)
    if kind == 3:  # Polygon
        parts = [geometry]
    elif kind == 6:  # MultiPolygon
        parts = list(geometry.geoms)
    else:
        return None
    if shapely.has_z(geometry):
        return None
    polygons = []
    for part in parts:
        rings = []
        for ring in (part.exterior, *part.interiors):
            xy = shapely.get_coordinates(ring)
            if not np.isfinite(xy).all():
                return None
            # what json.dumps writes for lists of floats (repr), without its machinery
            rings.append("[" + ",".join([f"[{x!r},{y!r}]" for x, y in xy.tolist()]) + "]")
        polygons.append("[" + ",".join(rings) + "]")
    if kind == 3:
        return '{"type":"Polygon","coordinates":' + polygons[0] + "}"
    return '{"type":"MultiPolygon","coordinates":[' + ",".join(polygons) + "]}"


def bbox_text(bbox: Sequence[float]) -> str:
    """The text ``json.dumps`` writes for a 2-D bbox."""
    return _dumps([float(value) for value in bbox])


def _escaped(item_id: str) -> str:
    """The id as it stands inside a JSON string."""
    if item_id.isascii() and item_id.isprintable() and '"' not in item_id \
            and "\\" not in item_id:
        return item_id
    return _dumps(item_id)[1:-1]


def pack(text: str, item_id: str, geometry: str | None, bbox: str) -> str:
    """Replace the footprint, the bbox and the id in an item's JSON text by their marks."""
    for mark, value in ((GEOMETRY, geometry), (BBOX, bbox), (ID, _escaped(item_id))):
        if value:
            text = text.replace(value, mark)
    return text


def unpack(residual: str, item_id: str, geometry: object, bbox: str) -> str:
    """Put the parts :func:`pack` took out back.

    Args:
        residual: what :func:`pack` returned.
        item_id: the item's id.
        geometry: a callable giving the footprint's text (called only when it was taken out).
        bbox: the bbox's text.
    """
    text = residual.replace(ID, _escaped(item_id))
    if BBOX in text:
        text = text.replace(BBOX, bbox)
    if GEOMETRY in text:
        text = text.replace(GEOMETRY, geometry())  # type: ignore[operator]
    return text


def train_dictionary(residuals: Sequence[str]) -> bytes | None:
    """A zstd dictionary for a collection's residuals, or None when they are too few."""
    if len(residuals) < DICTIONARY_SAMPLES:
        return None
    try:
        trained = zstandard.train_dictionary(_DICTIONARY_BYTES,
                                             [text.encode() for text in residuals])
    except zstandard.ZstdError:  # too little to learn from
        return None
    return trained.as_bytes()


def _parameters() -> zstandard.ZstdCompressionParameters:
    return zstandard.ZstdCompressionParameters.from_level(
        _LEVEL, format=zstandard.FORMAT_ZSTD1_MAGICLESS, write_checksum=0, write_dict_id=0,
        write_content_size=1)


class BodyCodec:
    """Compress and decompress residuals, with or without a collection's dictionary.

    Codecs: ``0`` = no dictionary; ``1`` = the dictionary of the item's collection.
    """

    def __init__(self) -> None:
        self._plain = (zstandard.ZstdCompressor(compression_params=_parameters()),
                       zstandard.ZstdDecompressor(format=zstandard.FORMAT_ZSTD1_MAGICLESS))
        self._trained: dict[bytes, tuple[zstandard.ZstdCompressor,
                                         zstandard.ZstdDecompressor]] = {}

    def _pair(self, dictionary: bytes | None) -> tuple[zstandard.ZstdCompressor,
                                                       zstandard.ZstdDecompressor]:
        if dictionary is None:
            return self._plain
        pair = self._trained.get(dictionary)
        if pair is None:
            data = zstandard.ZstdCompressionDict(dictionary)
            pair = (zstandard.ZstdCompressor(dict_data=data, compression_params=_parameters()),
                    zstandard.ZstdDecompressor(dict_data=data,
                                               format=zstandard.FORMAT_ZSTD1_MAGICLESS))
            self._trained[dictionary] = pair
        return pair

    def compress(self, residual: str, dictionary: bytes | None) -> tuple[int, bytes]:
        """Return ``(codec, frame)`` for a residual."""
        return int(dictionary is not None), self._pair(dictionary)[0].compress(
            residual.encode())

    def decompress(self, codec: int, frame: bytes, dictionary: bytes | None) -> str:
        """Return the residual of a stored frame."""
        if codec and dictionary is None:
            raise ValueError("an item compressed with its collection's dictionary, which the "
                             "index does not hold")
        return self._pair(dictionary if codec else None)[1].decompress(frame).decode()
