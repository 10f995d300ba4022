"""A tool form's run: the job's progress and log, then its result on the map and to keep.

:class:`JobView` follows a queued job without blocking the kernel (a daemon thread reads it
every second): the place in the queue while it waits, the percent and message while it
runs, its log, and a Cancel button. :class:`ResultView` shows what the job made: each
raster result on the map above the tool's input, with the swipe between the two and a
legend; the polygons of an extraction (results of their own); links to download each result
in the formats it offers; and "add to project".
"""

from __future__ import annotations

import html
import logging
import math
import threading
from collections.abc import Callable, Mapping
from typing import Any

from ipywidgets import HTML, Button, Dropdown, HBox, IntProgress, Layout, Textarea, VBox

from terralab.widgets.i18n import pick

__all__ = ["DOWNLOAD_FORMATS", "JobView", "ResultView", "result_style", "standing_text"]

log = logging.getLogger(__name__)

DOWNLOAD_FORMATS: dict[str, tuple[tuple[str | None, str], ...]] = {
    "raster": (("geotiff", "GeoTIFF"), ("cog", "COG")),
    "vector": (("gpkg", "GeoPackage"), ("geojson", "GeoJSON"), ("shapefile", "Shapefile (zip)")),
}
"""The download formats offered per result type (the my-data export's formats)."""

_STATES = {"queued": ("Queued", "排队中"), "running": ("Running", "运行中"),
           "succeeded": ("Done", "完成"), "failed": ("Failed", "失败"),
           "cancelled": ("Cancelled", "已取消")}
_BAR = {"queued": "info", "running": "", "succeeded": "success", "failed": "danger",
        "cancelled": "warning"}
_INDEX_MAPS = {"ndwi": "rdbu", "mndwi": "rdbu", "ndbi": "reds", "rvi": "rdylgn"}
_CLASS_MAPS = {"water": ("blues", "Water", "水体"), "change": ("reds", "Change", "变化")}


def standing_text(standing: Any, lang: str | None = None) -> str:
    """Where a waiting job stands: ``position 2 (1 job ahead, 1 of 1 workers busy)``."""
    if standing is None:
        return ""
    position = getattr(standing, "position", None)
    ahead = getattr(standing, "jobs_ahead", 0)
    workers, busy = getattr(standing, "workers", 0), getattr(standing, "workers_busy", 0)
    return pick(f"place in the queue: {position} ({ahead} ahead; {busy} of {workers} "
                "workers busy)",
                f"排队位置：第 {position} 位（前面 {ahead} 个任务；{workers} 个计算节点中 "
                f"{busy} 个忙碌）", lang)


