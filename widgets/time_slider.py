"""The time slider: one raster layer whose source steps through a stack of dates.

::

    found = tl.search(admin="德清县", collections="sentinel-2-l2a")
    m.add_time_slider(found.items, bands="B08,B04,B03", rescale="0,0.3")

Each frame is made the way ``m.add`` makes a raster layer (so items, my-data records,
tool results, paths and DataArrays all work); the shown layer then takes the frame's URL,
bounds and source, so the pixel inspector reads the date on screen. The slider is an
``ipywidgets.SelectionSlider`` of the dates with a ``Play`` button.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from ipyleaflet import TileLayer, WidgetControl
from ipywidgets import HBox, Layout, Play, SelectionSlider

from terralab.widgets.layer_manager import PlainTextRepr

__all__ = ["Frame", "TimeSlider", "frame_date"]

_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


class Frame(NamedTuple):
    """One date of the stack: its label and the raster layer made for it."""

    label: str
    layer: TileLayer


def _properties(obj: Any) -> Mapping[str, Any]:
    if hasattr(obj, "record") and hasattr(obj, "tool"):  # a tool result
        obj = obj.record if obj.record is not None else obj.data
    if hasattr(obj, "properties") and isinstance(obj.properties, Mapping):  # pystac Item
        return obj.properties
    item = getattr(obj, "item", None)
    if isinstance(item, Mapping):  # a my-data record
        return item.get("properties") or {}
    if isinstance(obj, Mapping):
        return obj.get("properties") or {}
    return {}


def frame_date(obj: Any) -> str | None:
    """The date (``YYYY-MM-DD``) of an item, record, DataArray or dated file name, or None."""
    when = getattr(obj, "datetime", None)  # a pystac Item keeps it out of .properties
    if hasattr(when, "date"):
        return when.date().isoformat()
    props = _properties(obj)
    stamp = props.get("datetime") or props.get("start_datetime")
    if stamp:
        return str(stamp)[:10]
    if type(obj).__name__ == "DataArray" and "time" in getattr(obj, "coords", {}):
        return str(obj.coords["time"].values)[:10]
    text = Path(obj).name if isinstance(obj, (str, Path)) else None
    match = _DATE.search(text or "")
    return f"{match[1]}-{match[2]}-{match[3]}" if match else None


def _labelled(stack: Any) -> list[tuple[str, Any]]:
    """``(label, object)`` pairs of a stack: a mapping, ``(date, obj)`` pairs or objects."""
    if isinstance(stack, Mapping):
        return [(str(k), v) for k, v in stack.items()]
    pairs: list[tuple[str, Any]] = []
    for n, entry in enumerate(stack if isinstance(stack, Iterable) else [stack]):
        if isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str):
            pairs.append(entry)
        else:
            pairs.append((frame_date(entry) or f"#{n + 1}", entry))
    if all(label[0].isdigit() for label, _ in pairs):
        pairs.sort(key=lambda pair: pair[0])
    return pairs


class TimeSlider(PlainTextRepr, WidgetControl):
    """A date slider (with a play button) switching one raster layer of the map.

    Args:
        target: the map (a :class:`~terralab.widgets.map.Map`).
        stack: the dates: objects ``m.add`` takes, ``(date, obj)`` pairs or
            ``{date: obj}``; dated objects are sorted by date.
        name: the layer's name.
        interval: milliseconds per frame when playing.
        position: where the slider sits.
        **style: the raster display (``bands``, ``rescale``, ``colormap`` …).

    Raises:
        ValueError: for an empty stack.
    """

    def __init__(self, target: Any, stack: Any, *, name: str = "Time series",
                 interval: int = 1000, position: str = "bottomleft", **style: Any) -> None:
        pairs = _labelled(stack)
        if not pairs:
            raise ValueError("the time slider needs at least one date")
        labels = _unique([label for label, _ in pairs])
        self.frames = [Frame(label, target._layer_for(obj, name, dict(style)))
                       for label, (_, obj) in zip(labels, pairs, strict=True)]
        first = self.frames[0].layer
        self.layer = TileLayer(url=first.url, name=name, opacity=first.opacity,
                               max_zoom=first.max_zoom, tile_size=first.tile_size,
                               attribution=first.attribution, no_wrap=True)
        self.slider = SelectionSlider(options=labels, value=labels[0], description="Date",
                                      continuous_update=False, layout=Layout(width="320px"))
        self.play = Play(value=0, min=0, max=len(labels) - 1, interval=interval,
                         layout=Layout(width="90px"))
        self.play.observe(self._on_play, "value")
        self.slider.observe(self._on_slider, "value")
        super().__init__(widget=HBox([self.play, self.slider]), position=position)
        self.show(labels[0])

    @property
    def labels(self) -> list[str]:
        """The dates, in slider order."""
        return [frame.label for frame in self.frames]

    def show(self, label: str) -> None:
        """Point the layer at the frame ``label`` (and move the slider there)."""
        frame = next((f for f in self.frames if f.label == label), None)
        if frame is None:
            raise ValueError(f"no date {label!r}; dates: {', '.join(self.labels)}")
        self.layer.url = frame.layer.url
        self.layer.terralab_source = getattr(frame.layer, "terralab_source", None)
        if frame.layer.bounds:
            self.layer.bounds = frame.layer.bounds
        if self.slider.value != label:
            self.slider.value = label

    def _on_slider(self, change: dict[str, Any]) -> None:
        self.show(change["new"])
        index = self.labels.index(change["new"])
        if self.play.value != index:
            self.play.value = index

    def _on_play(self, change: dict[str, Any]) -> None:
        self.slider.value = self.labels[int(change["new"])]


def _unique(labels: list[str]) -> list[str]:
    """Labels made unique (``2024-05-10``, ``2024-05-10 (2)``) for the slider's options."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out

