"""The catalog search panel: area, dates, collections and cloud cover → a list of items.

In a notebook::

    from terralab.widgets import Map, SearchPanel

    m = Map()
    panel = m.add_search_panel()        # on the map; or: ipywidgets.HBox([m, SearchPanel(m)])

The area is given in one of four ways (the mode buttons): a place name, an administrative
region (province / city / county, by name or 6-digit code), the area drawn on the attached
map (``m.aoi_geojson``) or an uploaded vector file (zipped shapefile, GeoJSON, GeoPackage).
Each found item is one row: a quicklook (local items only), its id, date and cloud cover,
and buttons to add it to the map, mark it as a favourite, download it, or add it to one of
my projects. The footprints of all results are one GeoJSON layer on the map, replaced on
each search. Problems (an unknown place, nothing found, a failed download) are shown in the
panel's message line, never raised into the notebook. The Search button runs the search in
a background thread, so the kernel answers other cells meanwhile.
"""

from __future__ import annotations

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
    Image,
    IntSlider,
    Label,
    Layout,
    SelectMultiple,
    Text,
    ToggleButtons,
    VBox,
)

from terralab.widgets.vectors import geojson_layer

if TYPE_CHECKING:
    from ipyleaflet import GeoJSON

    from terralab.widgets.map import Map

__all__ = ["AREA_MODES", "SearchPanel"]

AREA_MODES: tuple[tuple[str, str], ...] = (
    ("Place", "place"), ("Region", "admin"), ("Drawn area", "drawn"),
    ("Upload", "upload"))
UPLOAD_SUFFIXES = ".geojson,.json,.zip,.gpkg,.kml,.fgb"
# outlines only: scenes of one place stack up, and a fill would tint what is added under them
FOOTPRINT_STYLE: dict[str, Any] = {"color": "#ff7f0e", "weight": 2, "fillOpacity": 0.0}
_TOOLTIPS = {"place": "a place or POI name (Chinese or English)",
             "admin": "an administrative region: province, city or county, by name or code",
             "drawn": "the last shape drawn on the map",
             "upload": "a vector file: zipped shapefile, GeoJSON, GeoPackage"}
_HINTS = {"place": "a place name, e.g. 德清", "admin": "a region name or code, e.g. 德清县",
          "drawn": "", "upload": ""}


def _as_dict(item: Any) -> dict[str, Any]:
    """The STAC item dict of a found item (a pystac.Item or a dict)."""
    return item.to_dict(transform_hrefs=False) if hasattr(item, "to_dict") else dict(item)


def _describe(item: dict[str, Any]) -> tuple[str, str]:
    """The date (YYYY-MM-DD) and the cloud cover text of an item."""
    props = item.get("properties") or {}
    when = str(props.get("datetime") or props.get("start_datetime") or "")[:10]
    cloud = props.get("eo:cloud_cover")
    return when, "–" if cloud is None else f"{float(cloud):.0f}%"


