"""terralab.widgets: the ipyleaflet / ipywidgets user interface of terralab.

- :class:`Map` (:mod:`~terralab.widgets.map`): basemaps (offline blank by default, OSM,
  Tianditu), ``add()`` for items, my data, results, files, DataArrays and vectors, a basemap
  switcher and the drawn area of interest ``m.aoi``.
- :mod:`~terralab.widgets.basemaps`, :mod:`~terralab.widgets.tile_urls`,
  :mod:`~terralab.widgets.vectors`, :mod:`~terralab.widgets.aoi`: the pieces it is made of.

- :class:`Swipe`, :class:`LayerManager`, :class:`Legend`: the swipe divider and its chooser
  (``m.swipe(left, right)``), the layer panel (``m.add_layer_manager()``) and class legends
  / colorbars (``m.add_legend(...)``).

- :class:`Inspector`, :class:`TimeSlider`, :class:`JobProgress`: pixel values on click
  (``m.add_inspector()``), a date slider over a stack (``m.add_time_slider(items)``) and a
  queued job's progress bar (``JobProgress(job)``).

- :class:`SearchPanel`: the catalog search form and its result list
  (``m.add_search_panel()``).

- :class:`VectorEditor`: edit mode for a polygon layer of my data (``m.edit(item)``), every
  vertex drag, insert, Ctrl-click delete, new or deleted polygon saved at once;
  ``m.save_aoi(title)`` keeps the drawn shapes as a layer of my data.
"""

from terralab.widgets.basemaps import BASEMAPS, BasemapError, basemap_layers
from terralab.widgets.inspector import Inspector
from terralab.widgets.job_progress import JobProgress
from terralab.widgets.layer_manager import LayerManager
from terralab.widgets.legend import Legend
from terralab.widgets.map import Map
from terralab.widgets.search_panel import SearchPanel
from terralab.widgets.swipe import Swipe
from terralab.widgets.time_slider import TimeSlider
from terralab.widgets.vector_editor import VectorEditor

__all__ = ["BASEMAPS", "BasemapError", "Inspector", "JobProgress", "LayerManager", "Legend",
           "Map", "SearchPanel", "Swipe", "TimeSlider", "VectorEditor", "basemap_layers"]
