"""The layer manager: one row per data layer (visibility, opacity, order, remove, zoom).

Basemap layers (``base=True``) are not listed; the rows follow ``m.layers`` (top layer
first) and are rebuilt whenever the map's layer list changes.

Zooming to a layer (:func:`fit_map`) sets the map's centre *and* zoom at once, computed here
from the bounds and the map's size in pixels (as the browser last reported it, else its
layout, else 800 × 400): ipyleaflet's own ``fit_bounds`` walks the zoom one level per round
trip with the browser and stops early, so a small layer stayed a dot.

The row buttons draw their symbols with Font Awesome classes (``arrow-up``, ``crosshairs`` …),
which JupyterLab's and Voilà's widget managers bundle and serve themselves, so they show with
no network (a symbol character such as ⌖ is missing from many fonts and showed as a box).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from ipyleaflet import GeoJSON, Layer, WidgetControl
from ipywidgets import HTML, Button, Checkbox, FloatSlider, HBox, Layout, VBox, link

__all__ = ["DEFAULT_VIEW_SIZE", "LayerManager", "LayerRow", "PlainTextRepr", "data_layers",
           "find_control", "fit_map", "layer_bounds", "layer_label", "map_view_size",
           "view_for_bounds"]

_BUTTON = Layout(width="30px", padding="0")
DEFAULT_VIEW_SIZE = (800, 400)
"""The map size (width, height in pixels) assumed before the browser has drawn the map."""
_TILE = 256
_MAX_LATITUDE = 85.05112878
LatLonBounds = Sequence[Sequence[float]]  # [[south, west], [north, east]]


def data_layers(target: Any) -> list[Layer]:
    """The map's layers that are not basemaps, bottom first."""
    return [layer for layer in target.layers if not getattr(layer, "base", False)]


def layer_label(layer: Layer) -> str:
    """The name shown for a layer (its ``name``, else its class)."""
    return getattr(layer, "name", "") or type(layer).__name__


def find_control(target: Any, kind: type) -> Any:
    """The first control of class ``kind`` on the map, or None."""
    return next((control for control in target.controls if isinstance(control, kind)), None)


def _positions(coords: Any) -> Iterator[tuple[float, float]]:
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        yield float(coords[0]), float(coords[1])
    elif isinstance(coords, (list, tuple)):
        for part in coords:
            yield from _positions(part)


def _geojson_positions(data: Any) -> Iterator[tuple[float, float]]:
    if not isinstance(data, dict):
        return
    if data.get("type") == "FeatureCollection":
        for feature in data.get("features") or []:
            yield from _geojson_positions(feature)
    elif data.get("type") == "Feature":
        yield from _geojson_positions(data.get("geometry"))
    elif data.get("type") == "GeometryCollection":
        for geometry in data.get("geometries") or []:
            yield from _geojson_positions(geometry)
    else:
        yield from _positions(data.get("coordinates"))


def layer_bounds(layer: Layer) -> list[list[float]] | None:
    """The ``[[south, west], [north, east]]`` bounds of a layer, or None when unknown.

    Tile layers carry ``bounds`` when terralab knew them; GeoJSON layers are measured.
    """
    bounds = getattr(layer, "bounds", None)
    if bounds:
        return [list(map(float, bounds[0])), list(map(float, bounds[1]))]
    if isinstance(layer, GeoJSON):
        points = list(_geojson_positions(layer.data))
        if points:
            xs, ys = [x for x, _ in points], [y for _, y in points]
            return [[min(ys), min(xs)], [max(ys), max(xs)]]
    return None


def _mercator(lat: float, lon: float) -> tuple[float, float]:
    """A point in Web Mercator's unit square (x to the east, y down), as Leaflet projects it."""
    lat = max(-_MAX_LATITUDE, min(_MAX_LATITUDE, lat))
    sin = math.sin(math.radians(lat))
    return (lon + 180.0) / 360.0, 0.5 - math.log((1 + sin) / (1 - sin)) / (4 * math.pi)


def _unmercator(x: float, y: float) -> tuple[float, float]:
    """The (lat, lon) of a point of the unit square."""
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y)))), x * 360.0 - 180.0


