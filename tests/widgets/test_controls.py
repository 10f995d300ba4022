"""Swipe, layer manager and legend controls, driven by setting widget values (no browser)."""

from __future__ import annotations

from typing import Any

import pytest
from ipyleaflet import GeoJSON, SplitMapControl, TileLayer

from terralab.widgets import LayerManager, Legend, Map, Swipe
from terralab.widgets.layer_manager import (
    data_layers,
    layer_bounds,
    map_view_size,
    view_for_bounds,
)
from terralab.widgets.legend import class_legend_html, colorbar_html, colormap_stops

SQUARE = {"type": "Polygon", "coordinates": [[[120, 30], [121, 30], [121, 31], [120, 31],
                                              [120, 30]]]}


def _tiles(name: str, bounds: list | None = None) -> TileLayer:
    layer = TileLayer(url=f"/tiles/{name}/{{z}}/{{x}}/{{y}}.png", name=name)
    if bounds:
        layer.bounds = bounds
    return layer


@pytest.fixture
def m() -> Map:
    """A map with three data layers: a (bottom), b, and the vector c (top)."""
    target = Map()
    target.add(_tiles("a", [[30, 120], [31, 121]]))
    target.add(_tiles("b"))
    target.add(SQUARE, name="c", color="red")
    return target


def _names(m: Map) -> list[str]:
    return [layer.name for layer in data_layers(m)]


def _split(m: Map) -> list[SplitMapControl]:
    return [control for control in m.controls if isinstance(control, SplitMapControl)]


# ------------------------------------------------------------------- swipe
def test_swipe_on_and_off_restores_layers(m: Map) -> None:
    before = tuple(m.layers)
    a, b = data_layers(m)[:2]
    control = m.swipe("a", b)
    assert isinstance(control, Swipe) and control in m.controls and control.active
    (split,) = _split(m)
    assert split.left_layer is a and split.right_layer is b
    assert a not in m.layers and b not in m.layers and _names(m) == ["c"]
    assert control.toggle.value and control.left.value is a and control.right.value is b
    m.unswipe()
    assert tuple(m.layers) == before and not _split(m) and not control.toggle.value
    m.swipe("b", "c")
    m.swipe(None)
    assert tuple(m.layers) == before and not _split(m)


def test_swipe_replaces_a_running_swipe_and_keeps_new_layers(m: Map) -> None:
    before = tuple(m.layers)
    m.swipe("a", "b")
    m.swipe("b", "c")
    assert len(_split(m)) == 1 and _names(m) == ["a"]
    extra = _tiles("d")
    m.add(extra)
    m.add_basemap("osm")
    m.unswipe()
    assert _names(m) == ["a", "b", "c", "d"] and extra in m.layers
    assert m.layers[0].base and m.layers[0].name == "OpenStreetMap"
    assert [layer for layer in m.layers if not layer.base] == [*before[2:], extra]


def test_swipe_errors(m: Map) -> None:
    with pytest.raises(ValueError, match="no data layer named"):
        m.swipe("a", "nope")
    with pytest.raises(ValueError, match="different"):
        m.swipe("a", "a")
    with pytest.raises(ValueError, match="two layers"):
        m.swipe("a")
    with pytest.raises(ValueError, match="not a data layer"):
        m.swipe(m.layers[0], "a")  # a basemap layer
    assert m.swipe(None) is None  # nothing to switch off, no chooser added
    assert not _split(m) and not [c for c in m.controls if isinstance(c, Swipe)]


def test_swipe_chooser_follows_layers_and_toggles(m: Map) -> None:
    chooser = Swipe(m)
    m.add(chooser)
    assert [label for label, _ in chooser.left.options] == ["c", "b", "a"]
    assert chooser.left.value.name == "c" and chooser.right.value.name == "b"
    d = _tiles("d")
    m.add(d)
    assert next(label for label, _ in chooser.right.options) == "d"
    assert chooser.left.value.name == "c"  # the choice is kept
    chooser.right.value = d
    chooser.toggle.value = True
    (split,) = _split(m)
    assert split.left_layer.name == "c" and split.right_layer is d
    assert [label for label, _ in chooser.left.options] == ["b", "a", "c", "d"]
    chooser.toggle.value = False
    assert not _split(m) and _names(m) == ["a", "b", "c", "d"]
    m.remove(d)
    assert d not in [value for _, value in chooser.right.options]
    assert chooser.right.value is not None


def test_swipe_toggle_with_one_layer_shows_why() -> None:
    m = Map()
    m.add(_tiles("only"))
    chooser = Swipe(m)
    chooser.toggle.value = True
    assert not chooser.toggle.value and not _split(m)
    assert "different" in chooser.message.value


