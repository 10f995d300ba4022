"""Editing a vector layer of my data: vertices, polygons, attributes — each saved at once.

Every operation is one SQLite transaction on the layer's GeoPackage: the feature's row is
changed and the edit is written to the layer's history (table ``terralab_edit_history`` in
the same file, so the file and its history never disagree). :meth:`VectorLayer.undo` takes
back the last edit; the history survives restarts. An edit that would leave a polygon
invalid (a self-intersection, a ring of fewer than three corners) is refused and nothing
changes. Coordinates are in the layer's CRS unless ``crs=`` says otherwise (the map gives
longitude, latitude: ``crs="EPSG:4326"``).

Vertices are addressed like this: ``part`` is the polygon of a multipolygon (0 for a
polygon), ``ring`` 0 the outer ring and 1… the holes, ``index`` the corner in that ring
(the closing point is the first corner, kept in step automatically).
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from terralab.home import terralab_home
from terralab.mydata._gpkg_geometry import decode, encode, register_functions
from terralab.mydata.errors import MyDataError

__all__ = ["EditError", "VectorLayer"]

_HISTORY = """CREATE TABLE IF NOT EXISTS terralab_edit_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, operation TEXT NOT NULL,
    fid INTEGER NOT NULL, before TEXT, after TEXT)"""


class EditError(MyDataError):
    """An edit that cannot be made; nothing was changed."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class VectorLayer:
    """One of a user's vector items (an upload or a result), opened for editing.

    Args:
        owner: the user.
        item_id: the vector item.
        home: the terralab data folder.

    Raises:
        MyDataError: if the user has no such vector item.
    """

    def __init__(self, owner: str, item_id: str, *, home: Path | None = None) -> None:
        from terralab.catalog.assets import local_asset_path
        from terralab.mydata.library import get_item

        self.home = home or terralab_home()
        record = get_item(owner, item_id, home=self.home)
        if record.data_type != "vector":
            raise MyDataError(f"{item_id!r} is a {record.data_type}, not a vector layer")
        path = local_asset_path(record.item, "data", owner=owner, home=self.home)
        assert path is not None
        self.owner, self.item_id, self.path = owner, item_id, path
        with closing(self._connect()) as db:
            row = db.execute("SELECT table_name, column_name, srs_id FROM "
                             "gpkg_geometry_columns LIMIT 1").fetchone()
            if row is None:
                raise MyDataError(f"{item_id!r} has no geometry column")
            self.table, self.column, self.srs_id = row
            columns = db.execute(f"PRAGMA table_info({_quote(self.table)})").fetchall()
            self.columns = [c[1] for c in columns if c[1] not in ("fid", self.column)]
            with db:
                db.execute(_HISTORY)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30)
        register_functions(connection)
        return connection

    @property
    def crs(self) -> Any:
        """The layer's CRS (pyproj), or None when unknown."""
        from pyproj import CRS

        with closing(self._connect()) as db:
            row = db.execute("SELECT organization, organization_coordsys_id, definition FROM "
                             "gpkg_spatial_ref_sys WHERE srs_id = ?", (self.srs_id,)).fetchone()
        if row is None or self.srs_id <= 0:
            return None
        return CRS.from_user_input(row[2]) if row[2] not in ("undefined", "") else \
            CRS.from_authority(row[0], row[1])

    def features(self) -> Any:
        """The layer as a GeoDataFrame, indexed by feature id (``fid``)."""
        import geopandas as gpd

        with closing(self._connect()) as db:
            names = ", ".join(_quote(c) for c in self.columns)
            rows = db.execute(f"SELECT fid, {_quote(self.column)}{', ' if names else ''}{names} "
                              f"FROM {_quote(self.table)} ORDER BY fid").fetchall()
        frame = gpd.GeoDataFrame(
            [dict(zip(self.columns, row[2:], strict=True)) for row in rows],
            geometry=[decode(row[1]) for row in rows], crs=self.crs,
            index=[row[0] for row in rows])
        frame.index.name = "fid"
        return frame

    def _to_layer(self, geometry: BaseGeometry, crs: Any) -> BaseGeometry:
        if crs is None:
            return geometry
        from pyproj import CRS, Transformer

        target = self.crs
        if target is None:
            raise EditError("the layer's coordinate system is unknown; give coordinates in "
                            "its own units (no crs=)")
        transformer = Transformer.from_crs(CRS.from_user_input(crs), target, always_xy=True)
        return shapely.transform(geometry, lambda xy: _apply(transformer, xy))

    def _row(self, db: sqlite3.Connection, fid: int) -> tuple[BaseGeometry | None, dict]:
        names = ", ".join(_quote(c) for c in self.columns)
        row = db.execute(f"SELECT {_quote(self.column)}{', ' if names else ''}{names} FROM "
                         f"{_quote(self.table)} WHERE fid = ?", (fid,)).fetchone()
        if row is None:
            raise EditError(f"the layer has no feature {fid}")
        return decode(row[0]), dict(zip(self.columns, row[1:], strict=True))

    def _save(self, db: sqlite3.Connection, operation: str, fid: int,
              before: tuple[BaseGeometry | None, dict] | None,
              after: tuple[BaseGeometry | None, dict] | None) -> None:
        def state(value: tuple[BaseGeometry | None, dict] | None) -> str | None:
            if value is None:
                return None
            geometry, attributes = value
            return json.dumps({"wkt": geometry.wkt if geometry is not None else None,
                               "attributes": attributes}, default=str)

        db.execute("INSERT INTO terralab_edit_history (at, operation, fid, before, after) "
                   "VALUES (?, ?, ?, ?, ?)",
                   (datetime.now(UTC).isoformat(timespec="seconds"), operation, fid,
                    state(before), state(after)))

    def _write(self, db: sqlite3.Connection, fid: int, geometry: BaseGeometry | None,
               attributes: dict | None = None) -> None:
        if geometry is not None:
            _check_valid(geometry)
        sets = {self.column: encode(geometry, self.srs_id) if geometry is not None else None}
        sets.update(attributes or {})
        assignments = ", ".join(f"{_quote(k)} = ?" for k in sets)
        db.execute(f"UPDATE {_quote(self.table)} SET {assignments} WHERE fid = ?",
                   (*sets.values(), fid))

    def _edit_ring(self, operation: str, fid: int, part: int, ring: int,
                   change: Any) -> None:
        with closing(self._connect()) as db, db:
            geometry, attributes = self._row(db, fid)
            edited = _with_ring(geometry, part, ring, change)
            self._write(db, fid, edited)
            self._save(db, operation, fid, (geometry, attributes), (edited, attributes))

    def move_vertex(self, fid: int, index: int, xy: tuple[float, float], *, part: int = 0,
                    ring: int = 0, crs: Any = None) -> None:
        """Move corner ``index`` of a ring to ``xy``."""
        point = self._to_layer(shapely.Point(xy), crs)

        def change(coords: list) -> list:
            _check_index(coords, index)
            coords[index] = (point.x, point.y)
            return coords
        self._edit_ring("move vertex", fid, part, ring, change)

    def insert_vertex(self, fid: int, index: int, xy: tuple[float, float], *, part: int = 0,
                      ring: int = 0, crs: Any = None) -> None:
        """Insert a corner at ``xy`` before corner ``index`` (``len`` appends)."""
        point = self._to_layer(shapely.Point(xy), crs)

        def change(coords: list) -> list:
            if not 0 <= index <= len(coords):
                raise EditError(f"corner {index} is outside 0…{len(coords)}")
            coords.insert(index, (point.x, point.y))
            return coords
        self._edit_ring("insert vertex", fid, part, ring, change)

    def delete_vertex(self, fid: int, index: int, *, part: int = 0, ring: int = 0) -> None:
        """Delete corner ``index`` (a ring keeps at least three corners)."""
        def change(coords: list) -> list:
            _check_index(coords, index)
            if len(coords) <= 3:
                raise EditError("a ring needs at least three corners; delete the polygon "
                                "instead")
            del coords[index]
            return coords
        self._edit_ring("delete vertex", fid, part, ring, change)

    def add_polygon(self, geometry: Any, attributes: dict[str, Any] | None = None, *,
                    crs: Any = None) -> int:
        """Add a polygon (shapely or GeoJSON) with attributes; returns its feature id."""
        polygon = shape(geometry) if isinstance(geometry, dict) else geometry
        polygon = self._to_layer(polygon, crs)
        _check_valid(polygon)
        attributes = self._checked_attributes(attributes or {})
        with closing(self._connect()) as db, db:
            names = [self.column, *attributes]
            cursor = db.execute(
                f"INSERT INTO {_quote(self.table)} ({', '.join(_quote(n) for n in names)}) "
                f"VALUES ({', '.join('?' * len(names))})",
                (encode(polygon, self.srs_id), *attributes.values()))
            fid = int(cursor.lastrowid)
            self._save(db, "add polygon", fid, None, (polygon, attributes))
        return fid

    def replace_geometry(self, fid: int, geometry: Any, *, crs: Any = None) -> None:
        """Give feature ``fid`` a new outline (shapely or GeoJSON), keeping its attributes.

        What the map saves when a polygon is dragged as a whole or changed in more than one
        corner at once.
        """
        polygon = shape(geometry) if isinstance(geometry, dict) else geometry
        polygon = self._to_layer(polygon, crs)
        with closing(self._connect()) as db, db:
            before, attributes = self._row(db, fid)
            self._write(db, fid, polygon)
            self._save(db, "replace geometry", fid, (before, attributes), (polygon, attributes))

    def delete_polygon(self, fid: int) -> None:
        """Delete feature ``fid``."""
        with closing(self._connect()) as db, db:
            before = self._row(db, fid)
            db.execute(f"DELETE FROM {_quote(self.table)} WHERE fid = ?", (fid,))
            self._save(db, "delete polygon", fid, before, None)

    def set_attributes(self, fid: int, **values: Any) -> None:
        """Change attribute values of feature ``fid`` (existing columns only)."""
        values = self._checked_attributes(values)
        with closing(self._connect()) as db, db:
            geometry, attributes = self._row(db, fid)
            assignments = ", ".join(f"{_quote(k)} = ?" for k in values)
            db.execute(f"UPDATE {_quote(self.table)} SET {assignments} WHERE fid = ?",
                       (*values.values(), fid))
            self._save(db, "set attributes", fid, (geometry, attributes),
                       (geometry, {**attributes, **values}))

    def _checked_attributes(self, values: dict[str, Any]) -> dict[str, Any]:
        unknown = [k for k in values if k not in self.columns]
        if unknown:
            raise EditError(f"the layer has no attribute {', '.join(map(repr, unknown))}; its "
                            f"attributes: {', '.join(self.columns) or 'none'}")
        return dict(values)

    def history(self) -> list[dict[str, Any]]:
        """The edits, oldest first: ``seq``, ``at``, ``operation``, ``fid``."""
        with closing(self._connect()) as db:
            rows = db.execute("SELECT seq, at, operation, fid FROM terralab_edit_history "
                              "ORDER BY seq").fetchall()
        return [{"seq": r[0], "at": r[1], "operation": r[2], "fid": r[3]} for r in rows]

    def undo(self) -> str | None:
        """Take back the last edit; returns what was undone (None when nothing is left)."""
        with closing(self._connect()) as db, db:
            row = db.execute("SELECT seq, operation, fid, before FROM terralab_edit_history "
                             "ORDER BY seq DESC LIMIT 1").fetchone()
            if row is None:
                return None
            seq, operation, fid, before = row
            if before is None:  # the edit added the feature
                db.execute(f"DELETE FROM {_quote(self.table)} WHERE fid = ?", (fid,))
            else:
                state = json.loads(before)
                geometry = shapely.from_wkt(state["wkt"]) if state["wkt"] else None
                exists = db.execute(f"SELECT 1 FROM {_quote(self.table)} WHERE fid = ?",
                                    (fid,)).fetchone()
                values = {self.column: encode(geometry, self.srs_id) if geometry else None,
                          **state["attributes"]}
                if exists:
                    assignments = ", ".join(f"{_quote(k)} = ?" for k in values)
                    db.execute(f"UPDATE {_quote(self.table)} SET {assignments} WHERE fid = ?",
                               (*values.values(), fid))
                else:
                    names = ["fid", *values]
                    db.execute(f"INSERT INTO {_quote(self.table)} "
                               f"({', '.join(_quote(n) for n in names)}) VALUES "
                               f"({', '.join('?' * len(names))})", (fid, *values.values()))
            db.execute("DELETE FROM terralab_edit_history WHERE seq = ?", (seq,))
        return f"{operation} of feature {fid}"


