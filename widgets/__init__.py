"""terralab.widgets: the ipyleaflet / ipywidgets user interface of terralab.

- :class:`Map` (:mod:`~terralab.widgets.map`): basemaps (offline blank by default, OSM,
  Tianditu), ``add()`` for items, my data, results, files, DataArrays and vectors, a basemap
  switcher and the drawn area of interest ``m.aoi``.
- :mod:`~terralab.widgets.basemaps`, :mod:`~terralab.widgets.tile_urls`,
  :mod:`~terralab.widgets.vectors`, :mod:`~terralab.widgets.aoi`: the pieces it is made of.

- :class:`Swipe`, :class:`LayerManager`, :class:`Legend`: the swipe divider and its chooser
  (``m.swipe(left, right)``), the layer panel (``m.add_layer_manager()``) and class legends
  / colorbars (``m.add_legend(...)``).

Inspector, time slider and the search panel arrive next.
"""

from terralab.widgets.basemaps import BASEMAPS, BasemapError, basemap_layers
from terralab.widgets.layer_manager import LayerManager
from terralab.widgets.legend import Legend
from terralab.widgets.map import Map
from terralab.widgets.swipe import Swipe

__all__ = ["BASEMAPS", "BasemapError", "LayerManager", "Legend", "Map", "Swipe",
           "basemap_layers"]
