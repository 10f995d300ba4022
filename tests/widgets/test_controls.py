"""Swipe, layer manager and legend controls, driven by setting widget values (no browser)."""

from __future__ import annotations

import pytest
from ipyleaflet import GeoJSON, SplitMapControl, TileLayer

from terralab.widgets import LayerManager, Legend, Map, Swipe
from terralab.widgets.layer_manager import data_layers, layer_bounds
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


def test_layer_manager_order_remove_and_zoom(m: Map, monkeypatch: pytest.MonkeyPatch) -> None:
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
    fitted: list = []
    monkeypatch.setattr(m, "fit_bounds", fitted.append)
    manager.rows[a].zoom.click()
    assert fitted == [[[30.0, 120.0], [31.0, 121.0]]]
    assert manager.rows[b].zoom.disabled and not manager.zoom_to(b)
    vector = data_layers(m)[1]
    manager.rows[vector].zoom.click()
    assert fitted[-1] == [[30.0, 120.0], [31.0, 121.0]]
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