class JobView(VBox):
    """A job's state, progress bar, log and Cancel button, refreshed in the background.

    Args:
        lang: the language of the labels.
        interval: seconds between two reads of the job.
    """

    def __init__(self, *, lang: str | None = None, interval: float = 1.0) -> None:
        self.lang, self.interval = lang, float(interval)
        self.job: Any = None
        self.bar = IntProgress(value=0, min=0, max=100,
                               layout=Layout(width="auto", flex="1 1 auto", min_width="0"))
        self.status = HTML("")
        self.status.add_class("tl-job-status")
        self.log_area = Textarea(value="", disabled=True,
                                 layout=Layout(width="auto", height="90px"))
        self.cancel_button = Button(description=pick("Cancel", "取消", lang), icon="",
                                    button_style="warning", layout=Layout(width="90px"))
        self.cancel_button.add_class("tl-cancel")
        self.cancel_button.on_click(lambda _: self.cancel())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_done: Callable[[Any], None] | None = None
        row = HBox([self.bar, self.cancel_button], layout=Layout(width="100%"))
        super().__init__([row, self.status, self.log_area],
                         layout=Layout(display="none", width="100%"))
        self.add_class("tl-job")

    def follow(self, job: Any, on_done: Callable[[Any], None] | None = None, *,
               background: bool = True) -> None:
        """Show ``job`` and follow it until it has finished, then call ``on_done(job)``."""
        self.stop()
        self.job, self._on_done = job, on_done
        self._stop = threading.Event()
        self.layout.display = ""
        self.cancel_button.disabled = False
        self.update()
        if background and not self._stop.is_set():
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name="terralab-tool-job")
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.update()

    def stop(self) -> None:
        """Stop following (the widgets keep their last state)."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the background reads to end (tests)."""
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def finished(self) -> bool:
        """True once the followed job is done (or could not be read)."""
        return self._stop.is_set()

    def update(self) -> None:
        """Read the job once and show it; once done, stop and hand it to ``on_done``."""
        job, lang = self.job, self.lang
        if job is None:
            return
        try:
            record = job.refresh().record if hasattr(job, "refresh") else job.record
            status, progress = str(record.status), float(record.progress or 0)
            message = str(job.message or "")
            standing, text = record.standing, str(record.log or "")
        except Exception as error:  # the queue went away: say so, stop reading
            log.warning("job %s could not be read: %s", getattr(job, "id", "?"), error)
            self.status.value = _para(pick(f"The job could not be read: {error}",
                                           f"无法读取任务：{error}", lang), "#c0392b")
            self.bar.bar_style = "danger"
            self._stop.set()
            return
        english, chinese = _STATES.get(status, (status, status))
        self.bar.bar_style = _BAR.get(status, "")
        line = pick(english, chinese, lang)
        if status == "queued":
            self.bar.value = 0
            line += " · " + standing_text(standing, lang) if standing else ""
        elif status == "running":
            self.bar.value = max(0, min(100, round(progress)))
            line += f" · {progress:.0f}%" + (f" · {message}" if message else "")
        elif status == "succeeded":
            self.bar.value = 100
        elif message:
            line += f": {message}"
        self.status.value = _para(line)
        self.log_area.value = text[-20_000:]
        if status in ("succeeded", "failed", "cancelled"):
            self.cancel_button.disabled = True
            self._stop.set()
            if self._on_done is not None:
                done, self._on_done = self._on_done, None
                try:
                    done(job)
                except Exception as error:  # a result the page cannot show: say it
                    log.exception("showing the result of job %s failed", job.id)
                    self.status.value += _para(pick(f"The result could not be shown: {error}",
                                                    f"无法显示结果：{error}", lang), "#c0392b")

    def cancel(self) -> None:
        """Cancel the followed job."""
        if self.job is None:
            return
        try:
            self.job.cancel()
        except Exception as error:
            log.warning("job %s could not be cancelled: %s", self.job.id, error)
            self.status.value = _para(pick(f"Could not cancel: {error}",
                                           f"无法取消：{error}", self.lang), "#c0392b")
            return
        self.update()


def _para(text: str, color: str | None = None) -> str:
    style = f" style='color:{color}'" if color else ""
    return f"<div{style}>{html.escape(text)}</div>"


def _band_names(record: Any) -> list[str]:
    assets = (getattr(record, "item", None) or {}).get("assets") or {}
    data = assets.get("data") or {}
    return [str(b.get("name") or "") for b in data.get("eo:bands") or []]


def _hex(colormap: str, value: float, low: float, high: float) -> str:
    from rio_tiler.colormap import cmap

    index = int(max(0, min(255, round((value - low) * 255.0 / (high - low)))))
    red, green, blue, _ = cmap.get(colormap)[index]
    return f"#{int(red):02x}{int(green):02x}{int(blue):02x}"


