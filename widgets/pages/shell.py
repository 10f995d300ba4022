"""The frame every page of the no-code lab shares: header, navigation, messages, readiness.

A page notebook holds one call (``terralab.widgets.pages.home.show()``); that call builds a
:class:`Shell` for its page and fills ``shell.content``. The shell gives every page:

- the header (:mod:`terralab.widgets.pages.header`): the product name, the navigation
  首页 Home · 数据 Search · 我的数据 My data · 工具 Tools · 任务 Jobs · 项目 Projects, the user,
  the three quota bars and the 中文 / English switch;
- a message line (:meth:`Shell.notify`), and :meth:`Shell.guard` for every button's
  callback: an error becomes a message in the page, its traceback goes to the server's log,
  never to the page;
- the ``data-tl-ready`` marker (:class:`~terralab.widgets.page_signal.PageSignal`) set once
  the page is usable.

Pages link to each other by URL (:func:`page_url`), relative to the user's own Jupyter server,
so they work in a hub (``/user/<name>/voila/render/dashboards/…``) and without one.
"""

from __future__ import annotations

import html
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlencode

import ipywidgets as widgets
from IPython.display import display

from terralab.widgets.i18n import language, pick
from terralab.widgets.page_signal import PageSignal

__all__ = ["PAGES", "PageLink", "Shell", "base_url", "fit_to_catalog", "message_of", "page_url",
           "run_page", "server_log"]

log = logging.getLogger("terralab.pages")  # the server's log: see server_log()


@dataclass(frozen=True)
class PageLink:
    """One page of the no-code lab.

    Attributes:
        key: the page's name (``"home"``).
        english: its label in English.
        chinese: its label in Chinese.
        notebook: its notebook in ``dashboards/``.
    """

    key: str
    english: str
    chinese: str
    notebook: str


PAGES = (
    PageLink("home", "Home", "首页", "home.ipynb"),
    PageLink("search", "Search", "数据", "search.ipynb"),
    PageLink("mydata", "My data", "我的数据", "mydata.ipynb"),
    PageLink("tools", "Tools", "工具", "tools.ipynb"),
    PageLink("jobs", "Jobs", "任务", "jobs.ipynb"),
    PageLink("projects", "Projects", "项目", "projects.ipynb"),
)
"""The navigation, in its order. The page of one tool (``tool.ipynb?tool=…``) is under Tools."""

_NOTEBOOKS = {page.key: page.notebook for page in PAGES} | {"tool": "tool.ipynb"}


def base_url() -> str:
    """The base URL of this user's Jupyter server (``/user/alice/`` in a hub, else ``/``).

    Voilà tells the page's kernel the path it was asked for (``SCRIPT_NAME``); a hub tells
    the server its prefix (the settings' ``hub.service_prefix``).
    """
    from terralab.settings import settings
    from terralab.widgets.page_request import script_name

    script = script_name()
    if "/voila/render/" in script:
        return script.split("voila/render/", 1)[0]
    prefix = settings().hub.service_prefix or "/"
    return prefix if prefix.endswith("/") else prefix + "/"


def page_url(key: str, **query: Any) -> str:
    """The URL of a page (``page_url("tool", tool="index")``), for links and navigation."""
    url = f"{base_url()}voila/render/dashboards/{_NOTEBOOKS[key]}"
    query = {name: value for name, value in query.items() if value is not None}
    return f"{url}?{urlencode(query)}" if query else url


_TOLD = (ValueError, LookupError, PermissionError, TimeoutError, ConnectionError)


def message_of(error: BaseException, lang: str | None = None) -> str:
    """What the page says of ``error``: its own message when it is meant for the user.

    terralab's refusals (bad input, quota, not found, not allowed) carry a message written
    for the user; anything else is a fault whose details belong in the server's log.
    """
    from terralab.queue.errors import JobError
    from terralab.service.errors import ServiceError

    if isinstance(error, (*_TOLD, JobError, ServiceError)) and str(error):
        return str(error).strip("'\"")
    return pick("Something went wrong; the details are in the server's log.",
                "出现错误，详细信息已写入服务器日志。", lang)


