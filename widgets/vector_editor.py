"""Editing a polygon layer of my data on the map; every change is saved at once.

In a notebook::

    m = tl.Map()
    editor = m.edit("fields-1a2b")     # a vector item of my data (or its record)
    # drag a vertex; click a middle handle to insert one; right-click or Ctrl-click
    # (Cmd-click) a vertex to delete it; draw a polygon or rectangle to add one; the
    # eraser deletes a polygon; drag mode moves a whole polygon.
    editor.undo()                      # takes back the last saved edit
    editor.stop()                      # leave edit mode

The vertex handles are Leaflet-Geoman's (ipyleaflet's ``GeomanDrawControl``); each edit it
reports is turned into one call of :class:`~terralab.mydata.vector_edit.VectorLayer`
(:mod:`terralab.widgets.vertex_diff` names the vertex), so the GeoPackage on disk and its
edit history change before the next mouse action. An edit the layer refuses (a polygon that
would cross itself, a ring left with two corners) changes nothing on disk: the panel says
why and the map is redrawn from the file.

Choices worth knowing:

- Coordinates come from the map in WGS84 rounded to 1e-6° (about 0.1 m); only the vertex
  that moved is written, so the other vertices keep the file's precision. Dragging a whole
  polygon rewrites its outline at that precision.
- While edit mode is on, Geoman puts handles on every vector layer of the map; only the
  edited layer is saved. Keep one layer under edit per map.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable, Mapping
from typing import Any

from ipyleaflet import GeomanDrawControl, WidgetControl
from ipywidgets import HTML, Button, HBox, Layout, VBox

from terralab.widgets.ctrl_click import CtrlClickDelete
from terralab.widgets.layer_manager import PlainTextRepr
from terralab.widgets.vertex_diff import polygon_edit, same_outline

__all__ = ["EDIT_STYLE", "VectorEditor", "open_layer"]

EDIT_STYLE: dict[str, Any] = {"color": "#d62728", "weight": 2, "fillColor": "#d62728",
                              "fillOpacity": 0.15}
_WGS84 = "EPSG:4326"
_OUTLINE_ACTIONS = ("vertexadded", "vertexremoved", "vertexdrag", "drag", "rotateend",
                    "cut", "edit", "update")
_HELP = ("<div style='line-height:1.35'><b>Editing {title}</b><br><small>drag a vertex · "
         "click a middle handle to insert · right-click or Ctrl-click a vertex to delete · "
         "draw to add a polygon · the eraser deletes one · every edit is saved at once"
         "</small></div>")


def open_layer(layer: Any) -> Any:
    """A :class:`~terralab.mydata.vector_edit.VectorLayer` from an item id, record or layer."""
    from terralab.mydata.vector_edit import VectorLayer

    if isinstance(layer, VectorLayer):
        return layer
    from terralab.client.mydata import edit

    item_id = getattr(layer, "id", layer)
    return edit(str(item_id))


def _later(callback: Callable[[], None]) -> None:
    """Run ``callback`` after the kernel has answered the current widget message.

    Redrawing the control from Python while the front end's own update is being handled
    would be undone by that update's echo; in a kernel the call waits one turn of the
    kernel's event loop. Outside a kernel (scripts, tests) there is no echo: it runs now.
    """
    if not _in_kernel():
        callback()
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        callback()
        return
    loop.call_soon(callback)


def _in_kernel() -> bool:
    """Whether this code runs in an IPython kernel (whose event loop serves the widgets)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _fid(feature: Mapping[str, Any]) -> int | None:
    value = (feature.get("properties") or {}).get("fid")
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _features(geo_json: Any) -> list[Mapping[str, Any]]:
    items = geo_json if isinstance(geo_json, list) else [geo_json]
    return [f for f in items if isinstance(f, Mapping) and f.get("geometry")]


