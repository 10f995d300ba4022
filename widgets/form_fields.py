"""One widget per parameter of a tool, from the field's JSON schema (the tool form's parts).

:func:`field_for` picks the widget by what the schema says:

==========================================  ==================================================
the field                                   the widget
==========================================  ==================================================
``enum``, or a pattern ``^(a|b)$``          ``Dropdown``
integer / number with both bounds           ``IntSlider`` / ``FloatSlider`` (a
                                            ``BoundedFloatText`` when the default falls
                                            between a slider's steps)
integer / number with one bound, or none     ``IntText`` / ``FloatText``: a value out of
                                            range is not changed silently, its message
                                            shows under the field
boolean                                     ``Checkbox``
string                                      ``Text``
list, object, or several types              ``Text`` holding JSON (a list of words or numbers
                                            may also be written ``a, b, c``)
optional (default null)                     the same, with an "auto" checkbox: checked, the
                                            tool decides (``None``)
==========================================  ==================================================

Each :class:`Field` shows its title, the help in the form's language, and an error line
under the widget that the form fills from the parameter model's validation.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from ipywidgets import (
    HTML,
    BoundedFloatText,
    Checkbox,
    Dropdown,
    FloatSlider,
    FloatText,
    HBox,
    IntSlider,
    IntText,
    Layout,
    Text,
    VBox,
    Widget,
)

from terralab.widgets.i18n import field_help, pick

__all__ = ["Field", "FieldValueError", "field_for", "field_title", "unwrap"]

_CHOICES = re.compile(r"^\^\(?([\w+.-]+(?:\|[\w+.-]+)+)\)?\$$")


class FieldValueError(ValueError):
    """A field's text cannot be read as a value (bad JSON …).

    ``args`` are the English and the Chinese message.
    """


def unwrap(schema: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The field's own schema without ``null`` from ``anyOf``, and whether null is allowed."""
    options = schema.get("anyOf")
    if not options:
        return schema, False
    kept = [option for option in options if option.get("type") != "null"]
    nullable = len(kept) < len(options)
    inner = dict(kept[0]) if len(kept) == 1 else {"anyOf": kept}
    for key in ("default", "description", "help_zh", "title"):
        if key in schema:
            inner.setdefault(key, schema[key])
    return inner, nullable


def field_title(name: str, schema: dict[str, Any]) -> str:
    """The field's title (pydantic's, else its name with spaces)."""
    return str(schema.get("title") or name.replace("_", " ").capitalize())


def _step(low: float, high: float) -> float:
    return 10.0 ** math.floor(math.log10((high - low) / 100)) if high > low else 0.01


class Field(VBox):
    """One parameter's row: title, widget (with "auto" when optional), help, error line.

    Args:
        name: the parameter's name.
        schema: its JSON schema (from the tool's parameter model).
        required: True when the model has no default for it.
        lang: the language of the labels and help.
        widget: the value widget (None: made from the schema).
        read: turns the widget's value into the parameter's (default: as it is).
        write: turns a parameter's value into the widget's (default: as it is).
    """

    def __init__(self, name: str, schema: dict[str, Any], *, required: bool = False,
                 lang: str | None = None, widget: Widget | None = None,
                 read: Callable[[Any], Any] | None = None,
                 write: Callable[[Any], Any] | None = None) -> None:
        self.name, self.schema, self.required, self.lang = name, schema, required, lang
        self.inner, self.nullable = unwrap(schema)
        self.default = schema.get("default")
        self.advanced = bool(schema.get("terralab:advanced"))
        self.widget = widget if widget is not None else _widget(self.inner)
        self.widget.add_class("tl-field-widget")
        self._read = read or _reader(self.widget, self.inner)
        self._write = write or _writer(self.widget, self.inner)
        self.auto: Checkbox | None = None
        title = HTML(f"<b>{field_title(name, schema)}</b>"
                     + (" <span style='color:#c0392b'>*</span>" if required else ""))
        row: list[Widget] = [self.widget]
        if self.nullable and self.default is None:
            self.auto = Checkbox(value=True, description=pick("auto", "自动", lang),
                                 indent=False, layout=Layout(width="80px"))
            self.auto.observe(self._on_auto, "value")
            self.widget.disabled = True
            row = [self.widget, self.auto]
        elif self.default is not None and not required:
            self.set(self.default)
        help_text = field_help(schema, lang)
        self.help = HTML(f"<div class='tl-field-help' style='color:#666;font-size:12px;"
                         f"line-height:1.3'>{_escape(help_text)}</div>")
        self.error = HTML("", layout=Layout(display="none"))
        self.error.add_class("tl-field-error")
        body = HBox(row, layout=Layout(width="100%", align_items="center"))
        super().__init__([title, body, self.help, self.error],
                         layout=Layout(width="100%", margin="0 0 8px 0"))
        self.add_class("tl-field")
        self.add_class(f"tl-field-{name}")

    def _on_auto(self, change: dict[str, Any]) -> None:
        self.widget.disabled = bool(change["new"])

    @property
    def is_auto(self) -> bool:
        """True when "auto" is checked (the tool decides)."""
        return self.auto is not None and self.auto.value

    def value(self) -> Any:
        """The parameter's value (None for "auto"); raises :class:`FieldValueError`."""
        if self.is_auto:
            return None
        return self._read(self.widget.value)

    def set(self, value: Any) -> None:
        """Show ``value`` (None: "auto" when the field has it)."""
        if value is None and self.auto is not None:
            self.auto.value = True
            return
        if self.auto is not None:
            self.auto.value = False
        self.widget.value = self._write(value)

    def show_error(self, message: str | None) -> None:
        """Show ``message`` under the widget (None: clear it)."""
        if message:
            self.error.value = (f"<div style='color:#c0392b;font-size:12px'>"
                                f"{_escape(message)}</div>")
            self.error.layout.display = ""
        else:
            self.error.value = ""
            self.error.layout.display = "none"

    @property
    def error_text(self) -> str:
        """The error shown now ('' when none)."""
        return re.sub(r"<[^>]+>", "", self.error.value)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _choices(schema: dict[str, Any]) -> list[Any] | None:
    if "enum" in schema:
        return list(schema["enum"])
    match = _CHOICES.match(str(schema.get("pattern", ""))) if schema.get("type") == "string" \
        else None
    return match.group(1).split("|") if match else None


