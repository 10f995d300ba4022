"""The tool form built from the registry, without a browser, in both languages.

Every registered tool gets a form (a plug-in's too): a widget per field by kind, expert
fields folded under "Advanced", help in the form's language, messages under the fields, Run
queueing the job with the chosen parameters, and no Run for a tool without its model.
"""

from __future__ import annotations

import html
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ipywidgets import (
    BoundedFloatText,
    Checkbox,
    Dropdown,
    FloatSlider,
    FloatText,
    IntSlider,
    IntText,
    Text,
)

from terralab.tools.base import ADVANCED, INPUT
from terralab.tools.registry import default_registry
from terralab.widgets.form_fields import unwrap
from terralab.widgets.i18n import field_help
from terralab.widgets.input_pickers import AOI, InputPicker, MultiInputPicker
from terralab.widgets.tool_form import ToolForm
from terralab.widgets.tool_page import build, show_tool_page
from terralab.widgets.tool_result import JobView, result_style
from tests.kernels_lib.job_tools import plugin_site

TOOLS = sorted(default_registry())
S2 = {"type": "Feature", "id": "s2-scene", "collection": "sentinel-2-l2a",
      "bbox": [119.9, 30.5, 120.0, 30.6],
      "properties": {"datetime": "2024-06-01T02:00:00Z", "eo:cloud_cover": 12.0},
      "assets": {key: {"href": f"/nowhere/{key}.tif"} for key in
                 ("B02", "B03", "B04", "B08", "B11", "B12", "SCL", "visual")}}
S1 = {"type": "Feature", "id": "s1-scene", "collection": "sentinel-1-grd",
      "bbox": [119.9, 30.5, 120.0, 30.6], "properties": {"datetime": "2024-06-02T10:00:00Z"},
      "assets": {"vv": {"href": "/nowhere/vv.tif"}, "vh": {"href": "/nowhere/vh.tif"}}}


@dataclass
class Record:
    """What ``tl.my_data()`` lists (the fields the form reads)."""

    id: str
    title: str
    data_type: str = "raster"
    kind: str = "upload"
    owner: str = "alice"
    folder: str = "uploads"
    item: dict[str, Any] = field(default_factory=dict)


MY_DATA = [Record("field-1", "field.tif"), Record("field-2", "field 2024.tif"),
           Record("parcels-1", "parcels.gpkg", "vector")]


