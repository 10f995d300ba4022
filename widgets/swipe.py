"""Swipe: compare two data layers with a draggable divider (ipyleaflet's SplitMapControl).

While a swipe is on, its two layers are drawn by the ``SplitMapControl`` (left and right of
the divider) and are taken out of ``m.layers``; switching it off puts them back where they
were. The chooser is a ``WidgetControl`` with two dropdowns of the map's data layers and an
on/off toggle; its lists follow the map's layers.

The swiped layers survive changes of the map's other layers (a search drawing its
footprints, a new result, another basemap). In the browser the ``SplitMapControl`` draws its
layers as extra layer views of the map, which the map drops whenever ``m.layers`` changes;
so, just before such a change (:meth:`terralab.widgets.Map.before_layers_change`), the
control is taken off the map (while its layers are still drawn, so it can let go of them)
and, just after, a new one is put on for the same two layers.

Returned as a cell's value, the chooser shows as text (``Swipe: 'a' | 'b'``), not as a
widget: a map control drawn outside its map is what made Voilà show "Javascript Error:
Cannot set properties of undefined (setting 'parent')" under ``m.swipe(a, b)``.
"""

from __future__ import annotations

from typing import Any

from ipyleaflet import Layer, SplitMapControl, WidgetControl
from ipywidgets import HTML, Dropdown, Layout, ToggleButton, VBox

from terralab.widgets.layer_manager import PlainTextRepr, data_layers, find_control, layer_label

__all__ = ["Swipe", "swipe_control"]

_CHOICE = Layout(width="220px")


