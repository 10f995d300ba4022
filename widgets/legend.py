"""Legends and class maps: a class legend (value → name, colour), a colorbar, class colours.

Both legends are plain HTML in a ``WidgetControl`` (no image, no network). A colorbar is a
CSS linear gradient through stops of the colormap the tile endpoint uses (rio-tiler's, when
installed; a few built-in maps otherwise), so the bar matches the tiles.

A **class map** (a water mask, land cover, a change mask) is drawn with class colours
(:func:`class_colormap`, the tile endpoint's JSON ``colormap``): each class in its colour and
the background classes (``background``, ``no change``, ``land``, nodata …) transparent, so
the layers under it still show. :func:`class_map` finds the classes of a tool's result (from
its notes: ``colormap`` / ``titles``, ``legend``, ``classes`` with their ``_zh`` names) or of
a raster of my data (a single integer band whose statistics run 0…1 is a binary mask named
after its band, e.g. ``water``; a band named ``class`` with small codes is a class map).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ipyleaflet import WidgetControl
from ipywidgets import HTML

from terralab.widgets.i18n import pick
from terralab.widgets.layer_manager import PlainTextRepr

__all__ = ["BACKGROUND_CLASSES", "ClassMap", "Legend", "class_colormap", "class_legend_html",
           "class_map", "colorbar_html", "colormap_stops"]

_STOPS = 11
#: fallback colormaps (a few stops each) when rio-tiler is not installed
_BUILTIN: dict[str, tuple[str, ...]] = {
    "viridis": ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"),
    "magma": ("#000004", "#51127c", "#b73779", "#fc8961", "#fcfdbf"),
    "greys": ("#ffffff", "#000000"),
    "gray": ("#000000", "#ffffff"),
    "rdylgn": ("#a50026", "#f46d43", "#ffffbf", "#66bd63", "#006837"),
    "terrain": ("#333399", "#00cc66", "#ffff99", "#996633", "#ffffff"),
    "blues": ("#f7fbff", "#6baed6", "#08306b"),
}


#: class names drawn transparent: what is not the thing a mask or change map shows
BACKGROUND_CLASSES = frozenset({"background", "no change", "unchanged", "no data", "nodata",
                                "land", "not water", "other", "none"})
#: colours (and Chinese names) of the classes terralab's tools write; others take _PALETTE
_KNOWN: dict[str, tuple[str, str]] = {
    "water": ("#1f78b4", "水体"), "change": ("#e31a1c", "变化"),
    "building": ("#d95f02", "建筑物"), "greenhouse": ("#66c2a5", "大棚"),
    "pv": ("#6a3d9a", "光伏"), "photovoltaic": ("#6a3d9a", "光伏"), "dam": ("#b15928", "水坝"),
    "field": ("#ffd92f", "地块"), "parcel": ("#ffd92f", "地块"), "new": ("#e31a1c", "新建"),
    "rebuilt": ("#ff7f00", "改建"), "demolished": ("#636363", "拆除"),
    "cropland loss": ("#e31a1c", "耕地减少"), "cropland gain": ("#33a02c", "耕地增加")}
_PALETTE = ("#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#ffff33", "#a65628",
            "#f781bf", "#17becf", "#bcbd22")
_CLASS_BANDS = ("class", "classes", "label", "labels")
_MAX_CODES = 32


def _hex(rgb: Sequence[Any]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(value) for value in rgb[:3]))


def colormap_stops(name: str, count: int = _STOPS) -> list[str]:
    """``count`` evenly spaced colours (``#rrggbb``) of colormap ``name``, low to high.

    A name ending in ``_r`` is reversed.

    Raises:
        ValueError: for an unknown colormap.
    """
    key = name.lower()
    try:
        from rio_tiler.colormap import cmap

        table = cmap.get(key)
        stops = [_hex(table[round(i * 255 / (count - 1))]) for i in range(count)]
    except ImportError:
        reverse = key.endswith("_r")
        stops = list(_BUILTIN.get(key[:-2] if reverse else key, ()))
        if not stops:
            raise ValueError(f"unknown colormap {name!r}") from None
        stops = stops[::-1] if reverse else stops
    except Exception as error:  # rio-tiler's InvalidColorMapName
        raise ValueError(f"unknown colormap {name!r}") from error
    return stops


def _title(title: str) -> str:
    return f"<b>{html.escape(title)}</b><br>" if title else ""


def _classes(classes: Mapping[Any, Any] | Iterable[Sequence[Any]]) -> list[tuple[Any, str, str]]:
    """Normalise ``{value: (name, colour)}`` or ``[(value, name, colour), …]``."""
    if isinstance(classes, Mapping):
        rows = [(value, *entry) for value, entry in classes.items()]
    else:
        rows = [tuple(entry) for entry in classes]
    for row in rows:
        if len(row) != 3:
            raise ValueError("classes are (value, name, colour): {value: (name, colour)} or "
                             "[(value, name, colour), …]")
    return [(value, str(name), str(colour)) for value, name, colour in rows]


def class_legend_html(classes: Mapping[Any, Any] | Iterable[Sequence[Any]],
                      title: str = "", show_values: bool = False) -> str:
    """The HTML of a class legend: one colour swatch and name per class.

    Args:
        classes: ``{value: (name, colour)}`` or ``[(value, name, colour), …]``; colours
            are any CSS colour (``#1a9850``, ``green``).
        title: shown above the classes.
        show_values: put each class value before its name.
    """
    rows = []
    for value, name, colour in _classes(classes):
        label = f"{value} · {name}" if show_values else name
        rows.append(f"<div><span style='display:inline-block;width:14px;height:14px;"
                    f"background:{html.escape(colour)};border:1px solid #555;"
                    f"vertical-align:middle;margin-right:6px'></span>"
                    f"{html.escape(label)}</div>")
    return f"<div style='font-size:12px;line-height:18px'>{_title(title)}{''.join(rows)}</div>"


def colorbar_html(colormap: str, vmin: float, vmax: float, title: str = "",
                  ticks: int = 3) -> str:
    """The HTML of a horizontal colorbar: a CSS gradient with ``ticks`` labels under it.

    Raises:
        ValueError: for an unknown colormap or ``ticks`` below 2.
    """
    if ticks < 2:
        raise ValueError("a colorbar needs at least 2 ticks")
    stops = colormap_stops(colormap)
    gradient = f"linear-gradient(to right, {', '.join(stops)})"
    labels = "".join(f"<span>{vmin + (vmax - vmin) * i / (ticks - 1):g}</span>"
                     for i in range(ticks))
    return (f"<div style='font-size:12px;width:200px'>{_title(title)}"
            f"<div style='height:12px;border:1px solid #555;background:{gradient}'></div>"
            f"<div style='display:flex;justify-content:space-between'>{labels}</div></div>")


class Legend(PlainTextRepr, WidgetControl):
    """A legend control: classes or a colorbar.

    Args:
        classes: ``{value: (name, colour)}`` or ``[(value, name, colour), …]`` for a class
            map.
        colormap: a colormap name (rio-tiler's, as in ``m.add(..., colormap=)``) for a
            colorbar; give ``vmin`` / ``vmax`` (or ``rescale="min,max"``) with it.
        vmin: the value at the low end of the colorbar.
        vmax: the value at the high end.
        rescale: ``"min,max"`` as passed to the tile endpoint (instead of vmin / vmax).
        title: shown on top.
        position: the map corner (``bottomright`` by default).

    Raises:
        ValueError: with neither or both of ``classes`` and ``colormap``.
    """

    def __init__(self, classes: Mapping[Any, Any] | Iterable[Sequence[Any]] | None = None, *,
                 colormap: str | None = None, vmin: float = 0.0, vmax: float = 1.0,
                 rescale: str | None = None, title: str = "",
                 position: str = "bottomright") -> None:
        if (classes is None) == (colormap is None):
            raise ValueError("give either classes (a class legend) or colormap (a colorbar)")
        if colormap is not None:
            if rescale:
                vmin, vmax = (float(part) for part in rescale.split(","))
            content = colorbar_html(colormap, vmin, vmax, title)
        else:
            content = class_legend_html(classes, title)
        self.html = HTML(value=content)
        self.legend_title = title
        super().__init__(widget=self.html, position=position)

    def describe(self) -> str:
        """``Legend 'NDVI' (bottomright)``."""
        return f"Legend {self.legend_title!r} ({self.position})" if self.legend_title else \
            f"Legend ({self.position})"


# ----------------------------------------------------------------------------- class maps
@dataclass(frozen=True)
class ClassMap:
    """How to draw a class map.

    Attributes:
        band: the band holding the class codes (1-based).
        classes: the classes drawn, ``(code, name, colour)``; codes not listed (the
            background classes, nodata) are transparent.
    """

    band: int
    classes: tuple[tuple[int, str, str], ...]

    @property
    def colormap(self) -> str:
        """The tile endpoint's ``colormap`` (JSON class colours)."""
        return class_colormap(self.classes)


def class_colormap(classes: Mapping[Any, Any] | Iterable[Sequence[Any]]) -> str:
    """The JSON class colours of ``classes``, for the tile endpoint's ``colormap``.

    ``classes`` are ``{value: (name, colour)}`` or ``[(value, name, colour), …]``; values
    not listed are drawn transparent.

    Raises:
        ValueError: for a class value that is not a whole number.
    """
    table = {}
    for value, _label, colour in _classes(classes):
        if float(value) != int(float(value)):
            raise ValueError(f"class values are whole numbers, not {value!r}")
        table[str(int(float(value)))] = colour
    return json.dumps(table, separators=(",", ":"))


def _is_background(name: str) -> bool:
    return name.strip().lower().replace("_", " ") in BACKGROUND_CLASSES


def _colour(name: str, number: int) -> str:
    known = _KNOWN.get(name.strip().lower().replace("_", " "))
    return known[0] if known else _PALETTE[number % len(_PALETTE)]


def _name(name: str, chinese: str | None, lang: str | None) -> str:
    known = _KNOWN.get(name.strip().lower().replace("_", " "))
    return pick(name, chinese or (known[1] if known else ""), lang)


def _entry(table: Any, code: Any) -> Any:
    """``table[code]`` whether its keys are numbers or (after JSON) text."""
    if not isinstance(table, Mapping):
        return None
    return table.get(code, table.get(str(code)))


def _from_notes(notes: Mapping[str, Any], lang: str | None) -> ClassMap | None:
    """The classes a tool's notes name (land cover, change detection, the deep tools)."""
    colours = notes.get("colormap")
    if isinstance(colours, Mapping) and colours:
        names = notes.get("titles") or notes.get("classes") or {}
        chinese = notes.get("titles_zh") or {}
        nodata = notes.get("nodata")
        rows = [(int(code), _name(str(_entry(names, code) or code),
                                  _entry(chinese, code), lang), str(colour))
                for code, colour in colours.items()
                if nodata is None or int(code) != int(nodata)]
        return ClassMap(1, tuple(rows))
    for key in ("legend", "classes"):
        names = notes.get(key)
        if isinstance(names, Mapping) and names:
            chinese = notes.get(f"{key}_zh") or {}
            rows = [(int(code), _name(str(name), _entry(chinese, code), lang),
                     _colour(str(name), number))
                    for number, (code, name) in enumerate(names.items())
                    if not _is_background(str(name))]
            return ClassMap(1, tuple(rows)) if rows else None
    return None


def _from_item(item: Mapping[str, Any], lang: str | None) -> ClassMap | None:
    """A binary mask or small class codes, from a raster item's first band."""
    asset = (item.get("assets") or {}).get("data") or {}
    raster = (asset.get("raster:bands") or [{}])[0] or {}
    eo = (asset.get("eo:bands") or [{}])[0] or {}
    dtype = str(raster.get("data_type") or "")
    stats = raster.get("statistics") or {}
    low, high = stats.get("minimum"), stats.get("maximum")
    if not dtype.startswith(("uint", "int")) or low is None or high is None or low < 0:
        return None
    name = str(eo.get("name") or "")
    if high <= 1 and name.lower() not in ("", "b1") and not _is_background(name):
        return ClassMap(1, ((1, _name(name, None, lang), _colour(name, 0)),))
    if name.lower() in _CLASS_BANDS and high < _MAX_CODES:
        return ClassMap(1, tuple((code, f"{name} {code}", _PALETTE[(code - 1) % len(_PALETTE)])
                                 for code in range(1, int(high) + 1)))
    return None


def class_map(obj: Any, *, notes: Mapping[str, Any] | None = None,
              lang: str | None = None) -> ClassMap | None:
    """The class map ``obj`` is, or None for a continuous raster (or a vector).

    Args:
        obj: a tool's result (``tl.run``: its ``extra`` notes and its record), a my-data
            record, or a STAC item dict.
        notes: a result's notes, when ``obj`` is its record (a queued job's result).
        lang: the language of the class names (default: the user's).
    """
    found_notes = notes if notes is not None else getattr(obj, "extra", None)
    if isinstance(found_notes, Mapping):
        found = _from_notes(found_notes, lang)
        if found is not None:
            return found
    record = getattr(obj, "record", None) if hasattr(obj, "tool") else obj
    item = getattr(record, "item", record)
    if getattr(record, "data_type", "raster") != "raster" or not isinstance(item, Mapping):
        return None
    return _from_item(item, lang)
