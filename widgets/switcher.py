"""The basemap switcher: a dropdown in a map corner that calls ``Map.add_basemap``.

A Tianditu basemap without a key stays listed (marked "needs key"); choosing it shows the
reason under the dropdown and keeps the previous basemap.
"""

from __future__ import annotations

from typing import Any

from ipyleaflet import WidgetControl
from ipywidgets import HTML, Dropdown, Layout, VBox

from terralab.widgets.basemaps import BASEMAPS, BasemapError, tianditu_token

__all__ = ["BasemapSwitcher"]


class BasemapSwitcher(WidgetControl):
    """A ``WidgetControl`` holding the basemap dropdown of a :class:`~terralab.widgets.Map`.

    Args:
        target: the map whose basemap it switches.
        position: the map corner (``topright`` by default).
    """

    def __init__(self, target: Any, position: str = "topright") -> None:
        have_key = bool(tianditu_token(getattr(target, "tianditu_token", None)))
        options = [(entry.title + ("" if have_key or not entry.needs_token
                                   else " (needs key)"), entry.name)
                   for entry in BASEMAPS.values()]
        self.dropdown = Dropdown(options=options, value=target.basemap_name,
                                 description="Basemap", layout=Layout(width="260px"),
                                 style={"description_width": "60px"})
        self.message = HTML(value="")
        self._target = target
        self.dropdown.observe(self._choose, names="value")
        super().__init__(widget=VBox([self.dropdown, self.message]), position=position)

    def _choose(self, change: dict[str, Any]) -> None:
        try:
            self._target.add_basemap(change["new"])
        except BasemapError as error:
            self.message.value = f"<small style='color:#b00'>{error}</small>"
            self.dropdown.unobserve(self._choose, names="value")
            self.dropdown.value = change["old"]
            self.dropdown.observe(self._choose, names="value")
        else:
            self.message.value = ""

    def sync(self, name: str) -> None:
        """Show ``name`` as chosen (after the map's basemap changed in code)."""
        if self.dropdown.value != name:
            self.dropdown.unobserve(self._choose, names="value")
            self.dropdown.value = name
            self.dropdown.observe(self._choose, names="value")
