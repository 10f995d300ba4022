"""The area of interest drawn on the map: the last shape still there, as it is now.

:class:`AoiTracker` listens to a draw control (ipyleaflet ``DrawControl`` or
``GeomanDrawControl``) and keeps the list of drawn shapes in drawing order:

- ``created``: the new shape is appended (it becomes the AOI);
- ``edited``: each edited shape replaces the kept shape nearest to it (Hausdorff distance),
  so an edited AOI is its new outline;
- ``deleted``: each deleted shape removes the kept shape equal (nearest) to it; the AOI
  falls back to the previous shape, or None when none is left.

The draw control also syncs its ``data`` trait (all its shapes, in drawing order) right after
each event; when it changes, the tracker takes it as the truth, so the heuristics above only
matter between an event and the sync. Geoman's action names (``create``, ``edit``,
``dragend``, ``rotateend``, ``cut``, ``remove``) are mapped to the three above.

A drawn circle arrives as a Point whose ``style.radius`` is in metres; it is kept as the
64-corner polygon of that geodesic circle (``properties.radius_m`` says it was a circle), so
``m.aoi`` is an area that searches, clips and tools can use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from pyproj import Geod
from shapely.geometry import Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

__all__ = ["AoiTracker", "circle_polygon", "normalise_action"]

_GEOD = Geod(ellps="WGS84")

_ACTIONS = {
    "created": "created", "create": "created",
    "edited": "edited", "edit": "edited", "update": "edited", "dragend": "edited",
    "rotateend": "edited", "cut": "edited",
    "deleted": "deleted", "remove": "deleted",
}


def normalise_action(action: str) -> str | None:
    """Return ``created``, ``edited`` or ``deleted`` for a draw action; None to ignore it."""
    return _ACTIONS.get(action)


def circle_polygon(lon: float, lat: float, radius: float, *, corners: int = 64) -> Polygon:
    """A drawn circle as a polygon: ``corners`` points ``radius`` metres from the centre.

    The distances are geodesic (WGS84 ellipsoid), so the area is right at any latitude.
    """
    azimuths = np.linspace(0.0, 360.0, corners, endpoint=False)
    lons, lats, _ = _GEOD.fwd(np.full(corners, lon), np.full(corners, lat), azimuths,
                              np.full(corners, float(radius)))
    return Polygon(zip(lons, lats, strict=True))


def _as_area(feature: dict[str, Any]) -> dict[str, Any]:
    """A drawn circle (a Point with ``style.radius`` in metres) as its polygon; else as is."""
    geometry = feature.get("geometry") or {}
    style = (feature.get("properties") or {}).get("style") or {}
    radius = style.get("radius") if isinstance(style, Mapping) else None
    if geometry.get("type") != "Point" or not isinstance(radius, int | float) or radius <= 0:
        return feature
    lon, lat = geometry["coordinates"][:2]
    polygon = circle_polygon(float(lon), float(lat), float(radius))
    properties = {**(feature.get("properties") or {}), "radius_m": float(radius)}
    return {**feature, "properties": properties, "geometry": mapping(polygon)}


def _features(geo_json: Any) -> list[dict[str, Any]]:
    """The features of a draw event (one feature, a list, or a FeatureCollection)."""
    if geo_json is None:
        return []
    if isinstance(geo_json, list):
        return [_as_area(dict(f)) for f in geo_json
                if isinstance(f, Mapping) and f.get("geometry")]
    if geo_json.get("type") == "FeatureCollection":
        return _features(list(geo_json.get("features", [])))
    if geo_json.get("type") == "Feature":
        return [_as_area(dict(geo_json))] if geo_json.get("geometry") else []
    return [{"type": "Feature", "properties": {}, "geometry": dict(geo_json)}]


class AoiTracker:
    """Keeps the shapes drawn with a draw control and says which one is the AOI.

    Args:
        control: the draw control to follow (more can be added with :meth:`attach`).
    """

    def __init__(self, control: Any = None) -> None:
        self.shapes: list[dict[str, Any]] = []
        self._listeners: list[Callable[[BaseGeometry | None], None]] = []
        if control is not None:
            self.attach(control)

    def attach(self, control: Any) -> None:
        """Follow a draw control's events and its ``data`` trait."""
        control.on_draw(self.handle_draw)
        control.observe(self._on_data, names="data")

    def on_change(self, callback: Callable[[BaseGeometry | None], None]) -> None:
        """Call ``callback(aoi)`` whenever the AOI may have changed."""
        self._listeners.append(callback)

    @property
    def feature(self) -> dict[str, Any] | None:
        """The AOI as a GeoJSON Feature (WGS84), or None."""
        return self.shapes[-1] if self.shapes else None

    @property
    def geometry(self) -> BaseGeometry | None:
        """The AOI as a shapely geometry (WGS84 lon/lat), or None."""
        feature = self.feature
        return shape(feature["geometry"]) if feature else None

    def clear(self) -> None:
        """Forget every shape."""
        self.shapes = []
        self._changed()

    def handle_draw(self, control: Any = None, action: str = "", geo_json: Any = None,
                    **_: Any) -> None:
        """Apply one draw event (the signature of ipyleaflet's ``on_draw`` callbacks)."""
        kind = normalise_action(action)
        features = _features(geo_json)
        if kind is None or not features:
            return
        for feature in features:
            if kind == "created":
                self.shapes.append(feature)
            elif self.shapes:
                index = self._nearest(feature)
                if kind == "edited":
                    self.shapes[index] = feature
                else:
                    del self.shapes[index]
        self._changed()

    def _nearest(self, feature: Mapping[str, Any]) -> int:
        """The index of the kept shape nearest to ``feature`` (the last one on ties)."""
        target = shape(feature["geometry"])
        best, best_distance = len(self.shapes) - 1, float("inf")
        for index, kept in enumerate(self.shapes):
            try:
                distance = target.hausdorff_distance(shape(kept["geometry"]))
            except (ValueError, TypeError, KeyError):
                continue
            if distance <= best_distance:
                best, best_distance = index, distance
        return best

    def _on_data(self, change: Mapping[str, Any]) -> None:
        self.shapes = _features(list(change.get("new") or []))
        self._changed()

    def _changed(self) -> None:
        aoi = self.geometry
        for callback in self._listeners:
            callback(aoi)
