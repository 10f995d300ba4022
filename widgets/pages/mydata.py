"""我的数据 My data: upload, list with filters, preview on the map, rename, delete, download.

Uploads go from the browser over HTTP in resumable chunks through the user's own server
(:class:`~terralab.widgets.upload_picker.UploadPicker`), never through the kernel's websocket,
so any file up to the upload rule's size works; the service's message for a file that breaks a
rule is shown in the picker. A published upload appears in the list and on the map.
``mydata.ipynb?item=ID`` opens with that item on the map (the jobs page links results so).
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from terralab.sizes import format_size
from terralab.widgets.pages.shell import Shell, fit_to_catalog, run_page

__all__ = ["MyDataPage", "build", "show"]

_FORMATS = {"raster": (("GeoTIFF", "geotiff"),),
            "vector": (("GeoPackage", "gpkg"), ("GeoJSON", "geojson"),
                       ("Shapefile (zip)", "shapefile"))}


def _button() -> widgets.Layout:
    """A row's button: as wide as its label, never squeezed by a long title beside it."""
    return widgets.Layout(width="auto", flex="0 0 auto")


class MyDataPage:
    """The my-data page's state: filters, the list, the map."""

    def __init__(self, shell: Shell, *, shown: str | None = None) -> None:
        from terralab.widgets import Map
        from terralab.widgets.upload_picker import UploadPicker

        self.shell = shell
        t = shell.t
        self.picker = UploadPicker(lang=shell.lang)
        self.picker.on_ready(shell.guard(self._published))
        self.kind = widgets.Dropdown(
            options=[(t("Uploads and results", "上传与结果"), ""), (t("Uploads", "上传"), "upload"),
                     (t("Results", "结果"), "result"), (t("Favourites", "收藏"), "favourite")],
            value="", layout=widgets.Layout(width="170px"))
        self.data_type = widgets.Dropdown(
            options=[(t("Rasters and vectors", "栅格与矢量"), ""), (t("Rasters", "栅格"), "raster"),
                     (t("Vectors", "矢量"), "vector")],
            value="", layout=widgets.Layout(width="160px"))
        self.text = widgets.Text(placeholder=t("Name contains…", "名称包含…"),
                                 layout=widgets.Layout(width="180px"), continuous_update=False)
        for control in (self.kind, self.data_type, self.text):
            control.observe(shell.guard(lambda _change: self.refresh()), names="value")
        self.rows = widgets.VBox()
        self.rows.add_class("tl-item-rows")
        self.map = Map(layout=widgets.Layout(height="560px", width="100%"))
        fit_to_catalog(self.map)
        self.map_layer: Any = None
        self.shown: str | None = None  # the id of the item on the map
        filters = widgets.HBox([self.kind, self.data_type, self.text],
                               layout=widgets.Layout(flex_flow="row wrap")).add_class("tl-gap-6")
        left = widgets.VBox([self.picker, filters, self.rows],
                            layout=widgets.Layout(width="560px", flex="0 0 560px"))
        left.add_class("tl-gap-8")
        right = widgets.VBox([self.map], layout=widgets.Layout(flex="1 1 auto", min_width="0"))
        self.widget = widgets.HBox([left, right]).add_class("tl-gap-16")
        self.records: list[Any] = []
        self.refresh()
        if shown:
            self.show_item(shown)

    def refresh(self) -> None:
        """List my data again with the current filters."""
        import terralab as tl

        t = self.shell.t
        self.records = tl.my_data(self.kind.value or None, data_type=self.data_type.value or None,
                                  text=self.text.value.strip() or None)
        if not self.records:
            self.rows.children = [widgets.HTML(
                f'<p class="tl-empty">{t("Nothing here yet.", "这里还没有数据。")}</p>')]
            return
        self.rows.children = [self._row(record) for record in self.records]

    def _row(self, record: Any) -> widgets.Widget:
        from terralab.widgets.upload_picker import download_url

        t = self.shell.t
        kinds = {"upload": t("upload", "上传"), "result": t("result", "结果"),
                 "favourite": t("favourite", "收藏")}
        types = {"raster": t("raster", "栅格"), "vector": t("vector", "矢量")}
        links = " ".join(
            f'<a href="{html.escape(download_url(record.id, format=fmt))}" download>'
            f"{html.escape(label)}</a>"
            for label, fmt in _FORMATS.get(record.data_type, ()))
        info = widgets.HTML(
            f'<b title="{html.escape(record.id)}">{html.escape(record.title)}</b><br>'
            f'<small>{kinds.get(record.kind, record.kind)} · '
            f'{types.get(record.data_type, record.data_type)} · {format_size(record.bytes)} · '
            f'{html.escape(record.created[:16].replace("T", " "))}</small><br>'
            f'<small class="tl-downloads">{t("Download", "下载")}: {links}</small>',
            layout=widgets.Layout(flex="1 1 auto", min_width="0"))
        show = widgets.Button(description=t("Show", "显示"), layout=_button())
        show.add_class("tl-show")
        show.on_click(self.shell.guard(lambda _b, item=record.id: self.show_item(item)))
        rename = widgets.Button(description=t("Rename", "重命名"), layout=_button())
        delete = widgets.Button(description=t("Delete", "删除"), button_style="danger",
                                layout=_button())
        row = widgets.HBox([info, show, rename, delete],
                           layout=widgets.Layout(align_items="center")).add_class("tl-gap-4")
        row.add_class("tl-item-row")
        rename.on_click(self.shell.guard(lambda _b: self._rename_form(row, record)))
        delete.on_click(self.shell.guard(lambda _b: self._delete(record, delete)))
        return row

    def show_item(self, item_id: str) -> None:
        """Show one of my items on the map (instead of the one shown before)."""
        import terralab as tl

        record = next((r for r in self.records if r.id == item_id), None)
        if record is None:
            record = next((r for r in tl.my_data() if r.id == item_id), None)
        if record is None:
            raise LookupError(self.shell.t(f"No item {item_id} in my data.",
                                           f"我的数据中没有 {item_id}。"))
        if self.map_layer is not None and self.map_layer in self.map.layers:
            self.map.remove(self.map_layer)
        self.map_layer = self.map.add(record, name=record.title)
        self.shown = record.id
        self.map.fit(self.map_layer)

    def _rename_form(self, row: widgets.HBox, record: Any) -> None:
        t = self.shell.t
        name = widgets.Text(value=record.title, layout=widgets.Layout(width="240px"))
        save = widgets.Button(description=t("Save", "保存"), button_style="primary",
                              layout=widgets.Layout(width="auto"))

        def rename(_button: Any) -> None:
            import terralab as tl

            tl.mydata.rename(record.id, name.value.strip())
            self.shell.notify(t("Renamed.", "已重命名。"), "success")
            self.refresh()

        save.on_click(self.shell.guard(rename))
        row.children = [name, save]

    def _delete(self, record: Any, button: widgets.Button) -> None:
        import terralab as tl

        t = self.shell.t
        if button.description != t("Really delete?", "确认删除？"):
            button.description = t("Really delete?", "确认删除？")
            return
        freed = tl.mydata.delete(record.id)
        self.shell.notify(t(f"“{record.title}” deleted ({format_size(freed)} freed).",
                            f"已删除“{record.title}”（释放 {format_size(freed)}）。"), "success")
        if self.shown == record.id and self.map_layer in self.map.layers:
            self.map.remove(self.map_layer)
            self.map_layer, self.shown = None, None
        self.refresh()
        if hasattr(self.shell, "header"):
            self.shell.header.refresh_quota()

    def _published(self, item: dict[str, Any]) -> None:
        t = self.shell.t
        title = item.get("title") or item.get("id", "")
        self.shell.notify(t(f"“{title}” is ready in my data.", f"“{title}”已加入我的数据。"),
                          "success")
        self.refresh()
        if item.get("id"):
            self.show_item(item["id"])
        if hasattr(self.shell, "header"):
            self.shell.header.refresh_quota()


def build(shell: Shell) -> None:
    """Fill the my-data page (``?item=ID`` shows that item on the map)."""
    from terralab.widgets.page_request import query_value

    page = MyDataPage(shell, shown=query_value("item"))
    shell.content.children = [widgets.HTML(f'<h2>{shell.t("My data", "我的数据")}</h2>'),
                              page.widget]
    shell.mydata = page  # type: ignore[attr-defined]


def show() -> Shell:
    """Show the my-data page (the one call of ``dashboards/mydata.ipynb``)."""
    return run_page("mydata", build)