class Submitted:
    """A stand-in for ``tl.submit`` that records its calls and answers a finished job."""

    def __init__(self, results: list[Any] | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.results = results or []

    def __call__(self, tool: str, /, **params: Any) -> FakeJob:
        self.calls.append((tool, params))
        return FakeJob(self.results)


@dataclass
class Standing:
    position: int = 2
    jobs_ahead: int = 1
    running: int = 1
    workers: int = 1
    workers_busy: int = 1


class FakeJob:
    """A job as ``tl.submit`` returns it: finished at once unless told otherwise."""

    def __init__(self, results: list[Any], status: str = "succeeded") -> None:
        self.id, self.results, self.cancelled = "job-1", results, False
        self.record = type("R", (), {})()
        self.record.status, self.record.progress = status, 100.0 if status == "succeeded" else 0
        self.record.standing = Standing() if status == "queued" else None
        self.record.log = "started\n"
        self.message = ""

    @property
    def status(self) -> str:
        return self.record.status

    def refresh(self) -> FakeJob:
        return self

    def cancel(self) -> FakeJob:
        self.cancelled = True
        self.record.status, self.record.standing = "cancelled", None
        return self


def form(name: str, lang: str = "en", **options: Any) -> ToolForm:
    options.setdefault("my_data", lambda: MY_DATA)
    built = ToolForm(name, lang=lang, **options)
    built.background = False  # follow the job in the test's thread
    return built


def _kind_of(widget: Any, schema: dict[str, Any]) -> None:
    """Check that the field's widget is the one its schema asks for."""
    inner, _ = unwrap(schema)
    low = inner.get("minimum", inner.get("exclusiveMinimum"))
    high = inner.get("maximum", inner.get("exclusiveMaximum"))
    if "enum" in inner:
        assert isinstance(widget, Dropdown) and list(widget.options) == inner["enum"]
    elif inner.get("type") == "boolean":
        assert isinstance(widget, Checkbox)
    elif inner.get("type") == "integer":
        assert isinstance(widget, IntSlider if low is not None and high is not None
                          else IntText)
    elif inner.get("type") == "number":
        both = low is not None and high is not None
        assert isinstance(widget, (FloatSlider, BoundedFloatText) if both else FloatText)
        if both:
            assert widget.min >= low and widget.max <= high
    elif inner.get("type") == "string" and "pattern" in inner and "|" in inner["pattern"]:
        assert isinstance(widget, Dropdown)
    else:
        assert isinstance(widget, Text)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", TOOLS)
def test_every_registered_tool_gets_its_form(name: str, lang: str) -> None:
    tool = default_registry()[name]
    schema = tool.schema()
    submit = Submitted()
    built = form(name, lang, submit=submit)
    assert set(built.fields) == set(schema["properties"])
    folded = set(built.advanced.children[0].children) if built.advanced.children else set()
    for key, field_schema in schema["properties"].items():
        item = built.fields[key]
        kind = field_schema.get(INPUT)
        if kind == "rasters":
            assert isinstance(built.pickers[key], MultiInputPicker)
        elif kind:
            assert isinstance(built.pickers[key], InputPicker) and built.pickers[key].kind == kind
        else:
            _kind_of(item.widget, field_schema)
            if "anyOf" in field_schema and field_schema.get("default", 0) is None:
                assert item.auto is not None and item.auto.value and item.value() is None
        # expert fields folded under "Advanced", the others in view
        assert (item in folded) == bool(field_schema.get(ADVANCED)), key
        assert (item in built.children) == (not field_schema.get(ADVANCED)), key
        assert field_help(field_schema, lang) in html.unescape(item.help.value)
    if folded:
        assert built.advanced.get_title(0) == ("高级" if lang == "zh" else "Advanced")
        assert built.advanced.selected_index is None  # folded
    ready = not getattr(tool, "needs_model", False)
    assert (built.run_button in built.children) is ready
    assert built.run_button.description == ("运行" if lang == "zh" else "Run")
    if not ready:
        assert ("需要模型" if lang == "zh" else "needs a model") in built.notice.value
        assert built.run() is None and not submit.calls
        return
    # Run with nothing chosen: the message is in the form, nothing is queued
    assert built.run() is None and not submit.calls
    required_input = next((k for k in schema.get("required", []) if k in built.pickers), None)
    if required_input and name != "change_detection":  # its own check speaks first
        missing = "必填项" if lang == "zh" else "Field required"
        assert built.fields[required_input].error_text == missing
    else:
        assert built.message.value or built.errors
    # with the data chosen, an out-of-range value gets its message under its field
    rasters = iter(["field-1", "field-2"])
    for key, picker in built.pickers.items():
        ref = "parcels-1" if picker.kind == "vector" else next(rasters)
        built.set_value(key, [ref] if isinstance(picker, MultiInputPicker) else ref)
    for key, item in built.fields.items():
        inner, _ = unwrap(schema["properties"][key])
        if isinstance(item.widget, (IntText, FloatText)) and "minimum" in inner:
            item.set(inner["minimum"] - 1)
            assert ("应不小于" if lang == "zh" else "greater than or equal") in \
                built.errors[key]
            break


def test_a_valid_form_queues_the_run_with_the_chosen_parameters(tmp_path: Path) -> None:
    submit = Submitted()
    built = form("index", submit=submit)
    built.set_catalog_items([S2, S1])
    assert built.set_input("s2-scene")
    built.fields["index"].set("ndwi")
    built.fields["savi_l"].set(0.25)
    assert built.run() is not None
    assert submit.calls == [("index", {"project": None, "image": "s2-scene", "index": "ndwi",
                                       "savi_l": 0.25})]
    assert built.errors == {}
    assert built.job_view.status.value and "Done" in built.job_view.status.value


def test_the_run_is_recorded_in_the_current_project() -> None:
    import terralab as tl

    project = tl.projects.create("Deqing study")
    submit = Submitted()
    built = form("index", submit=submit)
    built.set_project(project.id)
    built.set_input("field-1")
    built.run()
    assert submit.calls[0][1]["project"] == project.id


def test_pickers_offer_what_fits_the_tool() -> None:
    ndvi = form("index")
    ndvi.set_catalog_items([S2, S1])
    offered = [ref for _, ref in ndvi.pickers["image"].options]
    assert offered == ["", "field-1", "field-2", "s2-scene"]  # no radar image, no vector
    assert ndvi.pickers["image"].options[0][0] == "— choose —"
    assert ndvi.pickers["image"].hint.layout.display == "none"
    empty = form("index", "zh", my_data=lambda: [])
    assert empty.pickers["image"].hint.layout.display == ""  # says where data comes from
    assert "数据" in empty.pickers["image"].hint.value
    assert empty.pickers["image"].hint in empty.fields["image"].children
    water = form("sar_water", "zh")
    water.set_catalog_items([S2, S1])
    assert [ref for _, ref in water.pickers["image"].options] == ["", "field-1", "field-2",
                                                                  "s1-scene"]
    assert water.pickers["image"].options[3][0].startswith("目录 · s1-scene")
    assert not water.set_input("s2-scene")  # an optical image does not fit
    # the bands follow the parameters: with a band map any image will do
    water.fields["vv_band"].set(1)
    assert "s2-scene" in [ref for _, ref in water.pickers["image"].options]


def test_a_vector_input_takes_my_vectors_or_the_area_drawn_on_the_map() -> None:
    from terralab.widgets import Map

    m = Map()
    clip = form("clip", map=m, submit=Submitted())
    assert [ref for _, ref in clip.pickers["area"].options] == ["", "parcels-1", AOI]
    clip.set_input("field-1")
    clip.pickers["area"].value = AOI
    assert clip.run() is None
    assert clip.errors["area"] == "Draw an area on the map first"
    square = {"type": "Polygon", "coordinates": [[[120, 30], [120.1, 30], [120.1, 30.1],
                                                  [120, 30.1], [120, 30]]]}
    m.draw_control._handle_leaflet_event(
        None, {"event": "draw:created", "geo_json": {"type": "Feature", "properties": {},
                                                     "geometry": square}}, None)
    assert clip.run() is not None
    assert clip._submit.calls[0][1]["area"]["type"] == "Polygon"


def test_a_stack_and_a_pair_of_dates() -> None:
    pair = form("change_detection")
    assert {"before", "after"} <= set(pair.pickers)
    mosaic = form("mosaic", submit=Submitted())
    mosaic.set_catalog_items([S2, S1])
    mosaic.set_value("images", ["s1-scene", "s2-scene"])
    mosaic.run()
    assert mosaic._submit.calls[0][1]["images"] == ["s1-scene", "s2-scene"]


def test_messages_come_from_the_parameter_model_in_the_language() -> None:
    math = form("band_math", "zh", submit=Submitted())
    math.set_input("field-1")
    math.fields["expression"].set("(nir - red) / (nir + red)")
    math.fields["band_name"].set("NDVI!")  # the pattern wants lower-case words
    assert math.run() is None
    assert "格式不符合要求" in math.errors["band_name"]
    math.fields["band_name"].set("ndvi")
    assert "band_name" not in math.errors  # checked again on change
    math.fields["band_map"].set(None)
    math.fields["band_map"].auto.value = False
    math.fields["band_map"].widget.value = "{nir: 4"
    assert "不是有效的 JSON" in (math.validate(everything=True) or math.errors["band_map"])
    math.fields["band_map"].widget.value = '{"nir": 4, "red": 1}'
    assert math.run() is not None
    assert math._submit.calls[0][1]["band_map"] == {"nir": 4, "red": 1}


def test_a_refused_submission_is_a_message_not_an_exception() -> None:
    from terralab.queue.errors import JobLimitReached

    def refuse(tool: str, /, **params: Any) -> Any:
        raise JobLimitReached("you have 2 jobs queued or running; the limit is 2",
                              active=2, limit=2)

    built = form("dehazing", submit=refuse)
    built.set_input("field-1")
    assert built.run() is None
    assert "the limit is 2" in built.message.value
    assert not built.run_button.disabled


def test_a_waiting_job_shows_its_place_and_can_be_cancelled() -> None:
    view = JobView(lang="zh")
    job = FakeJob([], status="queued")
    done = threading.Event()
    view.follow(job, lambda _: done.set(), background=False)
    assert "排队位置：第 2 位" in view.status.value and "前面 1 个任务" in view.status.value
    view.cancel_button.click()
    assert job.cancelled and "已取消" in view.status.value and done.is_set()
    assert view.cancel_button.disabled


@pytest.fixture
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The queue tests' tools installed as a plug-in (entry point ``terralab.tools``)."""
    import terralab.tools.registry as registry

    site = plugin_site(tmp_path_factory.mktemp("plugin-site"))
    sys.path.insert(0, str(site))
    registry._default = None
    yield
    sys.path.remove(str(site))
    registry._default = None


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_plug_in_tool_gets_a_form_and_runs_on_the_queue(plugin, lang, monkeypatch) -> None:
    import terralab.widgets
    from terralab.widgets import Map

    monkeypatch.setattr(terralab.widgets, "download_url",
                        lambda item, format=None: f"/dl/{item}?format={format}", raising=False)
    assert "test_quick_fill" in default_registry()
    m = Map()
    built = ToolForm("test_quick_fill", map=m, lang=lang, my_data=lambda: [])
    assert isinstance(built.fields["value"].widget, FloatText)
    assert isinstance(built.fields["fail"].widget, Checkbox)
    built.fields["value"].set(7.0)
    job = built.run()  # the real queue, run by this process's worker thread
    assert job is not None
    built.wait(60)
    assert job.status == "succeeded"
    assert built.job_view.bar.value == 100
    records = built.result_view.records
    assert len(records) == 1 and records[0].data_type == "raster"
    names = [layer.name for layer in built.result_view.layers]
    assert names == [records[0].title]
    links = built.result_view.downloads.value
    assert f"/dl/{records[0].id}?format=geotiff" in links and "format=cog" in links
    # failing: the message, no result
    built.fields["fail"].set(True)
    failed = built.run()
    built.wait(60)
    assert failed.status == "failed" and "failing as asked" in built.job_view.status.value


def test_a_result_lands_on_the_map_over_its_input_with_swipe_and_legend(monkeypatch) -> None:
    import terralab.widgets
    from terralab.widgets import Map, Swipe
    from terralab.widgets.legend import Legend

    monkeypatch.setattr(terralab.widgets, "download_url",
                        lambda item, format=None: f"/dl/{item}?format={format}", raising=False)
    ndvi = Record("ndvi-1", "ndvi of s2-scene", kind="result",
                  item={"id": "ndvi-1", "collection": "my-data", "bbox": [119.9, 30.5, 120, 30.6],
                        "assets": {"data": {"href": "ndvi.tif", "eo:bands": [{"name": "ndvi"}]}}})
    m = Map()
    built = form("index", map=m, submit=Submitted([ndvi]))
    built.set_catalog_items([S2])
    built.set_input("s2-scene")
    built.run()
    view = built.result_view
    assert view.input_layer is not None and view.input_layer.name == "Input: " + \
        "s2-scene (sentinel-2-l2a, 2024-06-01, ☁ 12%)"
    assert [layer.name for layer in view.layers] == ["ndvi of s2-scene"]
    assert "colormap=rdylgn" in view.layers[0].url and "rescale=-1" in view.layers[0].url
    swipe = next(c for c in m.controls if isinstance(c, Swipe))
    assert swipe.layers == (view.input_layer, view.layers[0])
    assert any(isinstance(c, Legend) and "NDVI" in c.html.value for c in m.controls)
    assert m.zoom > 8  # opened on the result
    assert "format=geotiff" in view.downloads.value


def test_result_styles() -> None:
    water = Record("w", "water", kind="result",
                   item={"assets": {"data": {"eo:bands": [{"name": "water"}]}}})
    style, legend = result_style("sar_water", {}, water, "zh")
    assert style["bands"] == "1" and style["colormap"] and legend["classes"][1][0] == "水体"
    polygons = Record("p", "water (polygons)", data_type="vector")
    assert result_style("sar_water", {}, polygons)[1] is None


def test_the_tool_page_reads_its_query(monkeypatch) -> None:
    from terralab.widgets.pages.shell import Shell

    shell = Shell("tool", lang="zh", header=False)
    page = build(shell, {"tool": "index", "input": "s2-scene"}, my_data=lambda: [])
    assert shell.content.children == (page,)
    assert page.form.name == "index" and page.form.lang == "zh"
    assert page.form.pickers["image"].value == "s2-scene"
    assert page.map.layout.height == "640px"
    assert page.children[0].layout.width == "380px"
    monkeypatch.setenv("QUERY_STRING", "tool=sar_water&item=s2-scene")
    other = Shell("tool", lang="en", header=False)
    water = build(other, my_data=lambda: [])
    assert water.form.name == "sar_water" and water.form.pickers["image"].value == "s2-scene"


def test_an_unknown_tool_lists_the_tools_and_a_failure_is_a_message(monkeypatch) -> None:
    from terralab.widgets.pages.shell import Shell

    shell = Shell("tool", lang="en", header=False)
    unknown = build(shell, {"tool": "nope"})
    assert "There is no tool &#x27;nope&#x27;" in unknown.value
    assert "tool.ipynb?tool=index" in unknown.value
    import terralab.widgets.tool_form as tool_form

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(tool_form, "ToolForm", broken)
    monkeypatch.setenv("QUERY_STRING", "tool=index")
    failed = show_tool_page()
    assert "server" in failed.notice.value and "disk is full" not in failed.notice.value
    assert failed.signal.ready
