"""Geometries drawn on a map or given in code → a checked shapely geometry in EPSG:4326.

Accepted: a GeoJSON dict (geometry, Feature, FeatureCollection; an old-style ``"crs"``
member is honoured), GeoJSON text, WKT text, a shapely geometry, anything with
``__geo_interface__`` (ipyleaflet draw output), a GeoSeries / GeoDataFrame (reprojected from
its CRS), a ``(west, south, east, north)`` bbox as numbers or ``"w,s,e,n"`` text, or a list
of several of these (their union).

Checks: not empty, finite, within longitude −180…180 and latitude −90…90 (projected
coordinates are refused with a hint), and valid (self-intersections are repaired with
``shapely.make_valid``; a polygon that repairs to nothing is refused).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from numbers import Real
from typing import Any

import shapely
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

from terralab.areas.area import Area
from terralab.areas.crs import check_crs, reproject, to_wgs84
from terralab.areas.errors import AreaError

__all__ = ["geometry_area", "parse_bbox", "parse_geometry", "validate_lonlat"]

_WKT = re.compile(r"^\s*(SRID=\d+;\s*)?(POINT|LINESTRING|POLYGON|MULTIPOINT|MULTILINESTRING|"
                  r"MULTIPOLYGON|GEOMETRYCOLLECTION)\b", re.IGNORECASE)
_NUMBERS = re.compile(r"^\s*-?[\d.]+(\s*[, ]\s*-?[\d.]+){3}\s*$")
_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
          "GeometryCollection"}


def parse_bbox(values: Sequence[Any], *, what: str = "the bbox") -> BaseGeometry:
    """Return the polygon of a ``(west, south, east, north)`` bbox in degrees.

    Raises:
        AreaError: for anything but four finite numbers with west < east, south < north,
            within −180…180 and −90…90.
    """
    try:
        west, south, east, north = (float(v) for v in values)
    except (TypeError, ValueError):
        raise AreaError(f"{what} must be four numbers (west, south, east, north), "
                        f"not {values!r}") from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise AreaError(f"{what} has a coordinate that is not a finite number: {values!r}")
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90
            and -90 <= north <= 90):
        raise AreaError(f"{what} {values!r} is outside longitude −180…180 / latitude −90…90; "
                        "give degrees in the order west, south, east, north")
    if west >= east or south >= north:
        raise AreaError(f"{what} {values!r} is empty or inverted: it needs west < east and "
                        "south < north (order: west, south, east, north)")
    return box(west, south, east, north)


def _from_geojson(data: Mapping[str, Any], what: str) -> BaseGeometry:
    """Turn a GeoJSON geometry / Feature / FeatureCollection into one shapely geometry."""
    kind = data.get("type")
    if kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise AreaError(f"{what} is a FeatureCollection without a 'features' list")
        parts = [_from_geojson(f, what) for f in features
                 if isinstance(f, Mapping) and f.get("geometry") is not None]
        if not parts:
            raise AreaError(f"{what} is empty: its FeatureCollection has no geometries")
        geometry = shapely.union_all(parts) if len(parts) > 1 else parts[0]
    elif kind == "Feature":
        if not isinstance(data.get("geometry"), Mapping):
            raise AreaError(f"{what} is empty: its Feature has no geometry")
        geometry = _from_geojson(data["geometry"], what)
    elif kind in _TYPES:
        try:
            geometry = shape(data)
        except (ValueError, TypeError, IndexError, KeyError, AttributeError,
                shapely.errors.ShapelyError) as error:
            raise AreaError(f"{what} is not a valid GeoJSON {kind}: {error}") from None
    else:
        raise AreaError(f"{what} is not GeoJSON: its 'type' is {kind!r}; expected a geometry, "
                        "a Feature or a FeatureCollection")
    crs = data.get("crs")
    if isinstance(crs, Mapping) and not geometry.is_empty:
        name = (crs.get("properties") or {}).get("name")
        checked = check_crs(name, what=what)
        if not checked.is_wgs84_lonlat:
            geometry = reproject(geometry, to_wgs84(checked))
    return geometry


def validate_lonlat(geometry: BaseGeometry, *, what: str = "the area") -> BaseGeometry:
    """Check a geometry in degrees and repair it when invalid.

    Args:
        geometry: the geometry (EPSG:4326 longitude, latitude).
        what: how to call it in messages.

    Returns:
        The geometry, repaired by ``shapely.make_valid`` when it was invalid (polygons stay
        polygons: parts of lower dimension that the repair leaves are dropped).

    Raises:
        AreaError: for an empty geometry, non-finite or out-of-range coordinates, or a
            polygon with no area left after the repair.
    """
    if geometry is None or geometry.is_empty:
        raise AreaError(f"{what} is empty (no coordinates)")
    west, south, east, north = geometry.bounds
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise AreaError(f"{what} has coordinates that are not finite numbers")
    if west < -180 or east > 180 or south < -90 or north > 90:
        raise AreaError(f"{what} has coordinates outside longitude −180…180 / latitude −90…90 "
                        f"(bounds {west:.6g}, {south:.6g}, {east:.6g}, {north:.6g}): are they "
                        "projected? Give longitude/latitude (EPSG:4326), or a file that "
                        "declares its CRS")
    if not geometry.is_valid:
        polygonal = geometry.geom_type in ("Polygon", "MultiPolygon")
        geometry = shapely.make_valid(geometry)
        if polygonal and geometry.geom_type not in ("Polygon", "MultiPolygon"):
            parts = [g for g in getattr(geometry, "geoms", [geometry])
                     if g.geom_type in ("Polygon", "MultiPolygon")]
            geometry = shapely.union_all(parts) if parts else shapely.Polygon()
        if geometry.is_empty:
            raise AreaError(f"{what} is an invalid polygon with no area")
    return geometry


def parse_geometry(value: Any, *, what: str = "the geometry") -> BaseGeometry:
    """Return a checked geometry in EPSG:4326 from any of the accepted forms.

    Args:
        value: see the module docs.
        what: how to call it in messages.

    Returns:
        A non-empty, valid shapely geometry in longitude, latitude.

    Raises:
        AreaError: for anything that is not one of the forms, or fails the checks.
    """
    return validate_lonlat(_parse(value, what), what=what)


def _parse(value: Any, what: str) -> BaseGeometry:
    """Turn one accepted form into a shapely geometry (not yet checked)."""
    if isinstance(value, BaseGeometry):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise AreaError(f"{what} is empty")
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except ValueError as error:
                raise AreaError(f"{what} is not valid GeoJSON (JSON error: {error})") from None
            return _parse(data, what)
        if _WKT.match(text):
            try:
                return shapely.from_wkt(re.sub(r"^\s*SRID=\d+;", "", text))
            except shapely.errors.ShapelyError as error:
                raise AreaError(f"{what} is not valid WKT: {error}") from None
        if _NUMBERS.match(text):
            return parse_bbox(re.split(r"\s*[, ]\s*", text.strip()), what=what)
        raise AreaError(f"{what} {text[:60]!r} is neither GeoJSON, WKT nor a bbox")
    if hasattr(value, "to_crs") and hasattr(value, "crs"):
        return _from_frame(value, what)
    if isinstance(value, Mapping):
        return _from_geojson(value, what)
    if hasattr(value, "__geo_interface__"):
        return _from_geojson(value.__geo_interface__, what)
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        if len(value) == 4 and all(isinstance(v, Real) for v in value):
            return parse_bbox(value, what=what)
        if value and all(isinstance(v, Mapping | BaseGeometry) or hasattr(v, "__geo_interface__")
                         for v in value):
            return shapely.union_all([_parse(v, what) for v in value])
        if not value:
            raise AreaError(f"{what} is empty")
    raise AreaError(f"{what} must be a GeoJSON dict, a shapely geometry, WKT or a (west, "
                    f"south, east, north) bbox, not {type(value).__name__}")


def _from_frame(frame: Any, what: str) -> BaseGeometry:
    """A GeoSeries / GeoDataFrame: check its CRS, reproject, union."""
    if frame.crs is not None:
        checked = check_crs(frame.crs, what=what)
        if not checked.is_wgs84_lonlat:
            frame = frame.to_crs("EPSG:4326")
    geometries = [g for g in getattr(frame, "geometry", frame) if g is not None and not g.is_empty]
    if not geometries:
        raise AreaError(f"{what} is empty: it has no geometries")
    return shapely.union_all(geometries)


def geometry_area(value: Any, *, name: str | None = None) -> Area:
    """Return a drawn or given geometry as a search :class:`~terralab.areas.Area`.

    Args:
        value: any accepted form (see the module docs).
        name: what to call it; by default the bbox, the Feature's ``name`` property or
            ``"drawn area"``.

    Returns:
        The area, kind ``"geometry"``.
    """
    geometry = parse_geometry(value)
    if name is None:
        properties = value.get("properties") if isinstance(value, Mapping) else None
        if isinstance(properties, Mapping) and properties.get("name"):
            name = str(properties["name"])
        elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 4 \
                and all(isinstance(v, Real) for v in value):
            name = "bbox " + ", ".join(f"{float(v):g}" for v in value)
        else:
            name = "drawn area"
    return Area(geometry=geometry, name=name, kind="geometry")
