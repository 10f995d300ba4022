"""Map tiles of any raster a user may see: catalog items and files in the user's folder.

The user's Jupyter server serves them (:mod:`terralab.extension.tiles`); the same functions
work in a notebook or a script::

    from terralab.tiles import render_tile, resolve_tile_source, tile_info

    source = resolve_tile_source("alice", item="deqing-aerial-20240510")
    png = render_tile(source, 18, 219593, 107355, bands="nir,red,green")
    info = tile_info(source)   # bounds, minzoom, maxzoom, bands, default display

- :mod:`~terralab.tiles.access`: which files a request reads and whether the user may read
  them (:func:`resolve_tile_source`, :class:`TileSource`).
- :mod:`~terralab.tiles.render`: tiles and TileJSON with rio-tiler (:func:`render_tile`,
  :func:`tile_info`).
- :mod:`~terralab.tiles.params`: the query parameters (``bands``, ``rescale``, ``colormap``,
  ``nodata``, ``tilesize``) and their syntax.

Errors carry the HTTP status the extension answers with: :class:`TileParameterError`
(a ``ValueError``, 400), :class:`TileAccessError` (a ``PermissionError``, 403),
:class:`TileNotFound` and :class:`TileOutside` (404).
"""

from __future__ import annotations

from terralab.tiles.access import SourceBand, TileSource, check_user_path, resolve_tile_source
from terralab.tiles.errors import TileAccessError, TileNotFound, TileOutside
from terralab.tiles.params import TileParameterError
from terralab.tiles.render import default_range, render_tile, tile_info

__all__ = [
    "SourceBand",
    "TileAccessError",
    "TileNotFound",
    "TileOutside",
    "TileParameterError",
    "TileSource",
    "check_user_path",
    "default_range",
    "render_tile",
    "resolve_tile_source",
    "tile_info",
]
