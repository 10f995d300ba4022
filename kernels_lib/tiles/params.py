"""The display parameters of a tile request, parsed from their query-string form.

The syntax follows titiler's query parameters, so a URL written for one reads the same here:

``bands``
    ``"nir,red,green"``, ``"3,2,1"`` or ``"B08"``: one band (grey, or a colormap) or three
    (red, green, blue). A number is the band's position as :func:`~terralab.tiles.tile_info`
    lists it (for a single file: its band index, 1-based); a name is a band key (``B04``,
    ``vv``, ``red``), ``b1``…``bN``, or an ``eo:bands`` common name when only one band has it.
``rescale``
    ``"min,max"`` for every band, or one ``"min,max"`` per band separated by ``;``
    (``"0,0.3;0,0.3;0,0.4"``); titiler's repeated ``rescale=`` parameters mean the same and
    the extension joins them with ``;``. Values are in physical units (reflectance, dB…).
``colormap``
    a rio-tiler colormap name (``viridis``, ``rdylgn``, ``terrain``…), one band only; or,
    as titiler takes it, a JSON object of class colours for a class map
    (``{"1": "#1f78b4", "2": [255, 0, 0, 200]}``): the band's stored values are the class
    codes (no scale, offset or rescale), and every value the object does not name (the
    background class, nodata) is transparent.
``nodata``
    a number or ``nan``: the value shown transparent, instead of the file's own.
``tilesize``
    256 (default) or 512 pixels.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence

import numpy as np

__all__ = [
    "TileParameterError",
    "check_nodata",
    "parse_bands",
    "parse_colormap",
    "parse_nodata",
    "parse_rescale",
    "parse_tilesize",
]

_TILESIZES = (256, 512)
_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{8}|[0-9a-fA-F]{3})")
MAX_CLASSES = 256
RGBA = tuple[int, int, int, int]


class TileParameterError(ValueError):
    """A tile parameter that cannot be used; the message says which and why (HTTP 400)."""


BandSpec = int | str


def parse_bands(value: str | Sequence[BandSpec] | None) -> tuple[BandSpec, ...] | None:
    """Return the bands asked for: 1-based numbers and names, in order.

    Args:
        value: ``"nir,red,green"`` or a sequence of numbers and names; None or ``""`` for
            the source's default bands.

    Raises:
        TileParameterError: for an empty entry, a number below 1, or a count other than 1 or 3.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    bands: list[BandSpec] = []
    for raw in items:
        text = str(raw).strip()
        if not text:
            raise TileParameterError(f"bands {value!r} has an empty entry")
        if text.isdigit():
            if int(text) < 1:
                raise TileParameterError("band numbers start at 1")
            bands.append(int(text))
        else:
            bands.append(text)
    if len(bands) not in (1, 3):
        raise TileParameterError(f"choose 1 band (grey or a colormap) or 3 bands (red, green, "
                                 f"blue), not {len(bands)}")
    return tuple(bands)


