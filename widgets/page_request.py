"""What the browser asked for when a page was opened: its query string, path and language.

Voilà hands each page's kernel the request it renders, CGI-style, as environment variables:
``QUERY_STRING`` (``tool.ipynb?tool=index&input=…``), ``SCRIPT_NAME`` (the page's path) and
the headers it is told to pass (terralab's hub passes ``Accept-Language`` as
``HTTP_ACCEPT_LANGUAGE``). This module is the one place the pages read them; they are the
page's request, not terralab's settings (those come from :mod:`terralab.settings`).
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs

__all__ = ["accept_language", "query_value", "script_name"]


def query_value(name: str, default: str | None = None) -> str | None:
    """The first value of ``name`` in the page's query string, or ``default``."""
    values = parse_qs(os.environ.get("QUERY_STRING", "")).get(name)
    return values[0] if values and values[0] else default


def script_name() -> str:
    """The path of the page being rendered (``/user/alice/voila/render/dashboards/…``)."""
    return os.environ.get("SCRIPT_NAME", "")


def accept_language() -> str | None:
    """The browser's ``Accept-Language`` header, when the server passes it on."""
    return os.environ.get("HTTP_ACCEPT_LANGUAGE")
