"""The catalog search panel: area, dates, collections and cloud cover → pages of items.

In a notebook::

    from terralab.widgets import Map, SearchPanel, search_layout

    m = Map()
    panel = m.add_search_panel()        # beside a short map, on a tall one
    box = search_layout(m, SearchPanel(m))   # or: place the two yourself (a page)

The area is given in one of four ways (the mode buttons): a place name, an administrative
region (province / city / county, by name or 6-digit code), the area drawn on the attached
map (``m.aoi_geojson``) or an uploaded vector file (zipped shapefile, GeoJSON, GeoPackage).
A name several places share offers them in a list; choosing one searches it. Each found item
is one row of a page (``page_size`` rows, Previous / Next under the form): a quicklook
(local items only), its id, date and cloud cover, and buttons to add it to the map, mark it
as a favourite, download it, add it to one of my projects and, when a page asks for it, send
it to a tool. The footprints of all results are one GeoJSON layer on the map, replaced on
each search. Problems (an unknown place, nothing found, a failed download) are shown in the
panel's message line, never raised into the notebook. The Search button runs the search in
a background thread, so the kernel answers other cells meanwhile.

A page (the no-code lab's Search page) hooks into the rows:

- :meth:`SearchPanel.on_send_to_tool`: each row gets a "send to tool" button calling
  ``callback(item_id)``;
- :meth:`SearchPanel.on_download_link`: the row's download becomes a link to the URL
  ``callback(item)`` returns (the browser downloads it), instead of writing files next to
  the notebook;
- :meth:`SearchPanel.on_choose`: ``callback(action, item_id)`` after each row action that
  worked (``"map"``, ``"favourite"``, ``"download"``, ``"project"``, ``"tool"``); the
  trait :attr:`SearchPanel.chosen` holds the last item's id.

Labels are in the user's language (:mod:`terralab.widgets.i18n`) or ``lang=``.
"""

from __future__ import annotations

import html
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ipywidgets import (
    HTML,
    Button,
    DatePicker,
    Dropdown,
    FileUpload,
    HBox,
    IntSlider,
    Label,
    Layout,
    SelectMultiple,
    Text,
    ToggleButtons,
    VBox,
)
from traitlets import Unicode

from terralab.widgets.i18n import pick
from terralab.widgets.search_rows import RowActions
from terralab.widgets.vectors import geojson_layer

if TYPE_CHECKING:
    from ipyleaflet import GeoJSON

    from terralab.widgets.map import Map

__all__ = ["AREA_MODES", "SearchPanel", "search_layout", "show"]

AREA_MODES: tuple[tuple[str, str], ...] = (
    ("Place", "place"), ("Region", "admin"), ("Drawn area", "drawn"),
    ("Upload", "upload"))
UPLOAD_SUFFIXES = ".geojson,.json,.zip,.gpkg,.kml,.fgb"
# outlines only: scenes of one place stack up, and a fill would tint what is added under them
FOOTPRINT_STYLE: dict[str, Any] = {"color": "#ff7f0e", "weight": 2, "fillOpacity": 0.0}
PANEL_WIDTH = "370px"
_ZH = {"Place": "地名", "Region": "行政区", "Drawn area": "绘制区域", "Upload": "上传文件",
       "Area": "区域", "Vector file": "矢量文件", "From": "起始", "To": "截止",
       "Collections": "数据集", "Max cloud %": "最大云量%", "Search": "搜索",
       "Download to": "下载到", "Project": "项目", "add to map": "加到地图",
       "favourite": "收藏", "download": "下载", "to project": "加入项目",
       "send to tool": "送入工具", "Previous": "上一页", "Next": "下一页",
       "Which one?": "请选择", "searching…": "正在搜索…",
       "the last shape drawn on the map": "地图上最后绘制的图形"}
_TOOLTIPS = {"place": "a place or POI name (Chinese or English)",
             "admin": "an administrative region: province, city or county, by name or code",
             "drawn": "the last shape drawn on the map",
             "upload": "a vector file: zipped shapefile, GeoJSON, GeoPackage"}
_HINTS = {"place": "a place name, e.g. 德清", "admin": "a region name or code, e.g. 德清县",
          "drawn": "", "upload": ""}
