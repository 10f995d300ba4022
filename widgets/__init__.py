"""terralab.widgets: the ipyleaflet / ipywidgets user interface of terralab.

- :class:`Map` (:mod:`~terralab.widgets.map`): basemaps (offline blank by default, OSM,
  Tianditu), ``add()`` for items, my data, results, files, DataArrays and vectors, a basemap
  switcher and the drawn area of interest ``m.aoi``.
- :mod:`~terralab.widgets.basemaps`, :mod:`~terralab.widgets.tile_urls`,
  :mod:`~terralab.widgets.vectors`, :mod:`~terralab.widgets.aoi`: the pieces it is made of.

Swipe, layer manager, legend, inspector, time slider and the search panel arrive next.
"""

from terralab.widgets.basemaps import BASEMAPS, BasemapError, basemap_layers
from terralab.widgets.map import Map

__all__ = ["BASEMAPS", "BasemapError", "Map", "basemap_layers"]
