"""Raster layers of the map: ``TileLayer``s on the user's tile endpoint, and their bounds.

The display keywords are those of the tile endpoint (:mod:`terralab.tiles.params`):
``bands``, ``rescale``, ``colormap``, ``nodata``, ``tilesize``; plus ``asset`` for an item
and ``opacity`` for the layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ipyleaflet import TileLayer

from terralab.home import user_dir
from terralab.identity import current_user
from terralab.widgets.tile_urls import display_query, tile_url

__all__ = ["RASTER_STYLE_KEYS", "Bounds", "file_bounds", "item_bounds", "raster_layer"]

RASTER_STYLE_KEYS = frozenset({"bands", "rescale", "colormap", "nodata", "tilesize", "opacity"})
Bounds = tuple[float, float, float, float]  # west, south, east, north (WGS84)


def raster_layer(source: Mapping[str, str], *, name: str, base_url: str | None = None,
                 bounds: Bounds | None = None, **style: Any) -> TileLayer:
    """Return a tile layer of a source (from :func:`~terralab.widgets.tile_urls.source_query`).

    Args:
        source: the source query (``item=``… or ``path=``).
        name: the layer's name.
        base_url: the tile server's base URL (see :func:`~terralab.widgets.tile_urls.
            tile_base_url`).
        bounds: the raster's WGS84 bounds: no tile is asked for outside them.
        **style: ``bands``, ``rescale``, ``colormap``, ``nodata``, ``tilesize``, ``opacity``.

    Raises:
        TypeError: for a style keyword rasters do not take.
    """
    unknown = set(style) - RASTER_STYLE_KEYS
    if unknown:
        raise TypeError(f"rasters take {', '.join(sorted(RASTER_STYLE_KEYS))}; "
                        f"not {', '.join(sorted(unknown))}")
    opacity = float(style.pop("opacity", 1.0))
    url = tile_url(source, display_query(**style), base_url=base_url)
    tilesize = int(style.get("tilesize") or 256)
    layer = TileLayer(url=url, name=name, opacity=opacity, max_zoom=24, tile_size=tilesize,
                      attribution="terralab", no_wrap=True)
    layer.terralab_source = dict(source)  # what the pixel inspector and time slider read
    if bounds is not None:
        west, south, east, north = bounds
        layer.bounds = [[south, west], [north, east]]
    return layer


def item_bounds(item: Mapping[str, Any]) -> Bounds | None:
    """The bbox of a STAC item dict (2-D or 3-D), or None."""
    box = item.get("bbox")
    if not box or len(box) not in (4, 6):
        return None
    west, south = box[0], box[1]
    east, north = (box[2], box[3]) if len(box) == 4 else (box[3], box[4])
    return float(west), float(south), float(east), float(north)


def file_bounds(relative: str, *, user: str | None = None,
                home: Path | None = None) -> Bounds | None:
    """The WGS84 bounds of a raster file in the user's folder, or None when unreadable."""
    try:
        import rasterio
        from rasterio.warp import transform_bounds

        path = user_dir(user or current_user(), home=home) / relative
        with rasterio.open(path) as src:
            if src.crs is None:
                return None
            west, south, east, north = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    except Exception:  # bounds only help the view; the layer works without them
        return None
    return west, south, east, north