class Shell:
    """One page: header, message line, content and the readiness marker.

    Args:
        page: the page's key (:data:`PAGES`, or ``"tool"``).
        lang: ``"zh"`` or ``"en"`` (default: :func:`terralab.widgets.i18n.language`).
        header: build the header (False in tests that only need the content).
    """

    def __init__(self, page: str, *, lang: str | None = None, header: bool = True) -> None:
        self.page = page
        self.lang = lang or language()
        self.signal = PageSignal(page=page)
        self.notice = widgets.HTML(layout=widgets.Layout(min_height="0"))
        self.notice.add_class("tl-notice")
        self.content = widgets.VBox(layout=widgets.Layout(width="100%"))
        self.content.add_class("tl-content")
        top: list[widgets.Widget] = []
        if header:
            from terralab.widgets.pages.header import Header

            self.header = Header(self)
            top.append(self.header.widget)
        self.widget = widgets.VBox([*top, self.notice, self.content, self.signal],
                                   layout=widgets.Layout(width="100%"))
        self.widget.add_class("tl-app")

    def t(self, english: str, chinese: str) -> str:
        """A label in this page's language."""
        return pick(english, chinese, self.lang)

    def notify(self, text: str, level: str = "info") -> None:
        """Show one message under the header (``level``: info, success, error); "" clears it."""
        self.notice.value = (f'<div class="tl-message tl-{level}" role="status">'
                             f"{html.escape(text)}</div>") if text else ""

    def fail(self, error: BaseException) -> None:
        """Show ``error`` as a message; its traceback goes to the server's log."""
        log.error("terralab page %s: %s", self.page, error, exc_info=error)
        self.notify(message_of(error, self.lang), "error")

    def guard(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap a widget callback: an error it raises becomes a message in the page."""

        @wraps(callback)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return callback(*args, **kwargs)
            except Exception as error:  # shown as a message, never as a traceback
                self.fail(error)
                return None

        return guarded

    def go(self, key: str, **query: Any) -> None:
        """Send the browser to another page."""
        self.signal.go(page_url(key, **query))

    def ready(self) -> None:
        """Mark the page usable (``data-tl-ready``)."""
        self.signal.ready = True


def server_log() -> None:
    """Send terralab's log to the kernel's own stderr (the server's log), never to the page.

    Without a handler, Python writes warnings and errors (tracebacks included) to
    ``sys.stderr``, which in a page's kernel is an output of the page.
    """
    logger = logging.getLogger("terralab")
    if any(getattr(handler, "terralab_server_log", False) for handler in logger.handlers):
        return
    handler = logging.StreamHandler(sys.__stderr__)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.terralab_server_log = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.propagate = False


def run_page(page: str, build: Callable[[Shell], None], *, lang: str | None = None) -> Shell:
    """Show the page ``page``: the shell at once, then what ``build(shell)`` puts in it.

    An error while building is shown as a message in the page (and logged to the server's
    log, :func:`server_log`), never as a traceback; the page is marked ready either way.
    """
    server_log()
    shell = Shell(page, lang=lang)
    display(shell.widget)
    try:
        build(shell)
    except Exception as error:  # the page says what went wrong, the log has the details
        shell.fail(error)
    finally:
        shell.ready()
    return shell


def fit_to_catalog(m: Any) -> None:
    """Open the map ``m`` on the catalog's data (the union of its collections' extents).

    A page's empty map then shows where the imagery is, not the whole world; nothing
    happens when the catalog is empty or cannot be read.
    """
    from terralab.service.local import transport

    try:
        collections = transport().request("catalog.collections")["collections"]
        boxes = [box for found in collections if found.get("count")
                 for box in found["extent"]["spatial"]["bbox"]]
    except Exception as error:  # an empty map is still a map
        log.warning("terralab pages: the catalog's extent is not known: %s", error)
        return
    if boxes:
        m.fit((min(b[0] for b in boxes), min(b[1] for b in boxes),
               max(b[2] for b in boxes), max(b[3] for b in boxes)))