class Swipe(PlainTextRepr, WidgetControl):
    """The swipe chooser of a map, and the swipe itself.

    Args:
        target: the map.
        position: the map corner (``topright`` by default).

    Attributes:
        split: the ``SplitMapControl`` while a swipe is on, else None.
    """

    def __init__(self, target: Any, position: str = "topright") -> None:
        self._target = target
        self._busy = False
        self._saved: tuple[Layer, ...] = ()
        self.split: SplitMapControl | None = None
        self.left = Dropdown(description="Left", layout=_CHOICE,
                             style={"description_width": "40px"})
        self.right = Dropdown(description="Right", layout=_CHOICE,
                              style={"description_width": "40px"})
        self.toggle = ToggleButton(value=False, description="Swipe", icon="columns",
                                   tooltip="compare the two layers with a divider")
        self.message = HTML("")
        super().__init__(widget=VBox([self.left, self.right, self.toggle, self.message]),
                         position=position)
        self.toggle.observe(self._on_toggle, names="value")
        target.observe(self._on_layers, names="layers")
        self._hooked = hasattr(target, "before_layers_change")
        if self._hooked:
            target.before_layers_change(self._before_layers)
        self.refresh()

    # ------------------------------------------------------------- state
    @property
    def active(self) -> bool:
        """Whether a swipe is on."""
        return self.split is not None

    @property
    def layers(self) -> tuple[Layer, Layer] | None:
        """The (left, right) layers while a swipe is on."""
        if self.split is None:
            return None
        return self.split.left_layer, self.split.right_layer

    def describe(self) -> str:
        """``Swipe: 'left' | 'right'`` while on, else ``Swipe: off``."""
        if self.split is None:
            return "Swipe: off"
        left, right = self.split.left_layer, self.split.right_layer
        return f"Swipe: {layer_label(left)!r} | {layer_label(right)!r}"

    def choices(self) -> list[Layer]:
        """The layers that can be compared: the map's data layers and the swiped ones."""
        layers = data_layers(self._target)
        swiped = [layer for layer in self.layers or () if layer not in layers]
        return list(reversed(layers)) + swiped

    def resolve(self, layer: Layer | str) -> Layer:
        """A layer given as itself or by name.

        Raises:
            ValueError: for a name no data layer has, or a layer not on the map.
        """
        choices = self.choices()
        if isinstance(layer, Layer):
            if layer not in choices:
                raise ValueError(f"layer {layer_label(layer)!r} is not a data layer of the map")
            return layer
        named = [item for item in choices if getattr(item, "name", None) == layer]
        if not named:
            names = ", ".join(repr(layer_label(item)) for item in choices) or "none"
            raise ValueError(f"no data layer named {layer!r} (layers: {names})")
        return named[-1]

    # ------------------------------------------------------------- on / off
    def start(self, left: Layer | str, right: Layer | str) -> SplitMapControl:
        """Compare ``left`` and ``right`` (layers or names); a running swipe is replaced.

        Raises:
            ValueError: for unknown layers, or the same layer twice.
        """
        left_layer, right_layer = self.resolve(left), self.resolve(right)
        if left_layer is right_layer:
            raise ValueError("choose two different layers to swipe")
        self.stop()
        target = self._target
        self._saved = tuple(target.layers)
        self._busy = True
        try:
            target.layers = tuple(layer for layer in target.layers
                                  if layer is not left_layer and layer is not right_layer)
            self.split = SplitMapControl(left_layer=left_layer, right_layer=right_layer)
            target.add(self.split)
            self._show(left_layer, right_layer, on=True)
        finally:
            self._busy = False
        self.message.value = ""
        return self.split

    def stop(self) -> None:
        """Switch the swipe off and put its layers back where they were."""
        if self.split is None:
            return
        target, split = self._target, self.split
        swiped = (split.left_layer, split.right_layer)
        self._busy = True
        try:
            if split in target.controls:
                target.remove(split)
            self.split = None
            target.layers = self._restored(tuple(target.layers), swiped)
            self._show(*swiped, on=False)
        finally:
            self._busy = False
        self._saved = ()

    def _restored(self, current: tuple[Layer, ...], swiped: tuple[Layer, ...]) -> tuple:
        """The layers after a swipe: the saved order, with what changed meanwhile kept."""
        keep = set(map(id, current)) | set(map(id, swiped))
        ordered = [layer for layer in self._saved if id(layer) in keep]
        saved = set(map(id, self._saved))
        new = [layer for layer in current if id(layer) not in saved]
        bases = [layer for layer in new if getattr(layer, "base", False)]
        if bases:  # the basemap changed during the swipe: the new one goes to the bottom
            ordered = [layer for layer in ordered if not getattr(layer, "base", False)]
        return tuple(bases + ordered + [layer for layer in new if layer not in bases])

    def detach(self) -> None:
        """Switch off and stop following the map (before dropping the chooser for good)."""
        self.stop()
        self._target.unobserve(self._on_layers, names="layers")
        if self._hooked:
            self._target.before_layers_change(self._before_layers, remove=True)

    # ------------------------------------------------------------- other layer changes
    def _before_layers(self, _layers: tuple[Layer, ...]) -> None:
        """Take the divider off the map before a change of the other layers."""
        if self._busy or self.split is None or self.split not in self._target.controls:
            return
        self._busy = True
        try:
            self._target.remove(self.split)
        finally:
            self._busy = False

    def _renew(self) -> None:
        """After a change of the other layers: a new divider for the same two layers.

        A swiped layer that came back into ``m.layers`` ends the swipe (the map keeps the
        layers as they now are).
        """
        target, split = self._target, self.split
        if split is None:
            return
        left, right = split.left_layer, split.right_layer
        self._busy = True
        try:
            if split in target.controls:
                target.remove(split)
            if left in target.layers or right in target.layers:
                self.split, self._saved = None, ()
                self.toggle.value = False
                return
            self.split = SplitMapControl(left_layer=left, right_layer=right)
            target.add(self.split)
        finally:
            self._busy = False

    # ------------------------------------------------------------- widgets
    def refresh(self) -> None:
        """Refill the dropdowns from the map's layers, keeping the choices still there."""
        options = [(layer_label(layer), layer) for layer in self.choices()]
        busy, self._busy = self._busy, True
        try:
            for number, dropdown in enumerate((self.left, self.right)):
                old = dropdown.value
                dropdown.options = options
                values = [value for _, value in options]
                if old in values:
                    dropdown.value = old
                elif values:
                    dropdown.value = values[min(number, len(values) - 1)]
        finally:
            self._busy = busy

    def _show(self, left: Layer, right: Layer, *, on: bool) -> None:
        self.refresh()
        self.left.value, self.right.value = left, right
        self.toggle.value = on

    def _on_layers(self, _change: dict[str, Any]) -> None:
        if not self._busy:
            self._renew()
            self.refresh()

    def _on_toggle(self, change: dict[str, Any]) -> None:
        if self._busy:
            return
        if not change["new"]:
            self.stop()
            return
        try:
            if self.left.value is None or self.right.value is None:
                raise ValueError("add two data layers to swipe")
            self.start(self.left.value, self.right.value)
        except ValueError as error:
            self.message.value = f"<small style='color:#b00'>{error}</small>"
            self._busy = True
            self.toggle.value = False
            self._busy = False


def swipe_control(target: Any, *, create: bool = True) -> Swipe | None:
    """The map's swipe chooser, added to it when it has none (unless ``create=False``)."""
    control = find_control(target, Swipe)
    if control is None and create:
        control = Swipe(target)
        target.add(control)
    return control
