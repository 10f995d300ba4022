"""The layer manager: one row per data layer (visibility, opacity, order, remove, zoom).

Basemap layers (``base=True``) are not listed; the rows follow ``m.layers`` (top layer
first) and are rebuilt whenever the map's layer list changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from ipyleaflet import GeoJSON, Layer, WidgetControl
from ipywidgets import HTML, Button, Checkbox, FloatSlider, HBox, Layout, VBox, link

__all__ = ["LayerManager", "LayerRow", "data_layers", "find_control", "layer_bounds", "layer_label"]

_BUTTON = Layout(width="30px", padding="0")


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


class LayerRow(NamedTuple):
    """The widgets of one layer's row."""

    box: HBox
    visible: Checkbox
    opacity: FloatSlider
    up: Button
    down: Button
    remove: Button
    zoom: Button


class LayerManager(WidgetControl):
    """A ``WidgetControl`` listing a map's data layers, top layer first.

    Each row has a visibility checkbox (named after the layer), an opacity slider, ↑ / ↓
    (draw above / below the neighbouring data layer), ✕ (remove) and ⌖ (zoom to the layer,
    when its bounds are known).

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
        for text, tip, action in (("↑", "draw above", lambda: self.move(layer, 1)),
                                  ("↓", "draw below", lambda: self.move(layer, -1)),
                                  ("✕", "remove", lambda: self.remove(layer)),
                                  ("⌖", "zoom to layer", lambda: self.zoom_to(layer))):
            button = Button(description=text, tooltip=tip, layout=_BUTTON)
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
        """Fit the map to the layer's bounds; False when they are unknown."""
        bounds = layer_bounds(layer)
        if bounds is None:
            return False
        self._target.fit_bounds(bounds)
        return True
