"""Polygon optimisation: smooth and simplify every polygon of a layer, keeping it clean.

Meant for the jagged, pixel-stepped polygons that AI extraction tools produce. For each
polygon, in this order:

1. **Smoothing** (``iterations`` > 0): Chaikin corner cutting, each pass replacing every
   edge by points at ¼ and ¾ of it. Vertices where polygons meet (nodes: where a shared edge
   starts or ends, or where polygons touch) stay fixed, and a shared edge is smoothed the same
   way from both sides, so neighbours keep one common boundary (no gap, no overlap).
2. **Simplification** (``tolerance`` > 0). When the layer is a *coverage* — its polygons do
   not overlap and shared edges have the same vertices, as polygons vectorized from a raster
   do — and ``keep_shared_edges`` is on, the whole layer is simplified together with GEOS's
   coverage simplification (``shapely.coverage_simplify``, Visvalingam–Whyatt: triangles of
   about ``tolerance²`` in area are removed) which keeps shared edges shared and every polygon
   valid. Otherwise (overlapping polygons, or ``keep_shared_edges`` off) each polygon is
   simplified on its own, topology-preserving Douglas–Peucker with ``tolerance`` as the
   distance; neighbours may then drift apart by up to ``tolerance`` along shared edges. The
   notes say which was used.
3. **Repair**: a result that is not valid is repaired (``make_valid``) keeping its polygons
   only; one that would vanish keeps its original geometry (listed in the notes).

``tolerance`` is in the layer's units; for a geographic layer (degrees) it is in metres: the
work is done in the layer's UTM zone and the result is brought back to the layer's CRS.

Every feature is kept, in the same order, with all of its attributes (ids included); points
and lines pass through unchanged. The notes (``extra``) report the vertex counts and the area
change, in total and per feature.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import shapely

from terralab.tools.base import (
    RunContext,
    Tool,
    ToolInfo,
    ToolOutput,
    ToolParams,
    param,
    vector_input,
)
from terralab.tools.inputs import InputError

__all__ = ["PolygonOptimisation", "chaikin", "edge_match", "optimise_polygons"]

MAX_REPORTED = 10_000
SNAP = 1e-6  # layer units (metres once a geographic layer is projected)
_POLYGONAL = ("Polygon", "MultiPolygon")


def _cut(points: np.ndarray) -> np.ndarray:
    """One Chaikin pass over an open polyline, its two ends kept."""
    p, q = points[:-1], points[1:]
    cuts = np.empty((2 * len(p), 2))
    cuts[0::2] = 0.75 * p + 0.25 * q
    cuts[1::2] = 0.25 * p + 0.75 * q
    return np.vstack([points[:1], cuts, points[-1:]])


def chaikin(ring: np.ndarray, iterations: int, fixed: np.ndarray | None = None) -> np.ndarray:
    """Chaikin-smooth a closed ring.

    Args:
        ring: ``(n, 2)`` coordinates, first == last.
        iterations: the number of passes.
        fixed: ``(n - 1,)`` booleans, vertices that must not move (nodes); the ring is then
            smoothed section by section between them.

    Returns:
        The smoothed ring, closed.
    """
    points = np.asarray(ring, dtype=float)[:-1, :2]
    if iterations <= 0 or len(points) < 3:
        return np.asarray(ring, dtype=float)[:, :2]
    if fixed is None or not fixed.any():
        for _ in range(iterations):
            nxt = np.roll(points, -1, axis=0)
            cuts = np.empty((2 * len(points), 2))
            cuts[0::2] = 0.75 * points + 0.25 * nxt
            cuts[1::2] = 0.25 * points + 0.75 * nxt
            points = cuts
        return np.vstack([points, points[:1]])
    start = int(np.flatnonzero(fixed)[0])
    points = np.roll(points, -start, axis=0)
    marks = np.flatnonzero(np.roll(fixed, -start))
    closed = np.vstack([points, points[:1]])
    stops = [*marks.tolist(), len(points)]
    out = [closed[:1]]
    for a, b in pairwise(stops):
        section = closed[a:b + 1]
        if len(section) > 2:
            for _ in range(iterations):
                section = _cut(section)
        out.append(section[1:])
    return np.vstack(out)


def _rings(geom: Any) -> list[np.ndarray]:
    """Coordinates of every ring of a polygon or multipolygon (shells then holes, per part)."""
    out = []
    for part in shapely.get_parts(geom):
        out.append(np.asarray(part.exterior.coords)[:, :2])
        out += [np.asarray(r.coords)[:, :2] for r in part.interiors]
    return out


def _nodes(rings: list[np.ndarray]) -> list[np.ndarray]:
    """For each ring, which of its vertices are nodes of the layer (more than 2 neighbours)."""
    if not rings:
        return []
    opened = [r[:-1] for r in rings]
    coords = np.vstack(opened)
    _, ids = np.unique(coords, axis=0, return_inverse=True)
    ids = ids.ravel()
    starts = np.cumsum([0, *[len(r) for r in opened]])
    edges = []
    for a, b in pairwise(starts):
        ring_ids = ids[a:b]
        edges.append(np.stack([ring_ids, np.roll(ring_ids, -1)], axis=1))
    pairs = np.unique(np.sort(np.vstack(edges), axis=1), axis=0)
    degree = np.bincount(pairs.ravel(), minlength=int(ids.max()) + 1)
    fixed = degree[ids] > 2
    return [fixed[a:b] for a, b in pairwise(starts)]


def _rebuild(geom: Any, rings: list[np.ndarray]) -> Any:
    """A geometry shaped like ``geom`` from new ring coordinates (same order as ``_rings``)."""
    parts, at = [], 0
    for part in shapely.get_parts(geom):
        holes = len(part.interiors)
        parts.append(shapely.Polygon(rings[at], rings[at + 1:at + 1 + holes]))
        at += 1 + holes
    return parts[0] if geom.geom_type == "Polygon" else shapely.MultiPolygon(parts)


def edge_match(geoms: np.ndarray, snap: float) -> np.ndarray:
    """Add to each polygon the vertices of its neighbours that lie on its edges.

    Polygons vectorized from a raster share edges but not always vertices (a straight edge
    on one side, a stepped one on the other meeting it at T-junctions); with every shared
    vertex on both sides the layer becomes a coverage in GEOS's sense and shared edges can be
    smoothed and simplified the same way on both sides. ``snap`` is the distance under which
    a neighbour's vertex counts as on the edge (a tiny value: only rounding is absorbed).
    """
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    out = geoms.copy()
    for i in np.unique(left):
        others = right[(left == i) & (right != i)]
        if len(others) == 0:
            continue
        points = shapely.multipoints(shapely.get_coordinates(geoms[others]))
        matched = shapely.snap(geoms[i], points, snap)
        if matched.is_valid and not matched.is_empty:
            out[i] = matched
    return out


def _smooth(geoms: np.ndarray, iterations: int) -> np.ndarray:
    rings = [_rings(g) for g in geoms]
    fixed = iter(_nodes([r for group in rings for r in group]))
    return np.array([_rebuild(g, [chaikin(r, iterations, next(fixed)) for r in group])
                     for g, group in zip(geoms, rings, strict=True)], dtype=object)


def _polygons_only(geom: Any) -> Any:
    """``geom`` made valid, polygons only (None when nothing polygonal is left)."""
    if geom.is_valid:
        return geom
    fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    parts = [p for p in shapely.get_parts(shapely.get_parts(fixed))
             if p.geom_type == "Polygon" and not p.is_empty]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _repair(geoms: np.ndarray, fallback: np.ndarray) -> tuple[np.ndarray, int, list[int]]:
    """Make every geometry valid; returns them, how many were repaired, which fell back."""
    out, repaired, kept = geoms.copy(), 0, []
    for i, geom in enumerate(geoms):
        if geom.is_valid and not geom.is_empty:
            continue
        fixed = _polygons_only(geom) if not geom.is_empty else None
        if fixed is None:
            out[i] = fallback[i]
            kept.append(i)
        else:
            out[i] = fixed
            repaired += 1
    return out, repaired, kept


def optimise_polygons(geoms: np.ndarray, *, iterations: int, tolerance: float,
                      keep_shared_edges: bool = True) -> tuple[np.ndarray, dict[str, Any]]:
    """Smooth, simplify and repair valid polygons (see the module's docs).

    Args:
        geoms: an array of valid Polygons / MultiPolygons.
        iterations: Chaikin passes.
        tolerance: the simplification tolerance (same units as the coordinates).
        keep_shared_edges: match the vertices of shared edges first (:func:`edge_match`),
            then simplify a coverage as a whole (shared edges stay shared).

    Returns:
        The new geometries (same length and order) and notes: ``simplification``
        (``"coverage"``, ``"per feature"`` or ``"none"``), ``repaired`` (count) and
        ``kept_unchanged`` (positions whose result would have vanished).
    """
    original = np.asarray(geoms, dtype=object)
    work = original.copy()
    if keep_shared_edges and len(work) > 1:
        work = edge_match(work, SNAP)
    repaired, kept = 0, set()
    if iterations > 0 and len(work):
        work, fixed, fell_back = _repair(_smooth(work, iterations), original)
        repaired, kept = repaired + fixed, kept | set(fell_back)
    method = "none"
    if tolerance > 0 and len(work):
        if keep_shared_edges and bool(shapely.coverage_is_valid(work)):
            work, method = np.asarray(shapely.coverage_simplify(work, tolerance)), "coverage"
        else:
            work = shapely.simplify(work, tolerance, preserve_topology=True)
            method = "per feature"
        work, fixed, fell_back = _repair(work, original)
        repaired, kept = repaired + fixed, kept | set(fell_back)
    return work, {"simplification": method, "repaired": repaired,
                  "kept_unchanged": sorted(kept)}


def _id_column(frame: Any, wanted: str | None) -> str | None:
    columns = [c for c in frame.columns if c != frame.geometry.name]
    if wanted is not None:
        if wanted not in columns:
            raise InputError(f"the layer has no attribute {wanted!r}; it has: "
                             f"{', '.join(map(str, columns)) or 'none'}")
        return wanted
    for name in columns:
        if str(name).lower() in ("id", "fid") or str(name).lower().endswith("_id"):
            return name
    return None


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


class PolygonOptimisation(Tool):
    """Batch smoothing and simplification of a layer's polygons."""

    info = ToolInfo(
        name="polygon_optimisation", title="Polygon optimisation", title_zh="多边形优化",
        description_zh="平滑并简化图层中的每个多边形（如 AI 结果的锯齿边界），保留属性和公共边界。",
        inputs=("vector",), outputs=("vector",),
        description="Smooth (Chaikin) and simplify every polygon of a layer — e.g. the "
                    "stepped outlines of AI results — keeping attributes, validity and "
                    "shared boundaries; reports the area change.")

    class Params(ToolParams):
        """The optimisation's parameters."""

        layer: Any = vector_input(help="The polygon layer", help_zh="多边形图层")
        iterations: int = param(
            2, help="Smoothing passes (Chaikin corner cutting); 0 = no smoothing",
            help_zh="平滑次数(Chaikin 切角);0 表示不平滑", ge=0, le=6)
        tolerance: float = param(
            1.0, help="Simplification tolerance in the layer's units (metres for a layer in "
                      "degrees); 0 = no simplification",
            help_zh="简化容差,单位为图层单位(经纬度图层为米);0 表示不简化", ge=0)
        keep_shared_edges: bool = param(
            True, help="Keep boundaries shared by neighbouring polygons shared (when the "
                       "polygons do not overlap)",
            help_zh="保持相邻多边形的公共边一致(多边形互不重叠时)", advanced=True)
        id_field: str | None = param(
            None, help="Attribute naming each feature in the report (default: an id column, "
                       "else the row number)",
            help_zh="报告中标识要素的属性(默认:id 字段,否则为行号)", advanced=True)

    def run(self, params: Any, context: RunContext) -> ToolOutput:
        """Optimise every polygon of ``params.layer``."""
        import geopandas as gpd

        frame = context.open_vector(params.layer)
        id_column = _id_column(frame, params.id_field)
        geoms = np.asarray(frame.geometry.values, dtype=object)
        polygonal = np.array([g is not None and not g.is_empty and g.geom_type in _POLYGONAL
                              for g in geoms], dtype=bool)
        if not polygonal.any():
            raise InputError("the layer holds no polygon")
        crs = frame.crs
        work = frame.geometry[polygonal]
        geographic = crs is not None and crs.is_geographic
        if geographic:
            work = work.to_crs(frame.estimate_utm_crs())
        before = np.array([g if g.is_valid else _polygons_only(g) or g for g in work.values],
                          dtype=object)
        context.progress(10, "smoothing and simplifying")
        after, notes = optimise_polygons(before, iterations=params.iterations,
                                         tolerance=params.tolerance,
                                         keep_shared_edges=params.keep_shared_edges)
        result = frame.copy()
        new = gpd.GeoSeries(after, index=work.index, crs=work.crs)
        if geographic:
            new = new.to_crs(crs)
        column = result.geometry.name
        values = np.asarray(result.geometry.values, dtype=object).copy()
        values[polygonal] = np.asarray(new.values, dtype=object)
        result[column] = values
        result = result.set_geometry(column, crs=crs)
        area_before, area_after = shapely.area(before), shapely.area(after)
        ids = (frame[id_column][polygonal] if id_column else frame.index[polygonal]).tolist()
        change = np.where(area_before > 0,
                          (area_after - area_before) / np.where(area_before > 0, area_before, 1)
                          * 100, 0.0)
        order = np.argsort(-np.abs(change), kind="stable")[:MAX_REPORTED]
        total_before = float(area_before.sum())
        extra = {
            "features": len(frame), "polygons": int(polygonal.sum()),
            "unchanged_other_geometries": int((~polygonal).sum()),
            "simplification": notes["simplification"], "iterations": params.iterations,
            "tolerance": params.tolerance, "units": "metres" if geographic else "layer units",
            "vertices_before": int(shapely.get_num_coordinates(before).sum()),
            "vertices_after": int(shapely.get_num_coordinates(after).sum()),
            "area_before": total_before, "area_after": float(area_after.sum()),
            "area_change_percent": (float(area_after.sum()) - total_before)
            / total_before * 100 if total_before else 0.0,
            "max_feature_change_percent": float(np.abs(change).max()),
            "repaired": notes["repaired"],
            "kept_unchanged": [_plain(ids[i]) for i in notes["kept_unchanged"]],
            "id_field": id_column,
            "per_feature": {str(_plain(ids[i])): round(float(change[i]), 4)
                            for i in sorted(order.tolist())},
            "per_feature_truncated": bool(len(change) > MAX_REPORTED),
        }
        context.progress(70, "done")
        return ToolOutput(vector=result, name="optimised_polygons", extra=extra)