def result_style(tool: str, params: Mapping[str, Any], record: Any,
                 lang: str | None = None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """How a result is drawn (``map.add`` keywords) and its legend (``map.add_legend``).

    Vectors: outlined polygons. An index: a colorbar from −1 to 1. A water or change mask:
    the class coloured, the background transparent. Another class map: its classes.
    """
    if getattr(record, "data_type", "raster") == "vector":
        return {"color": "#ffb000", "weight": 2, "fillOpacity": 0.15}, None
    names = _band_names(record)
    first = names[0].lower() if names else ""
    if tool == "index":
        index = str(params.get("index") or "ndvi")
        colormap, (low, high) = _INDEX_MAPS.get(index, "rdylgn"), (-1.0, 1.0)
        if index == "rvi":
            low, high = 0.0, 8.0
        return ({"bands": "1", "colormap": colormap, "rescale": f"{low:g},{high:g}"},
                {"colormap": colormap, "vmin": low, "vmax": high, "title": index.upper()})
    found = _class_map(record, lang)
    if found is not None:
        return found
    if first in _CLASS_MAPS:
        colormap, english, chinese = _CLASS_MAPS[first]
        return ({"bands": "1", "colormap": colormap, "rescale": "0,1", "nodata": 0},
                {"classes": {1: (pick(english, chinese, lang), _hex(colormap, 1, 0, 1))}})
    if first == "class" and tool == "land_cover":
        from terralab.landcover import CLASSES

        classes = {c.code: (pick(c.title, c.title_zh, lang), _hex("tab10", c.code, 0, 10))
                   for c in CLASSES}
        return {"bands": "1", "colormap": "tab10", "rescale": "0,10", "nodata": 0}, \
            {"classes": classes}
    if first == "class":
        return {"bands": "1", "colormap": "tab10", "rescale": "0,10", "nodata": 0}, None
    return {}, None


def _pixels(value: Any, default: int) -> int:
    text = str(value or "")
    return int(float(text[:-2])) if text.endswith("px") else default


def _show_bounds(map: Any, bounds: list[list[float]]) -> None:
    """Centre ``map`` on ``[[south, west], [north, east]]`` at the zoom that shows it all.

    Set directly (ipyleaflet's ``fit_bounds`` needs the kernel's event loop, which the
    thread following a job does not have).
    """
    (south, west), (north, east) = bounds
    width = _pixels(getattr(map.layout, "width", None), 800)
    height = _pixels(getattr(map.layout, "height", None), 600)

    def mercator(lat: float) -> float:
        lat = max(-85.0, min(85.0, lat))
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    span_x = max(abs(east - west) / 360.0, 1e-9)
    span_y = max(abs(mercator(north) - mercator(south)) / (2 * math.pi), 1e-9)
    zoom = math.floor(min(math.log2(width / 256 / span_x), math.log2(height / 256 / span_y)))
    map.center = ((south + north) / 2, (west + east) / 2)
    map.zoom = max(1, min(18, zoom))


def _class_map(record: Any, lang: str | None) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The class colours and legend of a class map, as the map's legends find them."""
    try:
        from terralab.widgets.legend import class_map
    except ImportError:  # an older map without class maps: the rules below
        return None
    found = class_map(record, lang=lang)
    if found is None or not found.classes:
        return None
    legend = {"classes": {code: (name, colour) for code, name, colour in found.classes}}
    return {"bands": str(found.band), "colormap": found.colormap}, legend


class ResultView(VBox):
    """What a finished job made: download links, "add to project", and the map's layers.

    Args:
        lang: the language of the labels.
        projects: returns my projects (default ``tl.projects.list_projects``).
    """

    def __init__(self, *, lang: str | None = None,
                 projects: Callable[[], list[Any]] | None = None) -> None:
        self.lang = lang
        self._projects = projects
        self.records: list[Any] = []
        self.layers: list[Any] = []
        self.input_layer: Any = None
        self.summary = HTML("")
        self.downloads = HTML("")
        self.downloads.add_class("tl-downloads")
        self.project_choice = Dropdown(options=[], layout=Layout(width="auto", flex="1 1 auto",
                                                                 min_width="0"))
        self.project_button = Button(description=pick("Add to project", "添加到项目", lang),
                                     layout=Layout(width="auto"))
        self.project_button.add_class("tl-add-to-project")
        self.project_button.on_click(lambda _: self.add_to_project())
        self.project_row = HBox([self.project_choice, self.project_button],
                                layout=Layout(width="100%"))
        self.note = HTML("")
        for part in (self.summary, self.downloads, self.note):
            part.add_class("tl-wrap")  # long result names wrap inside the form
        self.summary.layout.width = self.downloads.layout.width = "100%"
        super().__init__([self.summary, self.downloads, self.project_row, self.note],
                         layout=Layout(display="none", width="100%"))
        self.add_class("tl-result")

    def show(self, records: list[Any], *, tool: str, params: Mapping[str, Any],
             map: Any = None, input_data: Any = None, input_name: str = "") -> None:
        """Show ``records`` (a job's results): links, projects, and on ``map`` the layers.

        Args:
            records: the results in my data.
            tool: the tool's name (it decides the colours and the legend).
            params: the parameters the job ran with.
            map: the form's map, or None.
            input_data: what to show under the result (a record, STAC item or
                ``"item:ID"``), or None.
            input_name: the input layer's name.
        """
        lang = self.lang
        self.records = list(records)
        self.layout.display = ""
        titles = ", ".join(html.escape(str(r.title)) for r in self.records)
        self.summary.value = (
            "<div style='overflow-wrap:anywhere'><b>" + html.escape(pick("Result", "结果", lang))
            + "</b>: " + (titles or html.escape(pick("nothing was saved", "未生成结果", lang)))
            + "</div>")
        self.downloads.value = self._links()
        self._fill_projects()
        if map is not None and self.records:
            self._draw(map, tool, params, input_data, input_name)

    def _links(self) -> str:
        try:
            from terralab.widgets import download_url
        except ImportError:
            try:
                from terralab.widgets.upload_picker import download_url
            except ImportError:  # no download bridge in this installation
                return ""
        rows = []
        for record in self.records:
            formats = DOWNLOAD_FORMATS.get(record.data_type, ((None, "file"),))
            links = " · ".join(
                f"<a href='{html.escape(download_url(record.id, format=fmt))}' "
                f"target='_blank' download class='tl-download' data-format='{fmt or ''}'>"
                f"{html.escape(label)}</a>" for fmt, label in formats)
            rows.append(f"<div style='overflow-wrap:anywhere'>⬇ "
                        f"{html.escape(str(record.title))}: {links}</div>")
        return "".join(rows)

    def _fill_projects(self) -> None:
        try:
            call = self._projects
            if call is None:
                from terralab.client.projects import list_projects as call
            projects = list(call())
        except Exception as error:
            log.warning("projects could not be listed: %s", error)
            projects = []
        self.project_choice.options = [(p.name, p.id) for p in projects]
        self.project_row.layout.display = "" if projects else "none"

    def add_to_project(self) -> None:
        """Add the results as layers of the chosen project."""
        project_id = self.project_choice.value
        if not project_id:
            return
        try:
            from terralab.client.projects import open as open_project

            project = open_project(project_id)
            for record in self.records:
                project.add_layer(record)
        except Exception as error:
            log.warning("results could not be added to project %s: %s", project_id, error)
            self.note.value = _para(pick(f"Not added: {error}", f"未能添加：{error}",
                                         self.lang), "#c0392b")
            return
        self.note.value = _para(pick(f"Added to {project.name}.", f"已添加到 {project.name}。",
                                     self.lang), "#2e7d32")

    def _draw(self, map: Any, tool: str, params: Mapping[str, Any], input_data: Any,
              input_name: str) -> None:
        lang, problems = self.lang, []
        if input_data is not None and any(r.data_type == "raster" for r in self.records):
            try:
                self.input_layer = map.add(input_data, name=input_name or "input")
            except Exception as error:
                problems.append(str(error))
        legend: dict[str, Any] | None = None

        def draw(record: Any) -> Any:
            nonlocal legend
            style, record_legend = result_style(tool, params, record, lang)
            try:
                layer = map.add(record, name=str(record.title), **style)
            except Exception as error:
                problems.append(str(error))
                return None
            self.layers.append(layer)
            legend = legend or record_legend
            return layer

        rasters = [layer for record in self.records if record.data_type == "raster"
                   if (layer := draw(record)) is not None]
        try:
            if self.input_layer is not None and rasters:
                map.swipe(self.input_layer, rasters[0])
        except Exception as error:
            problems.append(str(error))
        # polygons go on after the swipe has taken its layers out of the map's list: a layer
        # view the browser drops and draws again loses its popup with a JavaScript error
        for record in self.records:
            if record.data_type != "raster":
                draw(record)
        try:
            if legend is not None:
                map.add_legend(legend.pop("classes", None), **legend)
            bounds = next((layer.bounds for layer in rasters if getattr(layer, "bounds", None)),
                          None)
            if bounds and hasattr(map, "fit"):
                map.fit(rasters[0])
            elif bounds:
                _show_bounds(map, bounds)
        except Exception as error:
            problems.append(str(error))
        if problems:
            log.warning("the result of %s was not fully drawn: %s", tool, problems)
            self.note.value = _para(pick("Not everything could be drawn: ", "部分内容无法显示：",
                                         lang) + "; ".join(problems), "#c0392b")