# ------------------------------------------------------------------- layer manager
def test_layer_manager_lists_data_layers_and_follows_the_map(m: Map) -> None:
    manager = m.add_layer_manager()
    assert manager in m.controls and m.add_layer_manager() is manager
    assert [layer.name for layer in manager.rows] == ["c", "b", "a"]  # top first
    d = _tiles("d")
    m.add(d)
    assert next(iter(manager.rows)) is d
    m.remove(d)
    assert d not in manager.rows
    m.add_basemap("osm")
    assert len(manager.rows) == 3


def test_layer_manager_visibility_and_opacity(m: Map) -> None:
    manager = LayerManager(m)
    a = data_layers(m)[0]
    row = manager.rows[a]
    row.visible.value = False
    assert a.visible is False
    a.visible = True
    assert row.visible.value is True
    row.opacity.value = 0.4
    assert a.opacity == pytest.approx(0.4)
    vector = data_layers(m)[2]
    assert isinstance(vector, GeoJSON)
    fill = vector.style.get("fillOpacity", 0.2)
    manager.rows[vector].opacity.value = 0.5
    assert vector.style["opacity"] == 0.5
    assert vector.style["fillOpacity"] == pytest.approx(fill * 0.5)


def test_layer_manager_order_remove_and_zoom(m: Map) -> None:
    manager = LayerManager(m)
    base = [layer for layer in m.layers if layer.base]
    a = data_layers(m)[0]
    manager.rows[a].up.click()
    assert _names(m) == ["b", "a", "c"]
    manager.rows[a].up.click()
    manager.rows[a].up.click()  # already on top: nothing happens
    assert _names(m) == ["b", "c", "a"]
    b = data_layers(m)[0]
    manager.rows[b].down.click()  # never below the basemap
    assert list(m.layers[:len(base)]) == base and _names(m) == ["b", "c", "a"]
    m.center, m.zoom = [0.0, 0.0], 3
    manager.rows[a].zoom.click()  # centre and zoom both change, at once
    expected_center, expected_zoom = view_for_bounds([[30, 120], [31, 121]], map_view_size(m))
    assert m.zoom == expected_zoom == 8 and m.center == pytest.approx(list(expected_center))
    assert 30 < m.center[0] < 31 and m.center[1] == pytest.approx(120.5)
    assert manager.rows[b].zoom.disabled and not manager.zoom_to(b)
    vector = data_layers(m)[1]
    m.zoom = 3
    manager.rows[vector].zoom.click()
    assert m.zoom == 8
    manager.rows[b].remove.click()
    assert b not in m.layers and _names(m) == ["c", "a"]
    assert [layer.name for layer in manager.rows] == ["a", "c"]


def test_layer_bounds_of_a_feature_collection() -> None:
    layer = GeoJSON(data={"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": SQUARE},
        {"type": "Feature", "properties": {},
         "geometry": {"type": "Point", "coordinates": [119.5, 32]}}]})
    assert layer_bounds(layer) == [[30.0, 119.5], [32.0, 121.0]]
    assert layer_bounds(GeoJSON(data={})) is None


def test_layer_manager_empty_map() -> None:
    m = Map()
    manager = LayerManager(m)
    assert manager.rows == {} and "no data layers" in manager.box.children[0].value
    manager.detach()
    m.add(_tiles("late"))
    assert manager.rows == {}


# ------------------------------------------------------------------- legend
def test_class_legend(m: Map) -> None:
    legend = m.add_legend({1: ("Water", "#4575b4"), 2: ("Forest", "green")}, title="Land <cover>")
    assert isinstance(legend, Legend) and legend in m.controls
    assert legend.position == "bottomright"
    text = legend.html.value
    assert "Water" in text and "#4575b4" in text and "Forest" in text
    assert "Land &lt;cover&gt;" in text
    listed = class_legend_html([(10, "Crop", "#ffff00")], show_values=True)
    assert "10 · Crop" in listed
    with pytest.raises(ValueError, match="value, name, colour"):
        class_legend_html([(1, "x")])


def test_colorbar(m: Map) -> None:
    legend = m.add_legend(colormap="viridis", rescale="-1,1", title="NDVI", position="topleft")
    text = legend.html.value
    assert "linear-gradient" in text and "NDVI" in text and legend.position == "topleft"
    assert ">-1<" in text and ">0<" in text and ">1<" in text
    stops = colormap_stops("viridis", 5)
    assert len(stops) == 5 and stops[0].lower() == "#440154"
    reverse = colormap_stops("viridis_r", 5)
    assert (reverse[0], reverse[-1]) == (stops[-1], stops[0])
    assert "2.5" in colorbar_html("greys", 0, 5, ticks=3)
    with pytest.raises(ValueError, match="unknown colormap"):
        colormap_stops("no-such-map")
    with pytest.raises(ValueError, match="either"):
        Legend()
    with pytest.raises(ValueError, match="either"):
        Legend({1: ("a", "red")}, colormap="viridis")


