"""工具 Tools: the gallery of every tool the user may run, each card a link to its page.

The cards come from the service's ``GET tools`` (the hub's registry, plug-ins included), so
a tool added through the registry or an entry point is listed with no change here; a deep
tool without its model is shown as such, never as a page whose Run fails.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import ipywidgets as widgets

from terralab.widgets.pages.shell import Shell, page_url, run_page

__all__ = ["build", "gallery", "list_tool_dicts", "show"]


@cache
def list_tool_dicts() -> list[dict[str, Any]]:
    """The tools of ``GET tools`` (through the hub service in a hub, else in-process).

    Asked once per page (its kernel): the gallery and the job tables share the answer.
    """
    from terralab.service.local import transport

    return list(transport().request("tools.list")["tools"])


def gallery(shell: Shell, *, project: str | None = None) -> widgets.Widget:
    """The tool cards, linking to each tool's page (in ``project`` when given)."""
    from terralab.widgets.tool_gallery import tool_cards

    return tool_cards(list_tool_dicts(), lang=shell.lang,
                      link=lambda name: page_url("tool", tool=name, project=project))


def build(shell: Shell) -> None:
    """Fill the tools page (``?project=ID``: runs are recorded in that project)."""
    from terralab.widgets.page_request import query_value

    shell.content.children = [
        widgets.HTML(f'<h2>{shell.t("Tools", "工具")}</h2>'),
        gallery(shell, project=query_value("project")),
    ]


def show() -> Shell:
    """Show the tools page (the one call of ``dashboards/tools.ipynb``)."""
    return run_page("tools", build)
