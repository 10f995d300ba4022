"""The text encoding of a shapefile's ``.dbf``: which to try, and whether one really fits.

Shapefiles made in China are often GBK/GB18030 without a ``.cpg`` saying so; GDAL then reads
them as latin-1 (or replaces what it cannot recode with ``?``, warning once per process). So
terralab decides from the raw bytes: the ``.cpg``'s encoding first (else a CJK code page named
by the ``.dbf`` language-driver byte), then UTF-8, GB18030 and ISO-8859-1, taking the first in
which every field name and text value decodes strictly.
"""

from __future__ import annotations

import codecs
import struct
from pathlib import Path

import numpy as np

__all__ = ["FALLBACK_ENCODINGS", "candidate_encodings", "codec_name", "dbf_decodes"]

FALLBACK_ENCODINGS = ("GB18030", "ISO-8859-1")
_LDID_CJK = {0x13: "cp932", 0x4D: "cp936", 0x4E: "cp949", 0x4F: "cp950", 0x7A: "cp936",
             0x7B: "cp932"}


def codec_name(name: str) -> str | None:
    """The Python codec for an encoding named in a ``.cpg`` (``UTF-8``, ``936``, ``GBK``…)."""
    text = name.strip()
    if text.isdigit():
        text = "utf-8" if text == "65001" else f"cp{text}"
    elif text.upper().startswith("8859"):
        text = "iso-8859-" + text[4:].lstrip("-_")
    try:
        return codecs.lookup(text).name.upper() if text else None
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        return None


def candidate_encodings(shp: Path, flags: list[str]) -> tuple[list[str], bool]:
    """The encodings to try for a shapefile's text, and whether a ``.cpg`` named the first."""
    cpg = shp.with_suffix(".cpg")
    first: list[str] = []
    from_cpg = False
    if cpg.is_file():
        text = cpg.read_bytes()[:64].decode("ascii", "replace").strip()
        codec = codec_name(text)
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
    for name in (*first, "UTF-8", *FALLBACK_ENCODINGS):
        if all(codecs.lookup(name).name != codecs.lookup(seen).name for seen in tried):
            tried.append(name)
    return tried, from_cpg


def dbf_decodes(dbf: Path, encoding: str) -> bool:
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