def test_layer_manager_buttons_draw_icons_not_symbol_characters(m: Map) -> None:
    """⌖ is missing from many fonts (a box offline); the buttons use Font Awesome icons."""
    row = LayerManager(m).rows[data_layers(m)[0]]
    assert [(b.icon, b.description) for b in (row.up, row.down, row.remove, row.zoom)] == [
        ("arrow-up", ""), ("arrow-down", ""), ("times", ""), ("crosshairs", "")]


# ------------------------------------------------------------------- controls as values
def test_controls_returned_to_a_cell_show_as_text_not_as_widgets(m: Map) -> None:
    """A control displayed outside its map made Voilà show "Cannot set properties of
    undefined (setting 'parent')" under ``m.swipe(a, b)``: they answer text instead."""
    swipe = m.swipe("a", "b")
    shown = swipe._repr_mimebundle_()
    assert shown == {"text/plain": "Swipe: 'a' | 'b'"}
    manager = m.add_layer_manager()
    assert manager._repr_mimebundle_() == {"text/plain": "Layer manager: 1 data layers (c)"}
    legend = m.add_legend({1: ("Water", "#4575b4")}, title="Water")
    assert list(legend._repr_mimebundle_()) == ["text/plain"]
    m.unswipe()
    assert swipe._repr_mimebundle_() == {"text/plain": "Swipe: off"}
    inspector = m.add_inspector()
    assert inspector._repr_mimebundle_() == {"text/plain": "Inspector on the map (bottomright)"}
    from terralab.widgets import TimeSlider, VectorEditor
    from terralab.widgets.layer_manager import PlainTextRepr

    assert issubclass(TimeSlider, PlainTextRepr) and issubclass(VectorEditor, PlainTextRepr)
    plain = TileLayer(url="/x/{z}/{x}/{y}.png")  # an ordinary widget still shows as one
    assert "application/vnd.jupyter.widget-view+json" in plain._repr_mimebundle_()


# ------------------------------------------------------------------- swipe and other layers
def _recorder(m: Map, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[str, ...]]]:
    """What the browser hears, in order: each state message of the map's controls and layers."""
    heard: list[tuple[str, tuple[str, ...]]] = []
    send = m.send_state

    def record(key: Any = None) -> None:
        for name in ([key] if isinstance(key, str) else list(key or ())):
            if name in ("controls", "layers"):
                heard.append((name, tuple(type(item).__name__ if name == "controls"
                                          else getattr(item, "name", "")
                                          for item in getattr(m, name))))
        send(key)

    monkeypatch.setattr(m, "send_state", record)
    return heard


def test_swiped_layers_survive_a_change_of_the_other_layers(
        m: Map, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = data_layers(m)[:2]
    control = m.swipe("a", "b")
    (old,) = _split(m)
    heard = _recorder(m, monkeypatch)
    footprints = m.add({"type": "Point", "coordinates": [120.5, 30.5]}, name="footprints")
    (new,) = _split(m)
    assert new is not old and (new.left_layer, new.right_layer) == (a, b)
    assert control.active and control.layers == (a, b)
    assert a not in m.layers and b not in m.layers and footprints in m.layers
    # the divider leaves before the layers change (so it can let go of its layers in the
    # browser) and a new one comes after
    kinds = [name for name, _ in heard]
    assert kinds == ["controls", "layers", "controls"], heard
    assert "SplitMapControl" not in heard[0][1] and "SplitMapControl" in heard[2][1]
    m.add_basemap("osm")
    assert control.active and len(_split(m)) == 1
    m.unswipe()
    assert _names(m) == ["a", "b", "c", "footprints"] and not _split(m)


def test_a_swiped_layer_put_back_on_the_map_ends_the_swipe(m: Map) -> None:
    a, b = data_layers(m)[:2]
    control = m.swipe(a, b)
    m.add(a)
    assert not control.active and not _split(m) and not control.toggle.value
    assert a in m.layers and b not in m.layers


# ------------------------------------------------------------------- the view
def test_view_for_bounds_fills_the_view() -> None:
    ten_km = [[30.55, 119.87], [30.64, 119.97]]         # about 10 km by 10 km
    center, zoom = view_for_bounds(ten_km, (800, 400))
    assert zoom == 12 and center[0] == pytest.approx(30.595, abs=1e-3)
    assert view_for_bounds(ten_km, (1600, 800))[1] == 13  # twice the pixels: one zoom more
    assert view_for_bounds([[30, 120], [30, 120]], (800, 400), max_zoom=17)[1] == 17  # a point
    assert view_for_bounds([[-80, -179], [80, 179]], (800, 400))[1] == 1


def test_map_view_size_follows_the_browser_then_the_layout() -> None:
    m = Map()
    assert map_view_size(m) == (800, 400)
    m.layout.height = "600px"
    assert map_view_size(m) == (800, 600)
    for name, value in (("left", 1000.0), ("right", 1900.0), ("top", 50.0), ("bottom", 550.0)):
        m.set_trait(name, value)
    assert map_view_size(m) == (900, 500)
