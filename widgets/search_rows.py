"""The result rows of the search panel and what their buttons do.

A row shows a quicklook (local items only), the item's id, collection, date and cloud
cover, and its buttons: add to map, favourite, download (or a link a page provides), add
to the chosen project and, when a page asked for it, send to tool. The actions answer a
line of text for the panel's message; a failure is shown there too, never raised.
:class:`RowActions` is the part of :class:`~terralab.widgets.search_panel.SearchPanel` that
holds them.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ipywidgets import HTML, Button, HBox, Image, Layout, VBox

__all__ = ["RowActions", "as_item_dict", "describe_item"]


def as_item_dict(item: Any) -> dict[str, Any]:
    """The STAC item dict of a found item (a pystac.Item or a dict)."""
    return item.to_dict(transform_hrefs=False) if hasattr(item, "to_dict") else dict(item)


def describe_item(item: dict[str, Any]) -> tuple[str, str]:
    """The date (YYYY-MM-DD) and the cloud cover text of an item."""
    props = item.get("properties") or {}
    when = str(props.get("datetime") or props.get("start_datetime") or "")[:10]
    cloud = props.get("eo:cloud_cover")
    return when, "–" if cloud is None else f"{float(cloud):.0f}%"


class RowActions:
    """Result rows and their actions, mixed into the search panel.

    The panel sets the attributes used here: ``map``, ``home``, ``thumbnails``,
    ``download_dir``, ``project``, the hooks ``_to_tool``, ``_link``, ``_chosen``, and
    ``t`` / ``say``.
    """

    map: Any
    home: Path | None
    thumbnails: bool
    download_dir: Any
    project: Any
    chosen: str
    _to_tool: list[Callable[[str], Any]]
    _link: Callable[[Any], str | None] | None
    _chosen: list[Callable[[str, str], Any]]
    t: Callable[[str], str]
    say: Callable[[str], None]

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
        """One result row: quicklook, id / date / cloud, and its buttons."""
        data = as_item_dict(item)
        when, cloud = describe_item(data)
        text = HTML(f"<div style='word-break:break-all;line-height:1.3'>"
                    f"<b>{html.escape(str(data['id']))}</b><br>"
                    f"{html.escape(str(data.get('collection') or ''))} · {when} · "
                    f"cloud {cloud}</div>", layout=Layout(width="160px"))
        actions: list[tuple[str, str, str, Callable[[Any], str], str]] = [
            ("add to map", "map", "add to the map", self.add_to_map, "map"),
            ("favourite", "star", "add to my favourites", self.favourite, "favourite"),
            ("download", "download", "download into the folder above", self.download,
             "download"),
            ("to project", "folder", "add to the project chosen above", self.add_to_project,
             "project")]
        if self._to_tool:
            actions.append(("send to tool", "cogs", "open a tool with this item",
                            self.send_to_tool, "tool"))
        buttons: list[Any] = []
        for label, icon, tooltip, action, name in actions:
            if name == "download" and self._link is not None:
                buttons.append(self._download_link(item))
                continue
            button = Button(description=self.t(label), icon=icon, tooltip=tooltip,
                            layout=Layout(width="120px", height="26px"))
            button.on_click(lambda _, run=action, what=name: self._act(run, item, what))
            buttons.append(button)
        picture = self._thumbnail(data)
        parts = [picture] if picture is not None else []
        # rows keep their height in the column (flex children shrink by default)
        row = HBox([*parts, text, VBox(buttons)],
                   layout=Layout(flex="0 0 auto", align_items="center",
                                 border_bottom="1px solid #e0e0e0"))
        row.add_class("tl-search-row")
        return row

    def _download_link(self, item: Any) -> HTML:
        try:
            url = self._link(item) if self._link is not None else None
        except Exception:  # no link: the row says so
            url = None
        if not url:
            return HTML(f"<small>{html.escape(self.t('download'))}: –</small>")
        return HTML(f"<a href='{html.escape(url, quote=True)}' download target='_blank' "
                    f"class='jupyter-button' style='display:inline-block;box-sizing:border-box;"
                    f"width:120px;height:26px;line-height:26px;padding:0;margin:0;"
                    f"text-align:center;text-decoration:none'>"
                    f"{html.escape(self.t('download'))}</a>",
                    layout=Layout(width="120px", height="26px", margin="2px"))

    # ----------------------------------------------------------------- row actions
    def _act(self, action: Callable[[Any], str], item: Any, name: str = "") -> None:
        """Run a row action, showing what it did or why it failed."""
        item_id = str(as_item_dict(item)["id"])
        try:
            self.say(action(item))
        except Exception as error:  # shown in the panel, never raised
            self.say(f"{error or type(error).__name__} ({item_id})")
            return
        self.chosen = item_id
        for callback in list(self._chosen):
            callback(name, item_id)

    def add_to_map(self, item: Any) -> str:
        """Add the item to the attached map as a raster layer."""
        if self.map is None:
            return "no map attached: create the panel with SearchPanel(m)"
        self.map.add(item)
        return f"added to the map: {as_item_dict(item)['id']}"

    def send_to_tool(self, item: Any) -> str:
        """Hand the item's id to the page's tool callbacks."""
        item_id = str(as_item_dict(item)["id"])
        for callback in list(self._to_tool):
            callback(item_id)
        return f"sent to the tool: {item_id}"

    def favourite(self, item: Any) -> str:
        """Mark the item as one of my favourites (through the hub service inside a hub)."""
        from terralab.client.catalog import service_client

        data = as_item_dict(item)
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
        return f"added to project {project.name!r}: {as_item_dict(item)['id']}"