def view_for_bounds(bounds: LatLonBounds, size: tuple[float, float] = DEFAULT_VIEW_SIZE, *,
                    max_zoom: int = 18, min_zoom: int = 1,
                    padding: float = 0.05) -> tuple[tuple[float, float], int]:
    """The centre and the zoom that show ``bounds`` whole in a view of ``size`` pixels.

    Args:
        bounds: ``[[south, west], [north, east]]`` in degrees.
        size: the view's (width, height) in pixels.
        max_zoom: the closest zoom (a point or a tiny area gets this one).
        min_zoom: the farthest zoom.
        padding: the share of the view kept free on each side.

    Returns:
        ``((lat, lon), zoom)``: the centre (the middle in Web Mercator) and the largest
        whole zoom at which the bounds fit.
    """
    (south, west), (north, east) = bounds
    x0, y1 = _mercator(float(south), float(west))
    x1, y0 = _mercator(float(north), float(east))
    width, height = (max(float(v), 1.0) * (1 - 2 * padding) for v in size)
    span_x, span_y = max(x1 - x0, 1e-12), max(y1 - y0, 1e-12)
    zoom = math.floor(math.log2(min(width / (span_x * _TILE), height / (span_y * _TILE))))
    zoom = int(max(min_zoom, min(max_zoom, zoom)))
    return _unmercator((x0 + x1) / 2, (y0 + y1) / 2), zoom


def _pixels(value: Any) -> float | None:
    text = str(value or "").strip()
    if text.endswith("px"):
        try:
            return float(text[:-2])
        except ValueError:
            return None
    return None


def map_view_size(target: Any) -> tuple[float, float]:
    """A map's (width, height) in pixels.

    As its browser view last reported them, else its layout's pixel sizes, else
    :data:`DEFAULT_VIEW_SIZE`.
    """
    left, top = getattr(target, "left", 0.0), getattr(target, "top", 0.0)
    right, bottom = getattr(target, "right", 0.0), getattr(target, "bottom", 0.0)
    if 0 < right - left < 1e5 and 0 < bottom - top < 1e5:
        return right - left, bottom - top
    layout = getattr(target, "layout", None)
    width = _pixels(getattr(layout, "width", None)) or DEFAULT_VIEW_SIZE[0]
    height = _pixels(getattr(layout, "height", None)) or DEFAULT_VIEW_SIZE[1]
    return width, height


def fit_map(target: Any, bounds: LatLonBounds, *, max_zoom: int | None = None) -> None:
    """Centre and zoom the map ``target`` on ``bounds`` (``[[south, west], [north, east]]``).

    Both are set in one message to the browser, which draws the new view at once.
    """
    limit = max_zoom if max_zoom is not None else getattr(target, "max_zoom", None) or 18
    center, zoom = view_for_bounds(bounds, map_view_size(target), max_zoom=int(min(limit, 22)))
    with target.hold_sync():
        target.center = list(center)
        target.zoom = zoom


class PlainTextRepr:
    """A map control that shows as a line of text when it is a cell's value.

    A control is drawn by its map. Shown on its own (``m.swipe(a, b)`` or
    ``m.add_layer_manager()`` as a cell's last line) the page would try to draw a control
    outside any map, which JupyterLab and Voilà answer with "Javascript Error: Cannot set
    properties of undefined (setting 'parent')"; these controls answer text instead.
    """

    def _repr_mimebundle_(self, **_kwargs: Any) -> dict[str, str]:
        return {"text/plain": self.describe()}

    def describe(self) -> str:
        """One line saying what the control is (its text form in a notebook)."""
        return f"{type(self).__name__} on the map ({getattr(self, 'position', '')})"


class LayerRow(NamedTuple):
    """The widgets of one layer's row."""

    box: HBox
    visible: Checkbox
    opacity: FloatSlider
    up: Button
    down: Button
    remove: Button
    zoom: Button


