"""The pixel inspector: click the map, see every band's value of the rasters under the cursor.

The kernel reads the pixels itself: each raster layer made by ``m.add`` keeps its tile
source (``layer.terralab_source``, the ``item=``/``path=`` query), which
:func:`~terralab.tiles.resolve_tile_source` turns into files and band indexes exactly as
the tile server does (same access checks, same scale and offset). Clicks are simulated in
tests by calling :meth:`Inspector.handle` with ``type="click"`` and ``coordinates``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from ipyleaflet import Layer, WidgetControl
from ipywidgets import HTML, Layout

from terralab.identity import current_user
from terralab.widgets.layer_manager import PlainTextRepr, data_layers, layer_label

__all__ = ["BandValue", "Inspector", "read_pixel", "source_of"]


class BandValue(NamedTuple):
    """One band's value at a point.

    Attributes:
        name: the band's name (``B04``, ``b1`` …).
        value: the physical value (scale and offset applied); None for no data.
    """

    name: str
    value: float | None


_OUTSIDE = object()  # a point off the raster


def source_of(layer: Layer) -> dict[str, str] | None:
    """The tile source query a raster layer shows, or None for other layers."""
    source = getattr(layer, "terralab_source", None)
    return dict(source) if isinstance(source, Mapping) else None


def _band_value(path: Path, index: int, lon: float, lat: float, *, scale: float,
                offset: float, nodata: float | None) -> object:
    """The value of band ``index`` of ``path`` at lon/lat (None: no data; or _OUTSIDE)."""
    import rasterio
    from pyproj import Transformer
    from rasterio.windows import Window

    with rasterio.open(path) as src:
        x, y = lon, lat
        if src.crs is not None and src.crs.to_epsg() != 4326:
            x, y = Transformer.from_crs("EPSG:4326", src.crs, always_xy=True).transform(lon, lat)
        row, col = src.index(x, y)
        if not (0 <= row < src.height and 0 <= col < src.width):
            return _OUTSIDE
        stored = src.read(index, window=Window(col, row, 1, 1))[0, 0].item()
        missing = nodata if nodata is not None else src.nodata
    if missing is not None and (stored == missing or (
            isinstance(missing, float) and math.isnan(missing) and math.isnan(stored))):
        return None
    if isinstance(stored, float) and math.isnan(stored):
        return None
    return stored * scale + offset


def read_pixel(source: Mapping[str, str], lon: float, lat: float, *, user: str | None = None,
               home: Path | None = None) -> list[BandValue] | None:
    """Read every band of a tile source at a WGS84 point.

    Args:
        source: the ``item=``/``collection=``/``asset=`` or ``path=`` query of a layer.
        lon: longitude.
        lat: latitude.
        user: who reads (default: the current user).
        home: the terralab data folder.

    Returns:
        One :class:`BandValue` per band, or None when the point is off the raster.

    Raises:
        TileNotFound, TileAccessError: as :func:`~terralab.tiles.resolve_tile_source`.
    """
    from terralab.tiles import resolve_tile_source

    keys = ("item", "collection", "asset", "path")
    tile_source = resolve_tile_source(user or current_user(), home=home,
                                      **{k: source[k] for k in keys if k in source})
    values: list[BandValue] = []
    for band in tile_source.bands:
        value = _band_value(band.path, band.index, lon, lat, scale=band.scale,
                            offset=band.offset, nodata=band.nodata)
        if value is _OUTSIDE:
            return None
        values.append(BandValue(band.name, value))  # type: ignore[arg-type]
    return values


def _format(value: float | None) -> str:
    if value is None:
        return "no data"
    return f"{value:.6g}"


class Inspector(PlainTextRepr, WidgetControl):
    """A panel showing the band values of every raster layer at the last clicked point.

    Args:
        target: the map.
        position: where the panel sits.
        home: the terralab data folder (tests).
    """

    def __init__(self, target: Any, *, position: str = "bottomright",
                 home: Path | None = None) -> None:
        self.output = HTML("<i>Click the map to read pixel values</i>",
                           layout=Layout(max_width="320px", max_height="260px",
                                         overflow="auto"))
        super().__init__(widget=self.output, position=position)
        self.map = target
        self.home = home
        self.point: tuple[float, float] | None = None
        self.values: dict[str, list[BandValue] | str | None] = {}
        target.on_interaction(self.handle)

    def detach(self) -> None:
        """Stop listening to the map's clicks."""
        self.map.on_interaction(self.handle, remove=True)

    def handle(self, **event: Any) -> None:
        """The map's interaction callback: inspect on ``type="click"``."""
        if event.get("type") != "click" or not event.get("coordinates"):
            return
        lat, lon = (float(c) for c in event["coordinates"][:2])
        self.inspect(lon, lat)

    def inspect(self, lon: float, lat: float) -> dict[str, list[BandValue] | str | None]:
        """Read every visible raster layer at lon/lat, show and return the values.

        Returns:
            ``{layer name: [BandValue …]}``; None for a point off the raster; an error
            message (str) for a layer that cannot be read.
        """
        self.point = (lon, lat)
        values: dict[str, list[BandValue] | str | None] = {}
        for layer in reversed(data_layers(self.map)):  # top layer first
            source = source_of(layer)
            if source is None or not getattr(layer, "visible", True):
                continue
            try:
                values[layer_label(layer)] = read_pixel(source, lon, lat, home=self.home)
            except Exception as error:  # one unreadable layer must not hide the others
                values[layer_label(layer)] = f"{type(error).__name__}: {error}"
        self.values = values
        self.output.value = self.render()
        return values

    def render(self) -> str:
        """The panel's HTML for :attr:`values`."""
        if self.point is None:
            return "<i>Click the map to read pixel values</i>"
        lon, lat = self.point
        parts = [f"<b>{lat:.5f}, {lon:.5f}</b>"]
        if not self.values:
            parts.append("<i>no raster layer</i>")
        for name, found in self.values.items():
            parts.append(f"<div><b>{html.escape(name)}</b>: ")
            if found is None:
                parts.append("<i>outside</i></div>")
            elif isinstance(found, str):
                parts.append(f"<span style='color:#b00'>{html.escape(found)}</span></div>")
            else:
                rows = "".join(f"<tr><td>{html.escape(v.name)}</td><td>{_format(v.value)}</td>"
                               "</tr>" for v in found)
                parts.append(f"<table>{rows}</table></div>")
        return "".join(parts)