def parse_rescale(value: str | Sequence[Sequence[float]] | None,
                  count: int) -> tuple[tuple[float, float], ...] | None:
    """Return one (min, max) display range per band.

    Args:
        value: ``"min,max"`` (for every band), ``"a,b;c,d;e,f"`` (one per band), or a
            sequence of (min, max) pairs; None for the source's default ranges.
        count: how many bands are shown (1 or 3).

    Raises:
        TileParameterError: for a range that is not two finite numbers with min < max, or
            a number of ranges other than 1 or ``count``.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        pairs: list[Sequence[object]] = [part.split(",") for part in value.split(";")]
    else:
        pairs = [list(pair) for pair in value]
    ranges = []
    for pair in pairs:
        try:
            low, high = (float(str(v).strip()) for v in pair)
        except ValueError:
            raise TileParameterError(
                f"rescale must be 'min,max' or 'min,max;min,max;min,max', not {value!r}"
            ) from None
        if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
            raise TileParameterError(f"rescale range {low:g},{high:g} needs finite min < max")
        ranges.append((low, high))
    if len(ranges) == 1:
        return tuple(ranges) * count
    if len(ranges) != count:
        raise TileParameterError(f"rescale has {len(ranges)} ranges for {count} bands "
                                 "(give one for all bands or one per band)")
    return tuple(ranges)


def parse_colormap(value: str | None, count: int) -> str | dict[int, RGBA] | None:
    """Return the rio-tiler colormap name to use, a class colour table, or None.

    Args:
        value: a colormap name, or a JSON object ``{"code": colour}`` (colours as
            ``#rrggbb``, ``#rrggbbaa``, ``#rgb`` or ``[r, g, b]`` / ``[r, g, b, a]``).
        count: how many bands are shown (a colormap colours one).

    Raises:
        TileParameterError: for an unknown name, a malformed class table, or a colormap
            with three bands.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.startswith("{"):
        found: str | dict[int, RGBA] = _class_colours(text)
    else:
        from rio_tiler.colormap import cmap

        found = text.lower()
        if found not in cmap.list():
            raise TileParameterError(f"unknown colormap {value!r}; for example: viridis, magma, "
                                     "rdylgn, terrain, greys (any rio-tiler colormap name), "
                                     'or class colours as JSON: {"1": "#1f78b4"}')
    if count != 1:
        raise TileParameterError("a colormap colours one band; choose a single band with it")
    return found


def _class_colours(text: str) -> dict[int, RGBA]:
    """The class colour table of a JSON ``colormap`` value."""
    try:
        table = json.loads(text)
    except ValueError:
        raise TileParameterError(f"colormap {text[:60]!r} is not valid JSON") from None
    if not isinstance(table, dict) or not table:
        raise TileParameterError('class colours are a JSON object: {"1": "#1f78b4", …}')
    if len(table) > MAX_CLASSES:
        raise TileParameterError(f"at most {MAX_CLASSES} class colours, not {len(table)}")
    colours: dict[int, RGBA] = {}
    for key, colour in table.items():
        try:
            code = int(str(key).strip())
        except ValueError:
            raise TileParameterError(f"class code {key!r} is not a whole number") from None
        colours[code] = _rgba(colour)
    return colours


def _rgba(colour: object) -> RGBA:
    """``#rrggbb[aa]``, ``#rgb`` or ``[r, g, b(, a)]`` as an (r, g, b, a) tuple."""
    values: list[int]
    if isinstance(colour, str) and (match := _HEX.fullmatch(colour.strip())):
        digits = match.group(1)
        if len(digits) == 3:
            digits = "".join(2 * digit for digit in digits)
        values = [int(digits[i:i + 2], 16) for i in range(0, len(digits), 2)]
    elif isinstance(colour, (list, tuple)) and len(colour) in (3, 4) and all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in colour):
        values = list(colour)
    else:
        raise TileParameterError(f"class colour {colour!r} is not #rrggbb, #rrggbbaa or "
                                 "[r, g, b(, a)] with values 0…255")
    if len(values) == 3:
        values.append(255)
    return values[0], values[1], values[2], values[3]


def parse_nodata(value: str | float | None) -> float | None:
    """Return the nodata override (a float, possibly NaN) or None.

    Raises:
        TileParameterError: if the value is not a number or ``nan``.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return float(str(value).strip())
    except ValueError:
        raise TileParameterError(f"nodata must be a number or 'nan', not {value!r}") from None


def check_nodata(value: float | None, dtype: str | None, label: str) -> None:
    """Refuse a nodata override that the band's sample type cannot hold.

    An integer band takes a whole number within its type's range (``0…255`` for ``uint8``),
    never ``nan`` or ``inf``; a floating-point band takes ``nan``, ``±inf`` or a number
    within its type's range.

    Args:
        value: the override from :func:`parse_nodata` (None: no override, nothing to check).
        dtype: the band's stored sample type (``"uint8"``), None when unknown.
        label: how the message names the band's file.

    Raises:
        TileParameterError: if ``value`` is not a value of ``dtype``.
    """
    if value is None or dtype is None:
        return
    try:
        kind = np.dtype(dtype)
    except TypeError:
        return
    if np.issubdtype(kind, np.integer):
        info = np.iinfo(kind)
        if not math.isfinite(value) or value != math.floor(value) \
                or not info.min <= value <= info.max:
            raise TileParameterError(
                f"nodata {value:g} is not a value of {label} (its samples are {kind.name}: "
                f"whole numbers {info.min}…{info.max})")
    elif np.issubdtype(kind, np.floating) and math.isfinite(value):
        limit = float(np.finfo(kind).max)
        if not -limit <= value <= limit:
            raise TileParameterError(
                f"nodata {value:g} is out of range for {label} (its samples are {kind.name})")


def parse_tilesize(value: str | int | None) -> int:
    """Return the tile size in pixels (256 by default).

    Raises:
        TileParameterError: for a size other than 256 or 512.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return _TILESIZES[0]
    try:
        size = int(str(value).strip())
    except ValueError:
        size = -1
    if size not in _TILESIZES:
        raise TileParameterError(f"tilesize must be 256 or 512, not {value!r}")
    return size