def _bounds(schema: dict[str, Any]) -> tuple[float | None, float | None, bool, bool]:
    low, high = schema.get("minimum"), schema.get("maximum")
    low_open = high_open = False
    if low is None and "exclusiveMinimum" in schema:
        low, low_open = schema["exclusiveMinimum"], True
    if high is None and "exclusiveMaximum" in schema:
        high, high_open = schema["exclusiveMaximum"], True
    return low, high, low_open, high_open


def _widget(schema: dict[str, Any]) -> Widget:
    """The value widget for a (non-null) field schema."""
    wide = Layout(width="auto", flex="1 1 auto", min_width="0")
    choices = _choices(schema)
    if choices is not None:
        return Dropdown(options=choices, value=schema.get("default", choices[0])
                        if schema.get("default") in choices else choices[0], layout=wide)
    kind = schema.get("type")
    if kind == "boolean":
        return Checkbox(value=bool(schema.get("default", False)), indent=False)
    if kind in ("integer", "number"):
        return _number(schema, integer=kind == "integer")
    if kind == "string":
        return Text(value="", layout=wide)
    return Text(value="", placeholder="JSON", layout=wide)


def _number(schema: dict[str, Any], *, integer: bool) -> Widget:
    wide = Layout(width="auto", flex="1 1 auto", min_width="0")
    low, high, low_open, high_open = _bounds(schema)
    default = schema.get("default")
    if integer:
        low = None if low is None else int(low) + (1 if low_open else 0)
        high = None if high is None else int(high) - (1 if high_open else 0)
        start = default if isinstance(default, int) else (low if low is not None else 0)
        if low is not None and high is not None:
            start = default if isinstance(default, int) else (low + high) // 2
            return IntSlider(value=start, min=low, max=high, step=1, layout=wide,
                             continuous_update=False)
        return IntText(value=start, layout=wide)
    start = float(default) if isinstance(default, int | float) else None
    if low is not None and high is not None:
        step = _step(float(low), float(high))
        low_shown = float(low) + (step if low_open else 0)
        high_shown = float(high) - (step if high_open else 0)
        value = start if start is not None else round(
            (low_shown + high_shown) / 2 / step) * step  # an optional field starts midway
        on_step = abs(round((value - low_shown) / step) * step - (value - low_shown)) < step / 1e3
        if on_step and low_shown <= value <= high_shown:
            digits = max(0, -math.floor(math.log10(step)))
            return FloatSlider(value=value, min=low_shown, max=high_shown, step=step,
                               readout_format=f".{digits}f", layout=wide,
                               continuous_update=False)
        return BoundedFloatText(value=value, min=float(low), max=float(high), layout=wide)
    if start is None:
        start = float(low) if low is not None else float(high) if high is not None else 0.0
    return FloatText(value=start, layout=wide)


def _reader(widget: Widget, schema: dict[str, Any]) -> Callable[[Any], Any]:
    if isinstance(widget, Text) and not _is_plain_string(schema):
        return lambda text: _parse_json(text, schema)
    if isinstance(widget, Text):
        return lambda text: text if text != "" else None
    return lambda value: value


def _writer(widget: Widget, schema: dict[str, Any]) -> Callable[[Any], Any]:
    if isinstance(widget, Text) and not _is_plain_string(schema):
        return lambda value: "" if value is None else json.dumps(value, ensure_ascii=False)
    if isinstance(widget, Text):
        return lambda value: "" if value is None else str(value)
    return lambda value: value


def _is_plain_string(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "string"


def _parse_json(text: str, schema: dict[str, Any]) -> Any:
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    if schema.get("type") == "array" and not text.startswith(("[", "{")):
        items = [part.strip() for part in text.split(",") if part.strip()]
        item_type = (schema.get("items") or {}).get("type")
        try:
            if item_type == "integer":
                return [int(part) for part in items]
            if item_type == "number":
                return [float(part) for part in items]
        except ValueError:
            raise FieldValueError(f"not a list of numbers: {text}",
                                  f"不是数字列表：{text}") from None
        return items
    if "anyOf" in schema and any(o.get("type") == "string" for o in schema["anyOf"]):
        return text  # a field taking text or JSON: this is text
    raise FieldValueError(f"not valid JSON: {text}", f"不是有效的 JSON：{text}")


def field_for(name: str, schema: dict[str, Any], *, required: bool = False,
              lang: str | None = None) -> Field:
    """The :class:`Field` of a (non-input) parameter from its JSON schema."""
    return Field(name, schema, required=required, lang=lang)
