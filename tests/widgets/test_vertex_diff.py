"""Naming the one vertex edit between two outlines the map sends (no browser)."""

from __future__ import annotations

import pytest

from terralab.widgets.vertex_diff import VertexEdit, polygon_edit, polygon_rings, same_outline

SQUARE = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
HOLE = [[0.2, 0.2], [0.4, 0.2], [0.4, 0.4], [0.2, 0.2]]


def polygon(*rings):
    return {"type": "Polygon", "coordinates": [list(r) for r in rings]}


def test_rings_drop_the_closing_point_only_when_it_closes():
    assert polygon_rings(polygon(SQUARE)) == [[[(0, 0), (1, 0), (1, 1), (0, 1)]]]
    assert polygon_rings(polygon(SQUARE[:-1])) == [[[(0, 0), (1, 0), (1, 1), (0, 1)]]]
    with pytest.raises(ValueError, match="not a LineString"):
        polygon_rings({"type": "LineString", "coordinates": SQUARE})


def test_a_moved_corner_is_named_with_its_new_place():
    moved = [list(c) for c in SQUARE]
    moved[2] = [1.5, 1.25]
    assert polygon_edit(polygon(SQUARE), polygon(moved)) == VertexEdit("move", 0, 0, 2,
                                                                       (1.5, 1.25))
    first = [[-0.5, -0.5], *SQUARE[1:-1], [-0.5, -0.5]]        # the closing point follows
    assert polygon_edit(polygon(SQUARE), polygon(first)) == VertexEdit("move", 0, 0, 0,
                                                                       (-0.5, -0.5))


def test_rounding_by_the_map_is_no_edit():
    rounded = [[x + 9e-7, y - 9e-7] for x, y in SQUARE]
    assert polygon_edit(polygon(SQUARE), polygon(rounded)) is None
    assert same_outline(polygon(SQUARE), polygon(rounded))
    assert not same_outline(polygon(SQUARE), polygon([[0, 0], [2, 0], [2, 2], [0, 2]]))


def test_insert_and_delete_are_found_anywhere_in_the_ring():
    inserted = [SQUARE[0], SQUARE[1], [1.2, 0.5], *SQUARE[2:]]
    assert polygon_edit(polygon(SQUARE), polygon(inserted)) == VertexEdit("insert", 0, 0, 2,
                                                                          (1.2, 0.5))
    assert polygon_edit(polygon(inserted), polygon(SQUARE)) == VertexEdit("delete", 0, 0, 2)
    appended = [*SQUARE[:-1], [-0.2, 0.5], SQUARE[0]]
    assert polygon_edit(polygon(SQUARE), polygon(appended)) == VertexEdit("insert", 0, 0, 4,
                                                                          (-0.2, 0.5))


def test_holes_and_parts_are_addressed():
    moved_hole = [HOLE[0], [0.45, 0.15], *HOLE[2:]]
    assert polygon_edit(polygon(SQUARE, HOLE), polygon(SQUARE, moved_hole)) == \
        VertexEdit("move", 0, 1, 1, (0.45, 0.15))
    far = [[x + 5, y] for x, y in SQUARE]
    far_moved = [list(c) for c in far]
    far_moved[1] = [6.5, -0.5]
    old = {"type": "MultiPolygon", "coordinates": [[SQUARE], [far]]}
    new = {"type": "MultiPolygon", "coordinates": [[SQUARE], [far_moved]]}
    assert polygon_edit(old, new) == VertexEdit("move", 1, 0, 1, (6.5, -0.5))


def test_larger_changes_are_left_to_a_whole_replacement():
    shifted = [[x + 0.1, y + 0.1] for x, y in SQUARE]
    assert polygon_edit(polygon(SQUARE), polygon(shifted)) is None       # dragged polygon
    two = [list(c) for c in SQUARE]
    two[1], two[2] = [1.2, 0], [1.2, 1]
    assert polygon_edit(polygon(SQUARE), polygon(two)) is None           # two corners
    assert polygon_edit(polygon(SQUARE), polygon(SQUARE, HOLE)) is None  # a hole added
    multi = {"type": "MultiPolygon", "coordinates": [[SQUARE], [SQUARE]]}
    assert polygon_edit(polygon(SQUARE), multi) is None                  # a part added