class LayerManager(PlainTextRepr, WidgetControl):
    """A ``WidgetControl`` listing a map's data layers, top layer first.

    Each row has a visibility checkbox (named after the layer), an opacity slider, up / down
    arrows (draw above / below the neighbouring data layer), a cross (remove) and crosshairs
    (zoom to the layer, when its bounds are known).

    Args:
        target: the map to manage.
        position: the map corner (``topright`` by default).
    """

    def __init__(self, target: Any, position: str = "topright") -> None:
        self._target = target
        self._links: list[Any] = []
        self.rows: dict[Layer, LayerRow] = {}
        self.box = VBox(layout=Layout(max_height="320px", overflow="auto"))
        super().__init__(widget=self.box, position=position)
        target.observe(self._on_layers, names="layers")
        self.refresh()

    def _on_layers(self, _change: dict[str, Any]) -> None:
        self.refresh()

    def describe(self) -> str:
        """``Layer manager: 2 data layers (a, b)``."""
        names = ", ".join(layer_label(layer) for layer in self.rows)
        return f"Layer manager: {len(self.rows)} data layers" + (f" ({names})" if names else "")

    def detach(self) -> None:
        """Stop following the map (call before removing the control for good)."""
        self._target.unobserve(self._on_layers, names="layers")
        self._unlink()

    def _unlink(self) -> None:
        for item in self._links:
            item.unlink()
        self._links = []

    def refresh(self) -> None:
        """Rebuild the rows from the map's current layers."""
        self._unlink()
        layers = list(reversed(data_layers(self._target)))
        self.rows = {layer: self._row(layer) for layer in layers}
        empty = HTML("<small>no data layers</small>")
        self.box.children = tuple(row.box for row in self.rows.values()) or (empty,)

    def _row(self, layer: Layer) -> LayerRow:
        visible = Checkbox(value=bool(getattr(layer, "visible", True)),
                           description=layer_label(layer), indent=False,
                           layout=Layout(width="150px"))
        if layer.has_trait("visible"):
            self._links.append(link((visible, "value"), (layer, "visible")))
        opacity = FloatSlider(value=self.opacity_of(layer), min=0.0, max=1.0, step=0.05,
                              readout=False, layout=Layout(width="90px"))
        opacity.observe(lambda change: self.set_opacity(layer, change["new"]), names="value")
        buttons = []
        for icon, tip, action in (("arrow-up", "draw above", lambda: self.move(layer, 1)),
                                  ("arrow-down", "draw below", lambda: self.move(layer, -1)),
                                  ("times", "remove", lambda: self.remove(layer)),
                                  ("crosshairs", "zoom to layer", lambda: self.zoom_to(layer))):
            button = Button(description="", icon=icon, tooltip=tip, layout=_BUTTON)
            button.on_click(lambda _button, act=action: act())
            buttons.append(button)
        buttons[3].disabled = layer_bounds(layer) is None
        return LayerRow(HBox([visible, opacity, *buttons]), visible, opacity, *buttons)

    @staticmethod
    def opacity_of(layer: Layer) -> float:
        """The layer's opacity (the ``opacity`` trait, else its style's ``opacity``)."""
        if layer.has_trait("opacity"):
            return float(layer.opacity)
        style = getattr(layer, "style", None) or {}
        return float(style.get("opacity", 1.0))

    @staticmethod
    def set_opacity(layer: Layer, value: float) -> None:
        """Set a layer's opacity; a vector layer's fill follows in proportion."""
        if layer.has_trait("opacity"):
            layer.opacity = value
            return
        if isinstance(layer, GeoJSON):
            style = dict(layer.style or {})
            old = float(style.get("opacity", 1.0)) or 1.0
            fill = float(style.get("fillOpacity", 0.2))
            style["opacity"] = value
            style["fillOpacity"] = round(min(1.0, fill / old * value), 4) if old else value
            layer.style = style

    def move(self, layer: Layer, step: int) -> None:
        """Swap ``layer`` with the data layer above (``step=1``) or below (``-1``) it."""
        layers = list(self._target.layers)
        data = [index for index, item in enumerate(layers) if not getattr(item, "base", False)]
        if layer not in layers:
            return
        here = data.index(layers.index(layer))
        there = here + step
        if not 0 <= there < len(data):
            return
        first, second = data[here], data[there]
        layers[first], layers[second] = layers[second], layers[first]
        self._target.layers = tuple(layers)

    def remove(self, layer: Layer) -> None:
        """Take ``layer`` off the map."""
        if layer in self._target.layers:
            self._target.remove(layer)

    def zoom_to(self, layer: Layer) -> bool:
        """Centre and zoom the map on the layer's bounds; False when they are unknown."""
        bounds = layer_bounds(layer)
        if bounds is None:
            return False
        fit_map(self._target, bounds)
        return True