_FIELD = {"description_width": "92px"}


def _wide() -> Layout:
    return Layout(width="350px")


def _candidate(candidate: Any) -> tuple[str, str]:
    """(label, id) of one match of an ambiguous name (an object here, a dict via the hub)."""
    if isinstance(candidate, dict):
        where = " ".join(candidate.get("parents") or []) if isinstance(
            candidate.get("parents"), list) else ""
        label = f"{candidate.get('name', '')} ({candidate.get('code') or candidate.get('id')})"
        return (f"{label}, {where}" if where else label), str(candidate.get("id"))
    return candidate.describe(), str(candidate.id)


class SearchPanel(RowActions, VBox):
    """A search form and its pages of results; with a map, results go on that map.

    Args:
        m: the map that shows footprints and added items and whose drawn area is searched;
            None for a panel on its own (drawn-area mode and "add to map" then say so).
        home: the terralab data folder (default: ``$TERRALAB_HOME``; inside a hub, None
            lets searches go through the hub service).
        limit: the most items found per search.
        page_size: the rows shown per page.
        thumbnails: show a quicklook in each row (local items only).
        download_dir: the folder downloads go to (editable in the panel).
        lang: ``"zh"`` or ``"en"`` (default: the user's language).
    """

    chosen = Unicode("", help="the id of the item of the last row action that worked")

    def __init__(self, m: Map | None = None, *, home: Path | None = None, limit: int = 50,
                 page_size: int = 10, thumbnails: bool = True, download_dir: str | Path = ".",
                 lang: str | None = None) -> None:
        self.map, self.home, self.limit, self.lang = m, home, limit, lang
        self.page_size, self.page = max(1, page_size), 0
        self.thumbnails = thumbnails
        self.result: Any = None
        self.items: list[Any] = []
        self.footprints: GeoJSON | None = None
        self._to_tool: list[Callable[[str], Any]] = []
        self._link: Callable[[Any], str | None] | None = None
        self._chosen: list[Callable[[str, str], Any]] = []
        self.mode = ToggleButtons(options=[(self.t(label), value) for label, value in AREA_MODES],
                                  value="admin",
                                  tooltips=[_TOOLTIPS[value] for _, value in AREA_MODES],
                                  style={"button_width": "auto"})
        self.area_text = Text(placeholder=_HINTS["admin"], description=self.t("Area"),
                              style=_FIELD, layout=_wide())
        self.choice = Dropdown(options=[], description=self.t("Which one?"), style=_FIELD,
                               layout=Layout(width="350px", display="none"))
        self.upload = FileUpload(accept=UPLOAD_SUFFIXES, multiple=False,
                                 description=self.t("Vector file"))
        self.start = DatePicker(description=self.t("From"), style=_FIELD)
        self.end = DatePicker(description=self.t("To"), style=_FIELD)
        self.collections = SelectMultiple(options=self._collection_ids(), rows=4, style=_FIELD,
                                          description=self.t("Collections"), layout=_wide())
        self.max_cloud = IntSlider(value=100, min=0, max=100, step=5, style=_FIELD,
                                   description=self.t("Max cloud %"), layout=_wide())
        self.search_button = Button(description=self.t("Search"), icon="search",
                                    button_style="primary")
        # messages say what happened first and name the item last (they wrap in the column)
        self.message = HTML(layout=Layout(width="350px"))
        self.message_text = ""
        self.download_dir = Text(value=str(download_dir), description=self.t("Download to"),
                                 style=_FIELD, layout=_wide())
        self.project = Dropdown(options=[], description=self.t("Project"), style=_FIELD,
                                layout=_wide())
        self.previous = Button(description=self.t("Previous"), icon="chevron-left",
                               layout=Layout(width="100px"))
        self.next = Button(description=self.t("Next"), icon="chevron-right",
                           layout=Layout(width="100px"))
        self.page_label = Label()
        self.pager = HBox([self.previous, self.page_label, self.next],
                          layout=Layout(display="none", align_items="center"))
        self.rows = VBox()
        self._area_box = VBox()
        self.mode.observe(self._on_mode, names="value")
        self.choice.observe(self._on_choice, names="value")
        self.search_button.on_click(lambda _: self.search_in_background())
        self.previous.on_click(lambda _: self.show_page(self.page - 1))
        self.next.on_click(lambda _: self.show_page(self.page + 1))
        self.search_thread: threading.Thread | None = None
        self._on_mode({"new": self.mode.value})
        children = [self.mode, self._area_box, self.choice, self.start, self.end,
                    self.collections, self.max_cloud, self.search_button, self.message,
                    self.download_dir, self.project, self.pager, self.rows]
        for child in children:  # in a column of fixed height nothing shrinks: it scrolls
            child.layout.flex = "0 0 auto"
        super().__init__(children, layout=Layout(width=PANEL_WIDTH, max_height="560px",
                                                 overflow="hidden auto", padding="4px"))
        self.add_class("tl-search-panel")
        self.refresh_projects()

    def t(self, english: str) -> str:
        """A label in the panel's language."""
        return pick(english, _ZH.get(english, ""), self.lang)

    def say(self, text: str) -> None:
        """Show ``text`` in the message line (long item ids wrap in the column)."""
        self.message_text = text
        self.message.value = (f"<div style='overflow-wrap:anywhere;line-height:1.3'>"
                              f"{html.escape(text)}</div>")

    # ----------------------------------------------------------------- hooks
    def on_send_to_tool(self, callback: Callable[[str], Any]) -> None:
        """Give each row a "send to tool" button calling ``callback(item_id)``."""
        self._to_tool.append(callback)
        self.show_page(self.page)

    def on_download_link(self, callback: Callable[[Any], str | None]) -> None:
        """Make each row's download a link to ``callback(item)`` (a URL; None: no link)."""
        self._link = callback
        self.show_page(self.page)

    def on_choose(self, callback: Callable[[str, str], Any]) -> None:
        """Call ``callback(action, item_id)`` after each row action that worked."""
        self._chosen.append(callback)

    # ----------------------------------------------------------------- the form
    def _collection_ids(self) -> list[str]:
        """The catalog's collection ids (empty when the catalog cannot be read)."""
        try:
            from terralab.catalog.sources import get_source

            return sorted(str(c["id"]) for c in get_source(home=self.home).collections())
        except Exception:  # an unreadable catalog leaves the list empty
            return []

    def _on_mode(self, change: dict[str, Any]) -> None:
        mode = change["new"]
        self.area_text.placeholder = _HINTS[mode]
        self.choice.layout.display = "none"
        if mode in ("place", "admin"):
            self._area_box.children = (self.area_text,)
        elif mode == "upload":
            self._area_box.children = (self.upload,)
        else:
            self._area_box.children = (Label(self.t("the last shape drawn on the map")),)

    def _on_choice(self, change: dict[str, Any]) -> None:
        """One of the matches of an ambiguous name was chosen: search it."""
        if change["new"]:
            self.area_text.value = change["new"]
            self.choice.layout.display = "none"
            self.search_in_background()

    def refresh_projects(self) -> None:
        """Fill the project chooser with my projects (names shown, ids kept)."""
        try:
            from terralab.client.projects import list_projects

            self.project.options = [(p.name, p.id) for p in list_projects()]
        except Exception:  # no projects to offer
            self.project.options = []

    def area_arguments(self) -> dict[str, Any]:
        """The area keyword of ``tl.search`` for the current mode.

        Raises:
            ValueError: when the mode's input is missing (no name, no drawing, no file).
        """
        mode = self.mode.value
        if mode in ("place", "admin"):
            text = self.area_text.value.strip()
            if not text:
                raise ValueError(f"type {_HINTS[mode]}")
            return {mode: text}
        if mode == "drawn":
            geometry = self.map.aoi_geojson if self.map is not None else None
            if geometry is None:
                raise ValueError("nothing is drawn: draw a polygon or rectangle on the map")
            return {"geometry": geometry}
        return {"file": self._uploaded_file()}

    def _uploaded_file(self) -> Path:
        """Write the uploaded vector file to a temporary folder and return its path."""
        uploads = list(self.upload.value or ())
        if not uploads:
            raise ValueError("no file uploaded: choose a vector file first")
        upload = uploads[-1]
        name = Path(str(upload.get("name") or "area.geojson")).name or "area.geojson"
        path = Path(tempfile.mkdtemp(prefix="terralab-area-")) / name
        path.write_bytes(bytes(upload["content"]))
        return path

    # ----------------------------------------------------------------- searching
    def search_in_background(self) -> threading.Thread:
        """Run :meth:`search` in a thread (what the button does): the kernel stays free.

        The button is disabled until the search has finished; ``search_thread`` is it.
        """
        self.search_button.disabled = True

        def work() -> None:
            try:
                self.search()
            finally:
                self.search_button.disabled = False

        self.search_thread = threading.Thread(target=work, name="terralab-search",
                                              daemon=True)
        self.search_thread.start()
        return self.search_thread

    def search(self) -> Any:
        """Run the search the form describes; returns the SearchResult, or None on errors."""
        from terralab.areas.errors import AmbiguousAreaError
        from terralab.client.catalog import search

        self.say(self.t("searching…"))
        try:
            found = search(**self.area_arguments(), start=self.start.value,
                           end=self.end.value, collections=list(self.collections.value) or None,
                           max_cloud=self.max_cloud.value if self.max_cloud.value < 100
                           else None, limit=self.limit, home=self.home)
        except AmbiguousAreaError as error:  # offer the matches
            self.show_results(None)
            self.choice.options = [("", "")] + [_candidate(c) for c in error.candidates]
            self.choice.layout.display = "flex" if error.candidates else "none"
            self.say(str(error))
            return None
        except Exception as error:  # shown in the panel, never raised
            self.show_results(None)
            self.say(str(error) or type(error).__name__)
            return None
        self.show_results(found)
        return found

    def show_results(self, found: Any) -> None:
        """List ``found`` (a SearchResult, or None to clear) and draw its footprints."""
        self.result = found
        self.items = list(found) if found is not None else []
        self.show_page(0)
        self._draw_footprints(found if self.items else None)
        if found is not None:
            self.say(f"{len(self.items)} items found" if self.items
                     else "no items found: widen the area, dates or cloud cover")
        self.refresh_projects()

    def pages(self) -> int:
        """How many pages the results fill."""
        return max(1, -(-len(self.items) // self.page_size))

    def show_page(self, page: int) -> None:
        """Show page ``page`` (0-based, clamped) of the results."""
        self.page = max(0, min(page, self.pages() - 1))
        first = self.page * self.page_size
        shown = self.items[first:first + self.page_size]
        self.rows.children = tuple(self._row(item) for item in shown)
        self.page_label.value = f"{self.page + 1} / {self.pages()} · {len(self.items)}"
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= self.pages() - 1
        self.pager.layout.display = "flex" if len(self.items) > self.page_size else "none"

    def _draw_footprints(self, found: Any) -> None:
        """Replace the footprint layer of the previous search on the map."""
        if self.map is None:
            return
        if self.footprints is not None and self.footprints in self.map.layers:
            self.map.remove(self.footprints)
        self.footprints = None
        if found is not None:
            self.footprints = geojson_layer(found.gdf, name="Search results",
                                            **FOOTPRINT_STYLE)
            self.map.add(self.footprints)


def search_layout(m: Any, panel: SearchPanel, *, height: str | None = None) -> HBox:
    """The map and the panel side by side, the panel in its own scrolling column.

    Args:
        m: the map (it takes the width the column leaves).
        panel: the search panel.
        height: the height of both (default: the map's pixel height, else 480px).

    Returns:
        An ``HBox`` to display or to place in a page; ``panel.side_layout`` is it too.
    """
    tall = str(m.layout.height or "")
    height = height or (tall if tall.endswith("px") else "480px")
    m.layout.height = height
    m.layout.flex = "1 1 auto"
    m.layout.width = "auto"
    panel.layout.height = height
    panel.layout.max_height = height
    panel.layout.flex = f"0 0 {PANEL_WIDTH}"
    panel.layout.overflow_y = "auto"
    box = HBox([m, panel], layout=Layout(width="100%", align_items="stretch"))
    panel.side_layout = box
    return box


def show(widget: Any) -> None:
    """Display ``widget`` in the running cell's output (nothing outside IPython)."""
    from IPython import get_ipython
    from IPython.display import display

    if get_ipython() is not None:
        display(widget)
