"""What a page of the no-code lab tells the browser: "usable now", "go there", "reload".

:class:`PageSignal` is an invisible `anywidget <https://anywidget.dev>`_ (its front end ships
in its wheel; nothing is fetched) placed once on each page:

- ``ready = True`` sets ``data-tl-ready="1"`` (and ``data-tl-page``) on the page's ``<body>``
  once the page can be used: browser tests and ``benchmarks/dashboards.py`` wait for it;
- :meth:`PageSignal.go` sends the browser to another URL (a tool page from "send to tool");
- :meth:`PageSignal.reload` renders the page again (after the language is switched).
"""

from __future__ import annotations

import anywidget
import traitlets

__all__ = ["PageSignal"]

_ESM = """
function mark(model) {
  if (model.get("ready")) {
    document.body.dataset.tlReady = "1";
    document.body.dataset.tlPage = model.get("page");
  }
}

function render({ model, el }) {
  el.style.display = "none";
  mark(model);
  model.on("change:ready", () => mark(model));
  model.on("msg:custom", (message) => {
    if (message.go) window.location.assign(message.go);
    if (message.reload) window.location.reload();
  });
}

export default { render };
"""


class PageSignal(anywidget.AnyWidget):
    """An invisible widget through which a page tells the browser it is ready, or to move.

    Attributes:
        page: the page's name (``home``, ``search`` …), written as ``data-tl-page``.
        ready: True once the page is usable (sets ``data-tl-ready="1"``).
    """

    _esm = _ESM
    page = traitlets.Unicode("").tag(sync=True)
    ready = traitlets.Bool(False).tag(sync=True)

    def go(self, url: str) -> None:
        """Send the browser to ``url`` (relative URLs are relative to the page)."""
        self.send({"go": url})

    def reload(self) -> None:
        """Render the page again."""
        self.send({"reload": True})