class SearchPanel(VBox):
    """A search form and its result list; with a map, results go on that map.

    Args:
        m: the map that shows footprints and added items and whose drawn area is searched;
            None for a panel on its own (drawn-area mode and "add to map" then say so).
        home: the terralab data folder (default: ``$TERRALAB_HOME``; inside a hub, None
            lets searches go through the hub service).
        limit: the most items listed per search.
        thumbnails: show a quicklook in each row (local items only).
        download_dir: the folder downloads go to (editable in the panel).
    """

    def __init__(self, m: Map | None = None, *, home: Path | None = None, limit: int = 50,
                 thumbnails: bool = True, download_dir: str | Path = ".") -> None:
        self.map = m
        self.home = home
        self.limit = limit
        self.thumbnails = thumbnails
        self.result: Any = None
        self.footprints: GeoJSON | None = None
        self.mode = ToggleButtons(options=AREA_MODES, value="admin",
                                  tooltips=[_TOOLTIPS[value] for _, value in AREA_MODES],
                                  style={"button_width": "auto"})
        self.area_text = Text(placeholder=_HINTS["admin"], description="Area")
        self.upload = FileUpload(accept=UPLOAD_SUFFIXES, multiple=False,
                                 description="Vector file")
        self.start = DatePicker(description="From")
        self.end = DatePicker(description="To")
        self.collections = SelectMultiple(options=self._collection_ids(), rows=4,
                                          description="Collections")
        self.max_cloud = IntSlider(value=100, min=0, max=100, step=5,
                                   description="Max cloud %")
        self.search_button = Button(description="Search", icon="search",
                                    button_style="primary")
        # messages say what happened first and name the item last (long ids get cut)
        self.message = Label(layout=Layout(max_width="380px"))
        self.download_dir = Text(value=str(download_dir), description="Download to")
        self.project = Dropdown(options=[], description="Project")
        self.rows = VBox(layout=Layout(max_height="360px", overflow="auto"))
        self._area_box = VBox()
        self.mode.observe(self._on_mode, names="value")
        self.search_button.on_click(lambda _: self.search_in_background())
        self.search_thread: threading.Thread | None = None
        self._on_mode({"new": self.mode.value})
        super().__init__([self.mode, self._area_box, self.start, self.end, self.collections,
                          self.max_cloud, self.search_button, self.message,
                          self.download_dir, self.project, self.rows],
                         layout=Layout(width="400px"))
        self.refresh_projects()

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
        if mode in ("place", "admin"):
            self._area_box.children = (self.area_text,)
        elif mode == "upload":
            self._area_box.children = (self.upload,)
        else:
            self._area_box.children = (Label("the last shape drawn on the map"),)

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
        from terralab.client.catalog import search

        self.message.value = "searching…"
        try:
            found = search(**self.area_arguments(), start=self.start.value,
                           end=self.end.value, collections=list(self.collections.value) or None,
                           max_cloud=self.max_cloud.value if self.max_cloud.value < 100
                           else None, limit=self.limit, home=self.home)
        except Exception as error:  # shown in the panel, never raised
            self.show_results(None)
            self.message.value = str(error) or type(error).__name__
            return None
        self.show_results(found)
        return found

    def show_results(self, found: Any) -> None:
        """List ``found`` (a SearchResult, or None to clear) and draw its footprints."""
        self.result = found
        items = list(found) if found is not None else []
        self.rows.children = tuple(self._row(item) for item in items)
        self._draw_footprints(found if items else None)
        if found is not None:
            self.message.value = (f"{len(items)} items found" if items
                                  else "no items found: widen the area, dates or cloud cover")
        self.refresh_projects()

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

    def _thumbnail(self, item: dict[str, Any]) -> Image | None:
        """A small quicklook of a local item, or None when none can be made."""
        if not self.thumbnails:
            return None
        try:
            from terralab.catalog.thumbnails import thumbnail

            data = thumbnail(item, size=96, home=self.home)
        except Exception:  # remote or unreadable items have no quicklook
            return None
        return Image(value=data, format="png", layout=Layout(width="72px"))

    def _row(self, item: Any) -> HBox:
        """One result row: quicklook, id / date / cloud, and its four buttons."""
        data = _as_dict(item)
        when, cloud = _describe(data)
        text = HTML(f"<div style='word-break:break-all;line-height:1.3'><b>{data['id']}</b>"
                    f"<br>{data.get('collection') or ''} · {when} · cloud {cloud}</div>",
                    layout=Layout(width="190px"))
        actions: list[tuple[str, str, str, Callable[[Any], str]]] = [
            ("add to map", "map", "add to the map", self.add_to_map),
            ("favourite", "star", "add to my favourites", self.favourite),
            ("download", "download", "download into the folder above", self.download),
            ("to project", "folder", "add to the project chosen above", self.add_to_project)]
        buttons = []
        for label, icon, tooltip, action in actions:
            button = Button(description=label, icon=icon, tooltip=tooltip,
                            layout=Layout(width="120px", height="26px"))
            button.on_click(lambda _, run=action: self._act(run, item))
            buttons.append(button)
        picture = self._thumbnail(data)
        parts = [picture] if picture is not None else []
        # rows keep their height in the scrolling list (flex children shrink by default)
        return HBox([*parts, text, VBox(buttons)],
                    layout=Layout(flex="0 0 auto", align_items="center",
                                  border_bottom="1px solid #e0e0e0"))

    # ----------------------------------------------------------------- row actions
    def _act(self, action: Callable[[Any], str], item: Any) -> None:
        """Run a row action, showing what it did or why it failed."""
        try:
            self.message.value = action(item)
        except Exception as error:  # shown in the panel, never raised
            self.message.value = f"{error or type(error).__name__} ({_as_dict(item)['id']})"

    def add_to_map(self, item: Any) -> str:
        """Add the item to the attached map as a raster layer."""
        if self.map is None:
            return "no map attached: create the panel with SearchPanel(m)"
        self.map.add(item)
        return f"added to the map: {_as_dict(item)['id']}"

    def favourite(self, item: Any) -> str:
        """Mark the item as one of my favourites (through the hub service inside a hub)."""
        from terralab.client.catalog import service_client

        data = _as_dict(item)
        client = service_client() if self.home is None else None
        if client is not None:
            added = client.add_favourite(data["id"], data.get("collection"))
        else:
            from terralab.catalog import add_favourite
            from terralab.identity import current_user

            added = add_favourite(current_user(), data, home=self.home)
        return ("added to favourites: " if added else "already a favourite: ") + data["id"]

    def download(self, item: Any) -> str:
        """Download the item's data assets into the download folder."""
        from terralab.client.catalog import download

        folder = Path(self.download_dir.value.strip() or ".")
        files = download(item, folder, home=self.home) if self.home is not None \
            else download(item, folder)
        return f"{len(files)} files written to {folder}"

    def add_to_project(self, item: Any) -> str:
        """Add the item as a layer of the project chosen in the project list."""
        from terralab.client.projects import open as open_project

        if self.project.value is None:
            return "no project chosen: create one with tl.projects.create(name)"
        project = open_project(self.project.value)
        project.add_layer(item)
        return f"added to project {project.name!r}: {_as_dict(item)['id']}"