class VectorEditor(PlainTextRepr, WidgetControl):
    """The edit mode of one vector layer on a map: Geoman handles and a small panel.

    Args:
        target: the map.
        layer: a vector item id of my data, its record, or an open
            :class:`~terralab.mydata.vector_edit.VectorLayer`.
        position: the panel's corner.
        style: Leaflet path options of the edited polygons.

    Attributes:
        layer: the open layer (``layer.path`` is the GeoPackage written to).
        draw: the ``GeomanDrawControl`` holding the editable polygons.
        shown: feature id → the GeoJSON geometry the map shows (WGS84).
    """

    def __init__(self, target: Any, layer: Any, *, position: str = "topright",
                 style: Mapping[str, Any] | None = None) -> None:
        self.map = target
        self.layer = open_layer(layer)
        self.style = {**EDIT_STYLE, **(style or {})}
        self.shown: dict[int, dict[str, Any]] = {}
        self.message = HTML("")
        self.undo_button = Button(description="Undo", icon="undo", layout=Layout(width="90px"))
        self.done_button = Button(description="Done", icon="check", layout=Layout(width="90px"))
        self.undo_button.on_click(lambda _: self.undo())
        self.done_button.on_click(lambda _: self.stop())
        title = html.escape(str(getattr(layer, "title", None) or self.layer.item_id))
        panel = VBox([HTML(_HELP.format(title=title)), self.message,
                      HBox([self.undo_button, self.done_button]), CtrlClickDelete()],
                     layout=Layout(width="260px"))
        super().__init__(widget=panel, position=position)
        path_options = {"pathOptions": dict(self.style)}
        self.draw = GeomanDrawControl(
            polygon=path_options, rectangle=path_options, polyline={}, circlemarker={},
            circle={}, marker={}, text={}, edit=True, drag=True, remove=True, cut=False,
            rotate=False, current_mode="edit")
        self.reload()
        self.draw.on_draw(self.handle_draw)
        self.draw.observe(self._on_data, names="data")

    # ------------------------------------------------------------- the map's view
    def _frame(self) -> Any:
        """The layer as a GeoDataFrame in WGS84 (what the map draws), indexed by fid."""
        frame = self.layer.features()
        if frame.crs is not None and not frame.crs.equals(_WGS84):
            frame = frame.to_crs(_WGS84)
        return frame

    def features(self) -> list[dict[str, Any]]:
        """The layer's polygons as WGS84 GeoJSON features tagged with their ``fid``."""
        frame = self._frame()
        return [{"type": "Feature", "geometry": _plain(geometry.__geo_interface__),
                 "properties": {"fid": int(fid), "style": dict(self.style)}}
                for fid, geometry in zip(frame.index, frame.geometry, strict=True)
                if geometry is not None and not geometry.is_empty]

    def reload(self) -> None:
        """Redraw the editable polygons from the file on disk."""
        features = self.features()
        self.shown = {f["properties"]["fid"]: f["geometry"] for f in features}
        self.draw.data = features

    def bounds(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """((south, west), (north, east)) of the layer, or None when it is empty."""
        frame = self._frame()
        if frame.empty:
            return None
        west, south, east, north = frame.total_bounds
        return (float(south), float(west)), (float(north), float(east))

    # ------------------------------------------------------------- edits
    def handle_draw(self, control: Any = None, action: str = "", geo_json: Any = None,
                    **_: Any) -> None:
        """Save one Geoman event (the signature of ipyleaflet's ``on_draw`` callbacks)."""
        features = _features(geo_json)
        try:
            if action == "create":
                saved = [self._add(feature) for feature in features]
            elif action == "remove":
                saved = [self._remove(feature) for feature in features]
            elif action in _OUTLINE_ACTIONS:
                saved = [self._outline(feature) for feature in features]
            else:
                return
        except ValueError as error:  # EditError is a ValueError: nothing was changed
            self._say(f"not saved: {error}", error=True)  # the data sync redraws the file
            return
        done = [text for text in saved if text]
        if done:
            self._say("saved: " + "; ".join(done))

    def _add(self, feature: Mapping[str, Any]) -> str:
        fid = self.layer.add_polygon(dict(feature["geometry"]), crs=_WGS84)
        self.shown[fid] = _plain(feature["geometry"])  # the data sync then tags it with fid
        return f"polygon {fid} added"

    def _remove(self, feature: Mapping[str, Any]) -> str:
        fid = _fid(feature)
        if fid is None or fid not in self.shown:
            return ""
        self.layer.delete_polygon(fid)
        del self.shown[fid]
        return f"polygon {fid} deleted"

    def _outline(self, feature: Mapping[str, Any]) -> str:
        fid = _fid(feature)
        if fid is None or fid not in self.shown:
            return ""
        new = _plain(feature["geometry"])
        edit = polygon_edit(self.shown[fid], new)
        if edit is None:
            if same_outline(self.shown[fid], new):
                return ""
            self.layer.replace_geometry(fid, new, crs=_WGS84)
            text = f"polygon {fid} reshaped"
        elif edit.kind == "move":
            self.layer.move_vertex(fid, edit.index, edit.xy, part=edit.part, ring=edit.ring,
                                   crs=_WGS84)
            text = f"vertex {edit.index} of polygon {fid} moved"
        elif edit.kind == "insert":
            self.layer.insert_vertex(fid, edit.index, edit.xy, part=edit.part, ring=edit.ring,
                                     crs=_WGS84)
            text = f"vertex inserted in polygon {fid}"
        else:
            self.layer.delete_vertex(fid, edit.index, part=edit.part, ring=edit.ring)
            text = f"vertex {edit.index} of polygon {fid} deleted"
        self.shown[fid] = new
        return text

    def _on_data(self, change: Mapping[str, Any]) -> None:
        """The map's shapes after an edit: redraw from the file unless they are what it holds.

        The front end syncs ``data`` right after every event it sends. A polygon just drawn
        has no fid yet, a refused edit left a shape that was not saved: both are replaced by
        the file's state once this message is answered. This is the one place that redraws
        after an edit.
        """
        shapes = _features(list(change.get("new") or []))
        fids = [_fid(f) for f in shapes]
        if sorted(fid for fid in fids if fid is not None) != sorted(self.shown) or any(
                fid is None or not same_outline(self.shown[fid], _plain(f["geometry"]))
                for fid, f in zip(fids, shapes, strict=True)):
            _later(self.reload)

    def undo(self) -> str | None:
        """Take back the last saved edit of the layer and redraw; returns what was undone."""
        undone = self.layer.undo()
        self._say(f"undone: {undone}" if undone else "nothing to undo")
        self.reload()
        return undone

    def stop(self) -> None:
        """Leave edit mode: the handles and the panel go, the file stays as saved."""
        for control in (self.draw, self):
            if control in self.map.controls:
                self.map.remove(control)

    def _say(self, text: str, *, error: bool = False) -> None:
        colour = "#b00" if error else "#2a7"
        self.message.value = f"<small style='color:{colour}'>{html.escape(text)}</small>"


def _plain(geometry: Mapping[str, Any]) -> dict[str, Any]:
    """A GeoJSON geometry as plain lists (what the map sends back)."""
    def lists(value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [lists(v) for v in value]
        return float(value)
    return {"type": geometry["type"], "coordinates": lists(geometry["coordinates"])}
