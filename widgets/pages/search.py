"""数据 Search: the map with the catalog search panel beside it (not over it).

The panel searches by administrative region, drawn area, uploaded vector file or place name,
dates, collections and cloud cover; an ambiguous place name is offered as a choice. Each
result can be added to the map, kept as a favourite, downloaded (a link through the user's
own server, metered like every download) or sent to a tool: "send to tool" opens the page of
the tool chosen above the results with the item as its input.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from terralab.widgets.pages.shell import Shell, fit_to_catalog, page_url, run_page

__all__ = ["SearchPage", "build", "show"]


_SENDABLE = ("raster", "raster_pair", "rasters")
"""The first inputs of the tools an image can be sent to (one image, a pair, a stack)."""


def _raster_tools(lang: str) -> list[tuple[str, str]]:
    """(title, name) of the tools whose first input is an image, for "send to tool".

    A pair's or a stack's tool page offers the other scenes of the sent item's place for
    its other inputs (:func:`terralab.widgets.input_pickers.catalog_neighbours`).
    """
    from terralab.widgets.i18n import tool_title
    from terralab.widgets.pages.tools import list_tool_dicts

    tools = [(tool_title(tool, lang), tool["name"]) for tool in list_tool_dicts()
             if tool["inputs"][:1] and tool["inputs"][0] in _SENDABLE]
    return sorted(tools, key=lambda pair: (pair[1] != "index", pair[0]))


def _download_link(item: Any) -> str | None:
    """The download link of a found item's main asset (through the user's server)."""
    from terralab.widgets.upload_picker import download_url

    data = item.to_dict(transform_hrefs=False) if hasattr(item, "to_dict") else dict(item)
    assets = data.get("assets") or {}
    for key in ("visual", "data", *assets):
        if key in assets:
            return download_url(data["id"], catalog=True, asset=key,
                                collection=data.get("collection"))
    return None


class SearchPage:
    """The search page: map, panel, and the tool that "send to tool" opens."""

    def __init__(self, shell: Shell, *, project: str | None = None) -> None:
        from terralab.widgets import Map
        from terralab.widgets.search_panel import SearchPanel, search_layout

        self.shell = shell
        t = shell.t
        self.project = project
        self.map = Map(layout=widgets.Layout(height="640px"))
        fit_to_catalog(self.map)
        self.panel = SearchPanel(self.map, lang=shell.lang)
        self.tool = widgets.Dropdown(options=_raster_tools(shell.lang), value="index",
                                     description=t("Send to", "发送到"),
                                     layout=widgets.Layout(width="340px"))
        self.tool.add_class("tl-send-tool")
        self.panel.on_send_to_tool(shell.guard(self.send_to_tool))
        self.panel.on_download_link(_download_link)
        self.layout = search_layout(self.map, self.panel, height="640px")
        self.widget = widgets.VBox([self.tool, self.layout]).add_class("tl-gap-6")

    def send_to_tool(self, item_id: str) -> None:
        """Open the chosen tool's page with ``item_id`` as its input."""
        self.shell.signal.go(page_url("tool", tool=self.tool.value, input=item_id,
                                      project=self.project))


def build(shell: Shell) -> None:
    """Fill the search page (``?project=ID``: tools opened from here record their runs there)."""
    from terralab.widgets.page_request import query_value

    page = SearchPage(shell, project=query_value("project"))
    shell.content.children = [widgets.HTML(f'<h2>{shell.t("Search imagery", "检索影像")}</h2>'),
                              page.widget]
    shell.search = page  # type: ignore[attr-defined]


def show() -> Shell:
    """Show the search page (the one call of ``dashboards/search.ipynb``)."""
    return run_page("search", build)
