"""Legends: a class legend (value → name, colour) and a colorbar for continuous layers.

Both are plain HTML in a ``WidgetControl`` (no image, no network). A colorbar is a CSS
linear gradient through stops of the colormap the tile endpoint uses (rio-tiler's, when
installed; a few built-in maps otherwise), so the bar matches the tiles.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ipyleaflet import WidgetControl
from ipywidgets import HTML

__all__ = ["Legend", "class_legend_html", "colorbar_html", "colormap_stops"]

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


class Legend(WidgetControl):
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
        super().__init__(widget=self.html, position=position)
