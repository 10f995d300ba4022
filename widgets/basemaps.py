"""The basemaps of the terralab map: OpenStreetMap, Tianditu (天地图) and an offline blank map.

=====================  ======================================================  =========
name                   what                                                    network
=====================  ======================================================  =========
``blank``              no tiles, a graticule every 10° (the default)            none
``osm``                OpenStreetMap standard tiles                            yes
``tianditu-vec``       Tianditu vector map + Chinese annotation (vec_w/cva_w)   yes, key
``tianditu-img``       Tianditu imagery + Chinese annotation (img_w/cia_w)      yes, key
=====================  ======================================================  =========

The blank map works with no network at all: its only layers are a tile layer whose every
tile is an inline transparent PNG (a ``data:`` URL, so the browser fetches nothing) and a
GeoJSON graticule built here. Tianditu needs a user key: ``token=`` or ``$TIANDITU_TOKEN``
(the variable the Tianditu geocoder reads); without one :func:`basemap_layers` raises
:class:`BasemapError` rather than drawing an empty map.
Only URLs are built here; nothing is fetched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ipyleaflet import GeoJSON, Layer, TileLayer

from terralab.settings import settings

__all__ = [
    "BASEMAPS",
    "BLANK_TILE",
    "DEFAULT_BASEMAP",
    "Basemap",
    "BasemapError",
    "basemap_layers",
    "graticule",
    "graticule_layer",
    "tianditu_token",
    "tianditu_url",
]

DEFAULT_BASEMAP = "blank"
ENV_TOKEN = "TIANDITU_TOKEN"
_TIANDITU_SERVERS = 8  # t0 … t7
_TIANDITU_ATTRIBUTION = "&copy; 天地图 Tianditu (GS(2024)0568号)"
_OSM_ATTRIBUTION = "&copy; OpenStreetMap contributors"
#: a 1×1 transparent PNG: the blank basemap's every tile, so the browser fetches nothing
BLANK_TILE = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR4"
              "nGNgAAIAAAUAAXpeqz8AAAAASUVORK5CYII=")


class BasemapError(ValueError):
    """A basemap that cannot be drawn: an unknown name or a missing Tianditu key."""


@dataclass(frozen=True)
class Basemap:
    """One entry of the basemap registry.

    Attributes:
        name: the registry key (also what a project saves).
        title: the label of the basemap switcher.
        layers: the Tianditu layer codes (``vec``, ``cva`` …) or ``("osm",)``; empty for blank.
        needs_token: whether a Tianditu key is required.
        offline: whether it draws with no network.
    """

    name: str
    title: str
    layers: tuple[str, ...]
    needs_token: bool = False
    offline: bool = False


BASEMAPS: dict[str, Basemap] = {
    entry.name: entry
    for entry in (
        Basemap("blank", "Blank (offline)", (), offline=True),
        Basemap("osm", "OpenStreetMap", ("osm",)),
        Basemap("tianditu-vec", "Tianditu vector 天地图矢量", ("vec", "cva"), needs_token=True),
        Basemap("tianditu-img", "Tianditu imagery 天地图影像", ("img", "cia"), needs_token=True),
    )
}


def tianditu_token(token: str | None = None) -> str | None:
    """Return the Tianditu key: ``token`` when given, else ``$TIANDITU_TOKEN``, else None."""
    return token or settings().maps.tianditu_token or None


def tianditu_url(layer: str, token: str, server: int = 0) -> str:
    """Return the WMTS (Web Mercator, ``_w``) tile URL template of one Tianditu layer.

    Args:
        layer: ``vec`` (vector), ``cva`` (vector annotation), ``img`` (imagery) or ``cia``
            (imagery annotation).
        token: the user's Tianditu key.
        server: which of Tianditu's servers ``t0`` … ``t7`` to use (ipyleaflet's
            TileLayer has no ``subdomains`` option, so each layer takes a fixed one).
    """
    code = f"{layer}_w"
    host = f"t{server % _TIANDITU_SERVERS}.tianditu.gov.cn"
    return (f"https://{host}/{code}/wmts?SERVICE=WMTS&REQUEST=GetTile"
            f"&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
            f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={token}")


def graticule(step: float = 10.0) -> dict[str, Any]:
    """Return a GeoJSON FeatureCollection of meridians and parallels every ``step`` degrees.

    Lines sit on multiples of ``step`` (so the equator and the prime meridian are drawn);
    parallels stop at ±80° (beyond Web Mercator's useful range); each line carries a
    ``label`` property (``"30°N"``, ``"120°E"``).
    """
    if step <= 0:
        raise ValueError("the graticule step must be positive")
    features: list[dict[str, Any]] = []
    lon = math.ceil(-180.0 / step) * step
    while lon <= 180.0:
        coords = [[lon, lat] for lat in range(-80, 81, 5)]
        features.append(_line(coords, _label(lon, "E", "W")))
        lon += step
    lat = math.ceil(-80.0 / step) * step
    while lat <= 80.0:
        coords = [[float(x), lat] for x in range(-180, 181, 5)]
        features.append(_line(coords, _label(lat, "N", "S")))
        lat += step
    return {"type": "FeatureCollection", "features": features}


def _line(coords: list[list[float]], label: str) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"label": label},
            "geometry": {"type": "LineString", "coordinates": coords}}


def _label(value: float, positive: str, negative: str) -> str:
    if value == 0:
        return "0°"
    return f"{abs(value):g}°{positive if value > 0 else negative}"


def graticule_layer(step: float = 10.0) -> GeoJSON:
    """Return the graticule as a thin grey, non-interactive GeoJSON layer."""
    return GeoJSON(data=graticule(step), name="Graticule",
                   style={"color": "#888888", "weight": 0.6, "opacity": 0.7})


def basemap_layers(name: str = DEFAULT_BASEMAP, token: str | None = None) -> list[Layer]:
    """Return the layers that draw basemap ``name``, bottom first, each with ``base=True``.

    Args:
        name: a key of :data:`BASEMAPS`.
        token: the Tianditu key (``$TIANDITU_TOKEN`` when omitted).

    Raises:
        BasemapError: for an unknown name, or a Tianditu basemap without a key.
    """
    entry = BASEMAPS.get(name)
    if entry is None:
        raise BasemapError(f"unknown basemap {name!r}; choose one of {', '.join(BASEMAPS)}")
    if entry.offline:
        blank = TileLayer(url=BLANK_TILE, name=entry.title, attribution="", base=True)
        grid = graticule_layer()
        grid.base = True
        return [blank, grid]
    if entry.layers == ("osm",):
        return [TileLayer(url="https://tile.openstreetmap.org/{z}/{x}/{y}.png", max_zoom=19,
                          name=entry.title, attribution=_OSM_ATTRIBUTION, base=True)]
    key = tianditu_token(token)
    if not key:
        raise BasemapError(f"the {entry.title} basemap needs a Tianditu key: pass token= "
                           f"or set ${ENV_TOKEN} (free at console.tianditu.gov.cn)")
    return [TileLayer(url=tianditu_url(layer, key, server=number), max_zoom=18,
                      name=f"{entry.title} ({layer})", attribution=_TIANDITU_ATTRIBUTION, base=True)
            for number, layer in enumerate(entry.layers)]
