"""Vectors on the map: GeoDataFrames, GeoJSON and vector files as styled ``GeoJSON`` layers.

Everything is turned into a WGS84 GeoJSON FeatureCollection (ipyleaflet draws lon/lat). A
click on a feature fills the layer's popup with the feature's properties as a small table.
Default style: a blue outline with a light fill; ``**style`` keys (Leaflet path options:
``color``, ``weight``, ``fillColor``, ``fillOpacity``, ``opacity``, ``dashArray``) override it.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ipyleaflet import GeoJSON
from ipywidgets import HTML

__all__ = [
    "DEFAULT_STYLE",
    "VECTOR_SUFFIXES",
    "geojson_layer",
    "popup_html",
    "to_feature_collection",
]

DEFAULT_STYLE: dict[str, Any] = {"color": "#3388ff", "weight": 2, "opacity": 1.0,
                                 "fillColor": "#3388ff", "fillOpacity": 0.15}
HOVER_STYLE: dict[str, Any] = {"weight": 3, "fillOpacity": 0.3}
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".fgb", ".kml")
_POPUP_ROWS = 30


def _from_geodataframe(frame: Any) -> dict[str, Any]:
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs("EPSG:4326")
    return json.loads(frame.to_json(drop_id=True, default=str))  # dates as text


def to_feature_collection(obj: Any) -> dict[str, Any]:
    """Return ``obj`` as a WGS84 GeoJSON FeatureCollection.

    Args:
        obj: a GeoDataFrame or GeoSeries, a GeoJSON dict (FeatureCollection, Feature or
            geometry), a shapely geometry, or the path of a vector file GeoPandas reads.

    Raises:
        TypeError: for anything else.
    """
    if isinstance(obj, (str, Path)):
        import geopandas

        return _from_geodataframe(geopandas.read_file(obj))
    if hasattr(obj, "to_crs") and hasattr(obj, "to_json"):
        if not hasattr(obj, "columns"):  # a GeoSeries
            obj = obj.to_frame("geometry")
        return _from_geodataframe(obj)
    if hasattr(obj, "__geo_interface__") and not isinstance(obj, Mapping):
        obj = dict(obj.__geo_interface__)
    if isinstance(obj, Mapping):
        kind = obj.get("type")
        if kind == "FeatureCollection":
            return {"type": "FeatureCollection", "features": list(obj.get("features", []))}
        if kind == "Feature":
            return {"type": "FeatureCollection", "features": [dict(obj)]}
        if (isinstance(kind, str) and "coordinates" in obj) or kind == "GeometryCollection":
            return {"type": "FeatureCollection",
                    "features": [{"type": "Feature", "properties": {}, "geometry": dict(obj)}]}
    raise TypeError(f"cannot draw a {type(obj).__name__} as vectors")


def popup_html(properties: Mapping[str, Any] | None) -> str:
    """Return a feature's properties as an HTML table (escaped; at most 30 rows)."""
    rows = [(key, value) for key, value in (properties or {}).items() if key != "style"]
    if not rows:
        return "<i>no properties</i>"
    cells = "".join(f"<tr><th style='text-align:left'>{html.escape(str(key))}</th>"
                    f"<td>{html.escape(str(value))}</td></tr>"
                    for key, value in rows[:_POPUP_ROWS])
    more = f"<tr><td colspan=2>… {len(rows) - _POPUP_ROWS} more</td></tr>" \
        if len(rows) > _POPUP_ROWS else ""
    return f"<table>{cells}{more}</table>"


def geojson_layer(obj: Any, *, name: str = "Vector", popups: bool = True,
                  **style: Any) -> GeoJSON:
    """Return a styled GeoJSON layer of ``obj`` whose popup shows the clicked feature.

    Args:
        obj: anything :func:`to_feature_collection` takes.
        name: the layer's name in layer lists.
        popups: show a feature's properties when it is clicked.
        **style: Leaflet path options overriding :data:`DEFAULT_STYLE`.
    """
    layer = GeoJSON(data=to_feature_collection(obj), name=name,
                    style={**DEFAULT_STYLE, **style}, hover_style=HOVER_STYLE)
    if popups:
        popup = HTML(value="")
        layer.popup = popup

        def show(feature: Mapping[str, Any] | None = None, **_: Any) -> None:
            popup.value = popup_html((feature or {}).get("properties"))

        layer.on_click(show)
    return layer
