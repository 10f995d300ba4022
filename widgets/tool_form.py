"""The form of a tool, built from its parameter model: pick data, set options, Run.

In a notebook, as on the no-code lab's tool pages::

    from terralab.widgets import Map, ToolForm

    m = Map()
    form = ToolForm("index", map=m)        # lang="zh" for Chinese
    # preselect an image (what "send to tool" does)
    form.set_input("S2A_MSIL2A_20250507T023551_R089_T51RTP_20250507T061010")
    form                                   # pick, choose, press Run; the result lands on m

The form is made field by field from ``Tool.schema()``, the JSON schema of the same pydantic
model that checks a queued job (:mod:`terralab.tools.base`):

- data inputs (``terralab:input``) get pickers over my data, the catalog items the page
  hands over (:meth:`ToolForm.set_catalog_items`), the current project's layers
  (:meth:`ToolForm.set_project`) and, for vector inputs, the area drawn on the map; a pair
  of dates gets two pickers, a stack a multi-select; only what fits is offered (raster or
  vector, and the bands the tool needs: :mod:`terralab.widgets.input_pickers`);
- every other field gets the widget its type asks for (:mod:`terralab.widgets.form_fields`),
  with its help in the form's language; the fields a tool marks ``advanced`` are folded
  under "Advanced";
- every change is checked with the parameter model; its messages appear under the fields;
- **Run** queues the job (``tl.submit``) and follows it (:class:`~terralab.widgets.
  tool_result.JobView`); its results appear on the map over the input, with the swipe, the
  legend and the polygons, and can be downloaded or added to a project
  (:class:`~terralab.widgets.tool_result.ResultView`);
- a tool that cannot run here (a deep tool without an installed model,
  :func:`terralab.ai.readiness.tool_readiness`) shows why instead of a Run button.

Nothing raises into the page: problems are messages in the form, details in the log.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterable
from typing import Any

from ipywidgets import HTML, Accordion, Button, Layout, VBox
from pydantic import ValidationError

from terralab.tools.base import ADVANCED, INPUT
from terralab.tools.registry import default_registry
from terralab.widgets.form_fields import Field, FieldValueError, field_for
from terralab.widgets.i18n import language, pick, tool_title
from terralab.widgets.input_pickers import AOI, InputPicker, InputSources, MultiInputPicker
from terralab.widgets.tool_result import JobView, ResultView

__all__ = ["ToolForm", "error_message", "tool_readiness_answer"]

log = logging.getLogger(__name__)

_MAIN_INPUTS = ("image", "after", "images", "layer", "before")
_ZH_ERRORS = {
    "missing": lambda ctx: "必填项",
    "greater_than_equal": lambda ctx: f"应不小于 {ctx.get('ge')}",
    "less_than_equal": lambda ctx: f"应不大于 {ctx.get('le')}",
    "greater_than": lambda ctx: f"应大于 {ctx.get('gt')}",
    "less_than": lambda ctx: f"应小于 {ctx.get('lt')}",
    "string_pattern_mismatch": lambda ctx: f"格式不符合要求（{ctx.get('pattern')}）",
    "literal_error": lambda ctx: f"应为以下之一：{ctx.get('expected')}",
    "enum": lambda ctx: f"应为以下之一：{ctx.get('expected')}",
    "too_short": lambda ctx: f"至少需要 {ctx.get('min_length')} 项",
    "too_long": lambda ctx: f"最多 {ctx.get('max_length')} 项",
    "int_parsing": lambda ctx: "需要一个整数",
    "int_from_float": lambda ctx: "需要一个整数",
    "float_parsing": lambda ctx: "需要一个数字",
    "extra_forbidden": lambda ctx: "该工具没有这个参数",
}


def error_message(error: dict[str, Any], lang: str | None = None) -> str:
    """One pydantic validation error as the user reads it, in ``lang``."""
    chinese = _ZH_ERRORS.get(str(error.get("type")))
    text = str(error.get("msg", ""))
    if chinese is not None:
        return pick(text, chinese(error.get("ctx") or {}), lang)
    return text.removeprefix("Value error, ")


def tool_readiness_answer(name: str) -> dict[str, Any]:
    """Whether tool ``name`` can run, as the platform says (``GET tools/{name}``).

    Falls back to this process's own view of the installed models when the platform
    cannot be asked.
    """
    try:
        from terralab.client.tools import readiness

        return readiness(name)
    except Exception as error:  # the service is away: decide here, from the same rule
        log.warning("readiness of %s asked locally: %s", name, error)
        from terralab.ai.readiness import tool_readiness

        return tool_readiness(name).to_dict()


class ToolForm(VBox):
    """A tool's form: data pickers, options, validation, Run, progress and results.

    Args:
        tool_name: a registered tool (``tl.tools.list_tools()``).
        map: the map results are drawn on (and whose drawn area vector inputs may take).
        lang: ``"zh"`` or ``"en"`` (default: the user's language,
            :func:`terralab.widgets.i18n.language`).
        submit: queues a run, ``submit(tool, project=…, **params) -> Job`` (default
            ``tl.submit``).
        my_data: lists my data (default ``tl.my_data``).
        readiness: the tool's readiness answer (default: asked from the platform).
        interval: seconds between two reads of a running job.

    Raises:
        KeyError: for an unknown tool (the message lists the tools).
    """

    def __init__(self, tool_name: str, *, map: Any = None, lang: str | None = None,
                 submit: Callable[..., Any] | None = None,
                 my_data: Callable[[], Iterable[Any]] | None = None,
                 readiness: dict[str, Any] | None = None, interval: float = 1.0) -> None:
        self.tool = default_registry()[tool_name]
        self.name = tool_name
        self.map = map
        self.lang = lang or language()
        self.schema = self.tool.schema()
        self.readiness = readiness if readiness is not None else \
            tool_readiness_answer(tool_name)
        self.sources = InputSources(map=map, lang=self.lang, my_data=my_data)
        self._submit = submit
        self.project_id: str | None = None
        self.job: Any = None
        self.last_params: dict[str, Any] = {}
        self.background = True
        self._touched: set[str] = set()
        self.fields: dict[str, Field] = {}
        self.pickers: dict[str, InputPicker | MultiInputPicker] = {}
        self._build_fields()
        lang_ = self.lang
        self.header = HTML(self._header_html())
        self.header.add_class("tl-tool-header")
        self.notice = HTML("")
        self.notice.add_class("tl-form-notice")
        self.message = HTML("")
        self.message.add_class("tl-form-error")
        basic = [f for f in self.fields.values() if not f.advanced]
        advanced = [f for f in self.fields.values() if f.advanced]
        self.advanced = Accordion(children=[VBox(advanced)] if advanced else [],
                                  selected_index=None)
        if advanced:
            self.advanced.set_title(0, pick("Advanced", "高级", lang_))
        self.advanced.add_class("tl-advanced")
        self.run_button = Button(description=pick("Run", "运行", lang_), button_style="primary",
                                 layout=Layout(width="auto", height="38px"))
        self.run_button.add_class("tl-run")
        self.run_button.on_click(lambda _: self.run())
        self.job_view = JobView(lang=lang_, interval=interval)
        self.result_view = ResultView(lang=lang_)
        ready = bool(self.readiness.get("ready", True))
        if not ready:
            text = pick(self.readiness.get("message") or "", self.readiness.get("message_zh")
                        or "", lang_)
            self.notice.value = (f"<div class='tl-needs-model' style='background:#fff4e5;"
                                 f"border:1px solid #f0ad4e;padding:8px;border-radius:4px'>"
                                 f"⚠ {html.escape(text)}</div>")
        children: list[Any] = [self.header, self.notice, *basic]
        if advanced:
            children.append(self.advanced)
        children += [self.message] + ([self.run_button] if ready else []) + [
            self.job_view, self.result_view]
        super().__init__(children, layout=Layout(width="100%"))
        self.add_class("tl-tool-form")
        self.add_class(f"tl-tool-{tool_name}")
        self._refresh_bands()
        if self.sources.problems:
            self._show_general(self.sources.problems)

    # ------------------------------------------------------------------ building
    def _header_html(self) -> str:
        info, lang = self.tool.info, self.lang
        parts = [f"<h3 style='margin:4px 0'>{html.escape(tool_title(info, lang))}</h3>"]
        purpose = pick(info.description, getattr(info, "description_zh", ""), lang)
        if purpose:
            parts.append(f"<div class='tl-tool-purpose'>{html.escape(purpose)}</div>")
        if info.resolution:
            low, high = info.resolution
            parts.append("<div class='tl-tool-resolution' style='color:#555;font-size:12px'>"
                         + html.escape(pick(f"Suggested input resolution: {low:g}–{high:g} m",
                                            f"建议输入分辨率：{low:g}–{high:g} 米", lang))
                         + "</div>")
        return "".join(parts)

    def _build_fields(self) -> None:
        required = set(self.schema.get("required") or [])
        properties = self.schema.get("properties") or {}
        ordered = sorted(properties, key=lambda n: (INPUT not in properties[n],
                                                    bool(properties[n].get(ADVANCED))))
        for name in ordered:
            field_schema = properties[name]
            kind = field_schema.get(INPUT)
            if kind in ("raster", "vector"):
                picker: InputPicker | MultiInputPicker = InputPicker(self.sources, kind,
                                                                     lang=self.lang)
            elif kind == "rasters":
                picker = MultiInputPicker(self.sources, "raster", lang=self.lang)
            else:
                self.fields[name] = field_for(name, field_schema, required=name in required,
                                              lang=self.lang)
                self._watch(name, self.fields[name].widget)
                if self.fields[name].auto is not None:
                    self._watch(name, self.fields[name].auto)
                continue
            self.pickers[name] = picker
            read = (lambda v: list(v) or None) if kind == "rasters" else (lambda v: v or None)
            self.fields[name] = Field(name, field_schema, required=name in required,
                                      lang=self.lang, widget=picker, read=read,
                                      write=lambda v: v if v is not None else "")
            self.fields[name].children = (*self.fields[name].children, picker.hint)
            self._watch(name, picker)

    def _watch(self, name: str, widget: Any) -> None:
        def changed(_: dict[str, Any]) -> None:
            self._touched.add(name)
            self._refresh_bands()
            self.validate()

        widget.observe(changed, "value")

    def _refresh_bands(self) -> None:
        values = {}
        for name, field in self.fields.items():
            if name not in self.pickers:
                try:
                    values[name] = field.value()
                except FieldValueError:
                    continue
        try:
            required = tuple(self.tool.required_bands(values))
        except Exception:  # a plug-in's rule must not break the form
            log.exception("required_bands of %s failed", self.name)
            required = ()
        for picker in self.pickers.values():
            if picker.kind == "raster" and picker.required != required:
                picker.refresh(required)

    # ------------------------------------------------------------------ the data
    def set_catalog_items(self, items: Any) -> None:
        """Offer these catalog items (a search result, pystac Items or STAC dicts)."""
        self.sources.set_catalog_items(items)
        self._refresh_pickers()

    def set_project(self, project_id: str | None) -> None:
        """Offer this project's layers; runs are recorded in it (None: no project)."""
        self.sources.set_project(project_id)
        self.project_id = self.sources.project_id if project_id else None
        self._refresh_pickers()

    def refresh(self) -> None:
        """Read my data and the project's layers again."""
        self.sources.refresh()
        self._refresh_pickers()

    def _refresh_pickers(self) -> None:
        for picker in self.pickers.values():
            picker.refresh()

    def set_input(self, item_id: str, name: str | None = None) -> bool:
        """Preselect ``item_id`` in input ``name`` (default: the first input it fits).

        Returns:
            True when an input took it.
        """
        if self.sources.find(item_id) is None and self.sources.offer_neighbours(item_id):
            self._refresh_pickers()  # a pair's other date, a stack's other scenes
        names = [name] if name else list(self.pickers)
        for candidate in names:
            picker = self.pickers.get(candidate)
            if picker is not None and picker.select(item_id):
                return True
        return False

    def set_value(self, name: str, value: Any) -> None:
        """Set parameter ``name`` (an input: the item id, or ids of a stack)."""
        picker = self.pickers.get(name)
        if picker is None:
            self.fields[name].set(value)
            return
        for ref in [value] if isinstance(value, str) else list(value):
            picker.select(ref)

    # ------------------------------------------------------------------ checking
    def values(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The parameters as set now (defaults left out), and the fields' reading errors."""
        params: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for name, field in self.fields.items():
            try:
                value = field.value()
            except FieldValueError as error:
                errors[name] = pick(*error.args[:2], self.lang) if len(error.args) > 1 \
                    else str(error)
                continue
            if value == AOI:
                value = self.sources.aoi()
                if value is None:
                    errors[name] = pick("Draw an area on the map first",
                                        "请先在地图上绘制区域", self.lang)
                    continue
            if value is None or (value == field.default and name not in self.pickers):
                continue
            params[name] = value
        return params, errors

    def validate(self, *, everything: bool = False) -> dict[str, Any] | None:
        """Check the parameters with the tool's model; show the messages under the fields.

        Args:
            everything: show every field's message (Run); otherwise only those of the fields
                changed so far.

        Returns:
            The parameters when they are valid, else None.
        """
        params, errors = self.values()
        general: list[str] = []
        try:
            self.tool.Params.model_validate(params)
        except ValidationError as error:
            for problem in error.errors():
                loc = problem.get("loc") or ()
                name = str(loc[0]) if loc else ""
                text = error_message(problem, self.lang)
                if name in self.fields:
                    errors.setdefault(name, text)
                else:
                    general.append(text)
        for name, field in self.fields.items():
            shown = everything or name in self._touched
            field.show_error(errors.get(name) if shown else None)
        if everything or general:
            self._show_general(general)
        return params if not errors and not general else None

    def _show_general(self, messages: list[str]) -> None:
        self.message.value = "".join(
            f"<div style='color:#c0392b'>{html.escape(text)}</div>" for text in messages)

    @property
    def errors(self) -> dict[str, str]:
        """The messages shown under the fields now, by parameter."""
        return {name: field.error_text for name, field in self.fields.items()
                if field.error_text}

    # ------------------------------------------------------------------ running
    def run(self) -> Any:
        """Check the parameters and queue the run; returns the job, or None."""
        if not self.readiness.get("ready", True):
            return None
        params = self.validate(everything=True)
        if params is None:
            return None
        submit = self._submit
        if submit is None:
            from terralab.client.queue import submit
        self.run_button.disabled = True
        try:
            job = submit(self.name, project=self.project_id, **params)
        except Exception as error:  # a refusal (quota, queue, parameters) is a message
            log.warning("%s could not be queued: %s", self.name, error)
            self.run_button.disabled = False
            self._show_general([pick("Not started: ", "未能启动：", self.lang)
                                + str(error.args[0] if error.args else error)])
            return None
        self.job, self.last_params = job, params
        self.result_view.layout.display = "none"
        self.job_view.follow(job, self._finished, background=self.background)
        return job

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the running job has been followed to its end (tests, scripts)."""
        self.job_view.join(timeout)

    def _finished(self, job: Any) -> None:
        self.run_button.disabled = False
        if str(job.status) != "succeeded":
            return
        records = list(job.results)
        data, label = self._main_input()
        self.result_view.show(records, tool=self.name, params=self.last_params, map=self.map,
                              input_data=data, input_name=label)

    def _main_input(self) -> tuple[Any, str]:
        names = [n for n in _MAIN_INPUTS if n in self.pickers] + list(self.pickers)
        for name in names:
            ref = self.last_params.get(name)
            if isinstance(ref, list):
                ref = ref[-1] if ref else None
            if not isinstance(ref, str) or ref == AOI:
                continue
            choice = self.sources.find(ref)
            label = pick("Input", "输入", self.lang) + f": {choice.label if choice else ref}"
            if choice is not None and choice.data is not None:
                return choice.data, label
            return f"item:{ref}", label
        return None, ""
