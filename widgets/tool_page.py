"""The no-code lab's page of one tool: ``…/voila/render/dashboards/tool.ipynb?tool=index``.

``notebooks/dashboards/tool.ipynb`` is one call, :func:`show_tool_page`, so every tool of
the registry (built in, or a plug-in's through the ``terralab.tools`` entry point) has its
page at a stable URL with no notebook of its own. The query string says what to show:

- ``tool``: the tool's registry name (a bad or missing name lists the tools instead);
- ``input`` (or ``item``): an item id to preselect as the input ("send to tool" from the
  search and my-data pages);
- ``project``: a project whose layers are offered and which records the run.

The page sits in the lab's frame (:mod:`terralab.widgets.pages.shell`: header, navigation,
messages, ``data-tl-ready``): the tool's form (:class:`~terralab.widgets.tool_form.ToolForm`,
380 px wide) beside a :class:`~terralab.widgets.Map` filling the rest, 640 px tall. Nothing
on it raises into the page: a problem is a message, its details go to the server's log.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from ipywidgets import HTML, HBox, Layout, VBox, Widget

from terralab.tools.registry import default_registry
from terralab.widgets.i18n import tool_title
from terralab.widgets.pages.shell import Shell, fit_to_catalog, page_url, run_page

__all__ = ["FORM_WIDTH", "MAP_HEIGHT", "QUERY_KEYS", "build", "page_query", "show_tool_page",
           "tool_list_html"]

FORM_WIDTH = "380px"
MAP_HEIGHT = "640px"
QUERY_KEYS = ("tool", "input", "item", "project")
"""What the page reads from its query string."""


def page_query() -> dict[str, str]:
    """The page's query string values (:data:`QUERY_KEYS`) that were given."""
    from terralab.widgets.page_request import query_value

    return {key: value for key in QUERY_KEYS if (value := query_value(key))}


def tool_list_html(lang: str | None = None) -> str:
    """Links to every tool's page, with its title in ``lang``."""
    registry = default_registry()
    rows = "".join(
        f"<li><a href='{html.escape(page_url('tool', tool=name))}'>"
        f"{html.escape(tool_title(registry[name].info, lang))}</a> <code>{name}</code></li>"
        for name in registry)
    return f"<ul class='tl-tool-list'>{rows}</ul>"


def build(shell: Shell, query: Mapping[str, str] | None = None, **options: Any) -> Widget:
    """Fill ``shell`` with the page of the tool ``query`` names; returns the content.

    Args:
        shell: the page's frame.
        query: the query string's values (default: the page's own, :func:`page_query`).
        **options: passed to :class:`~terralab.widgets.tool_form.ToolForm` (tests).
    """
    from terralab.widgets.map import Map
    from terralab.widgets.tool_form import ToolForm

    values = dict(page_query() if query is None else query)
    name = values.get("tool", "")
    if name not in default_registry():
        text = (shell.t(f"There is no tool {name!r}. The tools:",
                        f"没有名为 {name!r} 的工具。可用的工具：") if name
                else shell.t("Choose a tool:", "请选择工具："))
        content: Widget = HTML(f"<div class='tl-page-message'><p>{html.escape(text)}</p>"
                               f"{tool_list_html(shell.lang)}</div>")
        shell.content.children = [content]
        return content
    map_ = Map(layout=Layout(height=MAP_HEIGHT, width="100%"))
    fit_to_catalog(map_)  # where the imagery is; the input and the result fit it again
    form = ToolForm(name, map=map_, lang=shell.lang, **options)
    if values.get("project"):
        form.set_project(values["project"])
    wanted = values.get("input") or values.get("item")
    if wanted and not form.set_input(wanted):
        shell.notify(shell.t(f"{wanted} does not fit this tool's input.",
                             f"{wanted} 不适合作为该工具的输入。"), "error")
    left = VBox([form], layout=Layout(width=FORM_WIDTH, min_width=FORM_WIDTH,
                                      padding="0 12px 0 0", overflow="hidden"))
    right = VBox([map_], layout=Layout(flex="1 1 auto", min_height=MAP_HEIGHT))
    page = HBox([left, right], layout=Layout(width="100%", align_items="flex-start"))
    page.add_class("tl-tool-page")
    page.form, page.map = form, map_  # what tests and other pages reach for
    shell.content.children = [page]
    return page


def show_tool_page(**options: Any) -> Shell:
    """Show the page of the tool the query string names (``dashboards/tool.ipynb``).

    Never raises: a problem while building is a message in the page, its traceback goes to
    the server's log, and the page is marked ready either way.
    """
    return run_page("tool", lambda shell: build(shell, **options))
