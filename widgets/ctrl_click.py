"""Ctrl-click deletes a vertex: a small front-end hook for the map's vector editor.

The editor's vertex handles come from Leaflet-Geoman, which removes a vertex on a right click
(``contextmenu``). Users of desktop GIS expect Ctrl-click (Cmd-click on a Mac) as well, so
this invisible widget installs, once per page, a capturing click listener that turns a
Ctrl/Cmd-click on a vertex handle into the right click Geoman listens for. A right click on
a vertex handle stops at the map, so JupyterLab does not open its context menu over it. It is an
`anywidget <https://anywidget.dev>`_ (its front end ships in its wheel; nothing is fetched).
The hook only touches Geoman's vertex handles (``.marker-icon`` that are not the
``.marker-icon-middle`` insert handles), so other clicks keep their meaning.
"""

from __future__ import annotations

import anywidget

__all__ = ["CtrlClickDelete"]

_ESM = """
const FLAG = "__terralabCtrlClickDelete";
const HANDLE = ".leaflet-marker-icon.marker-icon:not(.marker-icon-middle)";

function vertexHandle(event) {
  const handle = event.target.closest ? event.target.closest(HANDLE) : null;
  return handle && handle.closest(".leaflet-container") ? handle : null;
}

// A right click on a vertex deletes it (Geoman, on the map container); it must not go on
// to open the notebook's own context menu, which listens further up.
function onContextMenu(event) {
  const handle = vertexHandle(event);
  if (!handle) return;
  const stop = (e) => e.stopPropagation();
  handle.closest(".leaflet-container").addEventListener("contextmenu", stop, { once: true });
}

function onClick(event) {
  if (!(event.ctrlKey || event.metaKey)) return;
  const handle = vertexHandle(event);
  if (!handle) return;
  event.preventDefault();
  event.stopPropagation();
  handle.dispatchEvent(new MouseEvent("contextmenu", {
    bubbles: true, cancelable: true, clientX: event.clientX, clientY: event.clientY,
    button: 2, buttons: 2,
  }));
}

function render({ el }) {
  el.style.display = "none";
  if (!window[FLAG]) {
    window[FLAG] = true;
    window.addEventListener("contextmenu", onContextMenu, true);
    window.addEventListener("click", onClick, true);
  }
}

export default { render };
"""


class CtrlClickDelete(anywidget.AnyWidget):
    """An invisible widget: while shown on a page, Ctrl/Cmd-click deletes a vertex there."""

    _esm = _ESM
