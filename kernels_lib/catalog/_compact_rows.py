"""Writing and reading the compact rows of the embedded catalog index (schema 2).

:class:`CompactRows` turns the rows :func:`terralab.catalog._item_rows.item_rows` makes into
rows of ``items`` (a collection code, the footprint as a reference to ``shapes``, the body as
a compressed residual) and gives back each item's JSON text exactly as it was added. One
instance serves one SQLite connection (one thread).
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterable, Sequence
from typing import Any

import shapely

from terralab.catalog._item_codec import (
    BodyCodec,
    bbox_text,
    geometry_text,
    key_of,
    pack,
    train_dictionary,
    unpack,
)

__all__ = ["TIME_UNIT", "CompactRows", "Shape"]

_CACHE = 20_000  # footprints kept decoded per connection
# the R*Tree's time unit: 30 days (in microseconds), so that a county-sized area and a year
# are boxes of similar size (the R*Tree splits by box margins)
TIME_UNIT = 30 * 86_400 * 1_000_000
Shape = tuple[float, float, float, float, bytes]  # minx, miny, maxx, maxy, wkb


class CompactRows:
    """The compact rows of one connection: collection codes, footprints, bodies.

    Args:
        conn: the connection (its thread's).
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.codec = BodyCodec()
        self._shapes: dict[int, Shape] = {}
        self._texts: dict[int, str | None] = {}  # shape rowid -> its GeoJSON text
        self._bboxes: dict[int, str] = {}  # shape rowid -> its bbox's text
        self._known: dict[Shape, int] = {}  # footprint -> shape rowid, within one write
        self._spans: dict[int, tuple[float, float]] = {}  # its items' times, within one write

    def begin_write(self) -> None:
        """Start a write transaction's caches afresh (another process may have written)."""
        self._known.clear()
        self._spans.clear()

    def forget(self) -> None:
        """Drop every cache (after a rollback: its new footprints are gone)."""
        self._known.clear()
        self._spans.clear()
        self._drop_decoded()

    # -- collections -----------------------------------------------------------------------

    def codes(self, names: Iterable[str]) -> list[int]:
        """The codes of the collections among ``names`` that the index holds."""
        wanted = list(dict.fromkeys(names))
        if not wanted:
            return []
        return [code for (code,) in self.conn.execute(
            f"SELECT code FROM collections WHERE name IN ({','.join('?' * len(wanted))})",
            wanted)]

    def code(self, name: str) -> tuple[int, bytes | None] | None:
        """``(code, dictionary)`` of a collection, or None when the index has none of it."""
        row = self.conn.execute("SELECT code, dictionary FROM collections WHERE name = ?",
                                (name,)).fetchone()
        return None if row is None else (row[0], row[1])

    def _dictionaries(self) -> dict[int, bytes | None]:
        return dict(self.conn.execute("SELECT code, dictionary FROM collections"))

    def names(self) -> dict[int, str]:
        """Every collection's name by its code."""
        return dict(self.conn.execute("SELECT code, name FROM collections"))

    def _ensure(self, name: str, residuals: Sequence[str]) -> tuple[int, bytes | None]:
        """The code and dictionary of collection ``name`` (inside a write).

        The collection is added when new; its dictionary is trained when it has none and
        ``residuals`` are enough to learn from.
        """
        found = self.code(name)
        if found is not None and found[1] is not None:
            return found
        dictionary = train_dictionary(residuals)
        if found is None:
            code = self.conn.execute("INSERT INTO collections (name, dictionary) VALUES (?, ?)",
                                     (name, dictionary)).lastrowid
            return int(code), dictionary
        if dictionary is not None:
            self.conn.execute("UPDATE collections SET dictionary = ? WHERE code = ?",
                              (dictionary, found[0]))
        return found[0], dictionary

    # -- footprints ------------------------------------------------------------------------

    def shape_of(self, minx: float, miny: float, maxx: float, maxy: float,
                 wkb: bytes) -> int:
        """The row of ``shapes`` holding this footprint and bbox (added when new)."""
        shape = (minx, miny, maxx, maxy, wkb)
        known = self._known.get(shape)
        if known is not None:
            return known
        key = key_of(wkb + struct.pack("<4d", minx, miny, maxx, maxy))
        rowid = next((int(rowid) for rowid, *stored in self.conn.execute(
            "SELECT rowid, minx, miny, maxx, maxy, wkb FROM shapes WHERE key = ?", (key,))
            if tuple(stored) == shape), None)
        if rowid is None:
            rowid = int(self.conn.execute(
                "INSERT INTO shapes (key, minx, miny, maxx, maxy, uses, wkb) "
                "VALUES (?, ?, ?, ?, ?, 0, ?)", (key, *shape[:4], wkb)).lastrowid)
        self._known[shape] = rowid
        if len(self._shapes) >= _CACHE:
            self._drop_decoded()
        self._shapes[rowid] = shape
        return rowid

    def shapes(self, rowids: Iterable[int]) -> dict[int, Shape]:
        """The footprints (bbox and WKB) of these ``shapes`` rows."""
        rowids = list(rowids)
        missing = [rowid for rowid in set(rowids) if rowid not in self._shapes]
        if missing:
            if len(self._shapes) + len(missing) > _CACHE:
                self._drop_decoded()
                missing = list(set(rowids))
            for start in range(0, len(missing), 30_000):
                part = missing[start:start + 30_000]
                for rowid, *shape in self.conn.execute(
                        "SELECT rowid, minx, miny, maxx, maxy, wkb FROM shapes WHERE rowid IN "
                        f"({','.join(map(str, part))})"):
                    self._shapes[rowid] = tuple(shape)  # type: ignore[assignment]
        return {rowid: self._shapes[rowid] for rowid in rowids}

    def _drop_decoded(self) -> None:
        self._shapes.clear()
        self._texts.clear()
        self._bboxes.clear()

    def _geometry_text(self, rowid: int, shape: Shape) -> str | None:
        if rowid not in self._texts:
            self._texts[rowid] = geometry_text(shapely.from_wkb(shape[4]))
        return self._texts[rowid]

    def _bbox_text(self, rowid: int, shape: Shape) -> str:
        text = self._bboxes.get(rowid)
        if text is None:
            text = self._bboxes[rowid] = bbox_text(shape[:4])
        return text

    def _widen(self, rows: Sequence[tuple[Any, ...]], shapes: Sequence[int]) -> None:
        """Count the rows' uses of their footprints and widen the footprints' time spans.

        Each footprint's R*Tree box spans the intervals of all items added with it.
        """
        seen: dict[int, list[float]] = {}
        for row, shape in zip(rows, shapes, strict=True):
            t0, t1 = row[4] / TIME_UNIT, row[5] / TIME_UNIT
            span = seen.get(shape)
            if span is None:
                seen[shape] = [1, t0, t1]
            else:
                span[0] += 1
                span[1], span[2] = min(span[1], t0), max(span[2], t1)
        self.conn.executemany("UPDATE shapes SET uses = uses + ? WHERE rowid = ?",
                              [(int(span[0]), shape) for shape, span in seen.items()])
        unknown = [shape for shape in seen if shape not in self._spans]
        for start in range(0, len(unknown), 30_000):
            part = unknown[start:start + 30_000]
            self._spans.update((rid, (mint, maxt)) for rid, mint, maxt in self.conn.execute(
                "SELECT rid, mint, maxt FROM shapes_rtree WHERE rid IN "
                f"({','.join(map(str, part))})"))
        wider = []
        for shape, (_, t0, t1) in seen.items():
            old = self._spans.get(shape)
            new = (t0, t1) if old is None else (min(old[0], t0), max(old[1], t1))
            if new != old:
                self._spans[shape] = new
                minx, miny, maxx, maxy, _ = self.shapes([shape])[shape]
                wider.append((shape, minx, maxx, miny, maxy, *new))
        self.conn.executemany("INSERT OR REPLACE INTO shapes_rtree VALUES (?,?,?,?,?,?,?)",
                              wider)

    # -- writing ---------------------------------------------------------------------------

    def encode(self, rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Turn rows of ``item_rows`` (owner '') into ``items`` rows without their rowid.

        Inside a write transaction: new collections, footprints and dictionaries are added.

        Returns:
            ``(key, coll, dt, t0, t1, cloud, shape, codec, id, body)`` per row.
        """
        shapes = [self.shape_of(*row[7:12]) for row in rows]
        known = self.shapes(shapes)
        self._widen(rows, shapes)
        residuals = [pack(row[12], row[1], self._geometry_text(shape, known[shape]),
                          self._bbox_text(shape, known[shape]))
                     for row, shape in zip(rows, shapes, strict=True)]
        by_collection: dict[str, list[str]] = {}
        for row, residual in zip(rows, residuals, strict=True):
            by_collection.setdefault(row[0], []).append(residual)
        codes = {name: self._ensure(name, texts) for name, texts in by_collection.items()}
        encoded = []
        for row, shape, residual in zip(rows, shapes, residuals, strict=True):
            code, dictionary = codes[row[0]]
            codec, frame = self.codec.compress(residual, dictionary)
            dt, t0, t1 = row[3:6]
            encoded.append((key_of(row[1]), code, dt, None if t0 == dt else t0,
                            None if t1 == dt else t1, row[6], shape, codec, row[1], frame))
        return encoded

    # -- reading ---------------------------------------------------------------------------

    def bodies(self, rowids: Sequence[int]) -> dict[int, str]:
        """The JSON texts of the items with these rowids."""
        if not rowids:
            return {}
        rows = self.conn.execute(
            "SELECT rowid, coll, shape, codec, id, body FROM items WHERE rowid IN "
            f"({','.join(map(str, rowids))})").fetchall()
        return {row[0]: text for row, text in zip(rows, self.texts(rows), strict=True)}

    def texts(self, rows: Sequence[tuple[Any, ...]]) -> list[str]:
        """The JSON texts of ``(…, coll, shape, codec, id, body)`` rows (the last five)."""
        dictionaries = self._dictionaries() if any(row[-3] for row in rows) else {}
        shapes = self.shapes(row[-4] for row in rows)
        texts = []
        for *_, code, shape, codec, name, frame in rows:
            known = shapes[shape]
            residual = self.codec.decompress(codec, frame, dictionaries.get(code))
            texts.append(unpack(residual, name,
                                lambda s=shape, k=known: self._geometry_text(s, k),
                                self._bbox_text(shape, known)))
        return texts
