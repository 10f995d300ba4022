"""``resolve_area``: whatever the user gave as a search area → one :class:`Area`."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from terralab.areas._gazetteer import has_cjk
from terralab.areas.admin import AdminLevel, admin_region, find_admin_regions
from terralab.areas.area import Area
from terralab.areas.errors import AreaError
from terralab.areas.geocoders import Geocoder
from terralab.areas.geometry import geometry_area
from terralab.areas.places import find_places, pick_place
from terralab.areas.vector_files import SUFFIXES, vector_area

__all__ = ["resolve_area"]

_CODE = re.compile(r"(?:admin:)?(?:156)?\d{6}")
_GEOMETRY_TEXT = re.compile(r"^\s*(\{|(SRID=\d+;\s*)?(POINT|LINESTRING|POLYGON|MULTI|GEOMETRY"
                            r"COLLECTION)\b|-?[\d.]+(\s*[, ]\s*-?[\d.]+){3}\s*$)", re.IGNORECASE)


def resolve_area(area: Any = None, *, place: str | None = None, admin: str | int | None = None,
                 geometry: Any = None, file: str | os.PathLike[str] | None = None,
                 geocoder: str | Geocoder | None = None, level: AdminLevel | None = None,
                 layer: str | None = None) -> Area:
    """Turn what the user gave into a search area. Give exactly one of the inputs.

    Args:
        area: anything, detected as follows: an :class:`Area` is returned as it is; a
            6-digit code (``"330500"``, ``330500``) is a region; a path (or text ending in
            .zip/.geojson/.json/.gpkg/.shp) is a vector file; a dict, shapely geometry, bbox
            of four numbers, GeoJSON or WKT text is a geometry; other text is a region when it
            matches a region's Chinese name (with or without suffix, e.g. ``"湖州"``), else a
            place name (``"Huzhou"``, ``"西湖"``).
        place: a place / POI name, Chinese, pinyin or English (``"德清"``, ``"Deqing,
            Zhejiang"``), or a candidate id from an ambiguity error.
        admin: a region of China by Chinese name or 6-digit code; a pinyin / English name
            is accepted when it names a region's seat (``"Huzhou"`` → 湖州市).
        geometry: a GeoJSON dict / Feature / FeatureCollection, a shapely geometry, a
            ``(west, south, east, north)`` bbox, GeoJSON or WKT text (EPSG:4326).
        file: a zipped shapefile, GeoJSON or GeoPackage.
        geocoder: the geocoder for place names (see :func:`terralab.areas.get_geocoder`).
        level: the level of a region name (``"province"``, ``"city"``, ``"county"``).
        layer: the layer of a GeoPackage with several.

    Returns:
        The area: its geometry in EPSG:4326, a name to show, its kind and, for regions,
        code and level.

    Raises:
        AreaError: for no input or several, and for anything that cannot be resolved
            (unknown name, empty or invalid geometry, bad file); the message says why.
        AmbiguousAreaError: for a name with several matches; ``.candidates`` lists them.
    """
    given = [(key, value) for key, value in (("area", area), ("place", place), ("admin", admin),
                                             ("geometry", geometry), ("file", file))
             if value is not None]
    if not given:
        raise AreaError("no area given: pass a place or region name, a region code, a "
                        "geometry, a bbox or a vector file")
    if len(given) > 1:
        raise AreaError(f"give one area, not {' and '.join(key for key, _ in given)}")
    key, value = given[0]
    if key == "place":
        return _place(value, geocoder)
    if key == "admin":
        return _admin(value, level, geocoder)
    if key == "geometry":
        return geometry_area(value)
    if key == "file":
        return vector_area(value, layer=layer)
    return _detect(value, geocoder=geocoder, level=level, layer=layer)


def _detect(value: Any, *, geocoder: str | Geocoder | None, level: AdminLevel | None,
            layer: str | None) -> Area:
    """Resolve the ``area`` argument by what it looks like."""
    if isinstance(value, Area):
        return value
    if isinstance(value, os.PathLike):
        return vector_area(value, layer=layer)
    if isinstance(value, int) and not isinstance(value, bool):
        return _admin(str(value), level, geocoder)
    if not isinstance(value, str):
        return geometry_area(value)
    text = value.strip()
    if not text:
        raise AreaError("the area is an empty string")
    if _CODE.fullmatch(text):
        return _admin(text, level, geocoder)
    if text.startswith("geonames:"):
        return _place(text, geocoder)
    if text.lower().endswith(SUFFIXES) and not _GEOMETRY_TEXT.match(text):
        if not Path(text).expanduser().is_file():
            raise AreaError(f"vector file not found: {text!r}")
        return vector_area(text, layer=layer)
    if _GEOMETRY_TEXT.match(text):
        return geometry_area(text)
    if has_cjk(text) and find_admin_regions(text, level=level):
        return admin_region(text, level=level).to_area()
    return _place(text, geocoder)


def _place(name: Any, geocoder: str | Geocoder | None) -> Area:
    """A place name (or candidate id) → the chosen place's area."""
    if not isinstance(name, str) or not name.strip():
        raise AreaError(f"a place must be a non-empty name, not {name!r}")
    if name.strip().startswith("admin:"):
        return admin_region(name.strip()).to_area()
    return pick_place(name.strip(), find_places(name, geocoder=geocoder)).to_area()


def _admin(name: Any, level: AdminLevel | None, geocoder: str | Geocoder | None) -> Area:
    """A region name or code → the region's area; pinyin names go through the gazetteer."""
    text = str(name).strip()
    if not text:
        raise AreaError("the administrative region name is empty")
    if has_cjk(text) or _CODE.fullmatch(text) or not re.search(r"[A-Za-z]", text):
        return admin_region(text, level=level).to_area()
    chosen = pick_place(text, find_places(text, geocoder=geocoder))
    if not chosen.code:
        raise AreaError(f"{text!r} is a place ({chosen.describe()}), not an administrative "
                        "region; region names are Chinese (e.g. '湖州市') or 6-digit codes")
    return admin_region(chosen.code, level=chosen.level).to_area()
