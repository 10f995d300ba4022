"""What one edit on the map did to a polygon: a vertex moved, inserted or deleted, or more.

The map's editor sends the whole outline of a polygon after each edit (WGS84, rounded by
Leaflet to 1e-6°). :func:`polygon_edit` compares it with the outline shown before and names
the one change a single mouse action makes, so that only that vertex is written to the
layer (the other vertices keep their full precision):

- :class:`VertexEdit` ``("move", part, ring, index, xy)``: corner ``index`` moved to ``xy``;
- ``("insert", part, ring, index, xy)``: a corner inserted before ``index``;
- ``("delete", part, ring, index, None)``: corner ``index`` removed.

Anything else (the whole polygon dragged, several corners changed, a part added) is None:
the caller then replaces the geometry as a whole. Parts and rings are numbered as in
:mod:`terralab.mydata.vector_edit` (part 0 of a polygon, ring 0 the outer ring), corners
without the closing point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["TOLERANCE", "VertexEdit", "polygon_edit", "polygon_rings", "same_outline"]

TOLERANCE = 2e-6
"""Degrees two corners may differ by and still be the same corner (Leaflet rounds to 1e-6)."""

Ring = list[tuple[float, float]]


@dataclass(frozen=True)
class VertexEdit:
    """One vertex change of one ring."""

    kind: str
    part: int
    ring: int
    index: int
    xy: tuple[float, float] | None = None


def _ring(coordinates: Sequence[Sequence[float]]) -> Ring:
    """A ring's corners without the closing point (which Leaflet may or may not send)."""
    corners = [(float(c[0]), float(c[1])) for c in coordinates]
    if len(corners) > 1 and _same(corners[0], corners[-1]):
        corners = corners[:-1]
    return corners


def polygon_rings(geometry: dict[str, Any]) -> list[list[Ring]]:
    """A GeoJSON Polygon / MultiPolygon as parts → rings → corners (no closing points).

    Raises:
        ValueError: for other geometry types.
    """
    kind = geometry.get("type")
    if kind == "Polygon":
        parts = [geometry["coordinates"]]
    elif kind == "MultiPolygon":
        parts = list(geometry["coordinates"])
    else:
        raise ValueError(f"a polygon layer takes polygons, not a {kind}")
    return [[_ring(ring) for ring in part] for part in parts]


def _same(a: Sequence[float], b: Sequence[float]) -> bool:
    return abs(a[0] - b[0]) <= TOLERANCE and abs(a[1] - b[1]) <= TOLERANCE


def _equal(a: Ring, b: Ring) -> bool:
    return len(a) == len(b) and all(_same(p, q) for p, q in zip(a, b, strict=True))


def _ring_edit(old: Ring, new: Ring) -> tuple[str, int, tuple[float, float] | None] | None:
    """The single move / insert / delete turning ``old`` into ``new``, else None."""
    if len(new) == len(old):
        changed = [i for i, (p, q) in enumerate(zip(old, new, strict=True)) if not _same(p, q)]
        return ("move", changed[0], new[changed[0]]) if len(changed) == 1 else None
    if len(new) == len(old) + 1:
        for index in range(len(new)):
            if _equal(new[:index] + new[index + 1:], old):
                return "insert", index, new[index]
        return None
    if len(new) == len(old) - 1:
        for index in range(len(old)):
            if _equal(old[:index] + old[index + 1:], new):
                return "delete", index, None
    return None


def polygon_edit(old: dict[str, Any], new: dict[str, Any]) -> VertexEdit | None:
    """The one vertex edit between two GeoJSON geometries, or None (see the module doc).

    Args:
        old: the geometry shown before the edit.
        new: the geometry the map sent after it.

    Raises:
        ValueError: when either is not a polygon or multipolygon.
    """
    before, after = polygon_rings(old), polygon_rings(new)
    if len(before) != len(after):
        return None
    if any(len(p) != len(q) for p, q in zip(before, after, strict=True)):
        return None
    changed = [(part, ring) for part, rings in enumerate(before)
               for ring, corners in enumerate(rings)
               if not _equal(corners, after[part][ring])]
    if len(changed) != 1:
        return None
    part, ring = changed[0]
    found = _ring_edit(before[part][ring], after[part][ring])
    if found is None:
        return None
    kind, index, xy = found
    return VertexEdit(kind, part, ring, index, xy)


def same_outline(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether two polygon geometries have the same corners (within :data:`TOLERANCE`)."""
    try:
        before, after = polygon_rings(old), polygon_rings(new)
    except ValueError:
        return False
    return len(before) == len(after) and all(
        len(p) == len(q) and all(_equal(r, s) for r, s in zip(p, q, strict=True))
        for p, q in zip(before, after, strict=True))