def _apply(transformer: Any, xy: Any) -> Any:
    import numpy as np

    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def _check_index(coords: list, index: int) -> None:
    if not 0 <= index < len(coords):
        raise EditError(f"corner {index} is outside 0…{len(coords) - 1}")


def _check_valid(geometry: BaseGeometry) -> None:
    if not isinstance(geometry, Polygon | MultiPolygon):
        raise EditError(f"a polygon layer takes polygons, not a {geometry.geom_type}")
    if not geometry.is_valid:
        reason = shapely.is_valid_reason(geometry)
        raise EditError(f"the edit would make the polygon invalid ({reason}); nothing changed")


def _with_ring(geometry: BaseGeometry | None, part: int, ring: int, change: Any) -> BaseGeometry:
    """``geometry`` with one ring's corners (without the closing point) changed."""
    if geometry is None:
        raise EditError("the feature has no geometry")
    polygons = list(geometry.geoms) if isinstance(geometry, MultiPolygon) else [geometry]
    if not isinstance(polygons[0], Polygon):
        raise EditError(f"vertex editing works on polygons, not a {geometry.geom_type}")
    if not 0 <= part < len(polygons):
        raise EditError(f"part {part} is outside 0…{len(polygons) - 1}")
    polygon = polygons[part]
    rings = [polygon.exterior, *polygon.interiors]
    if not 0 <= ring < len(rings):
        raise EditError(f"ring {ring} is outside 0…{len(rings) - 1}")
    coords = [tuple(c) for c in rings[ring].coords][:-1]
    coords = change(coords)
    new_rings = [list(r.coords) for r in rings]
    new_rings[ring] = [*coords, coords[0]]
    polygons[part] = Polygon(new_rings[0], new_rings[1:])
    return MultiPolygon(polygons) if isinstance(geometry, MultiPolygon) else polygons[0]
