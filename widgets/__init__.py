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

- :class:`ToolForm`: a tool's form built from its parameters (pickers over my data, catalog
  results, project layers and the drawn area; Run on the shared queue; the result on the
  map with swipe, legend and downloads); the no-code lab's tool pages are made of it.
- :class:`UploadPicker` and :func:`download_url`: uploads from the browser over HTTP in
  resumable chunks, and download links, both through the user's own server.
- :func:`tool_cards`: the gallery of tools; :func:`get_leaflet_tile_layer`: localtileserver's
  call on terralab's tiles. The pages of the no-code lab are in
  :mod:`terralab.widgets.pages`.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "BASEMAPS": "terralab.widgets.basemaps",
    "BasemapError": "terralab.widgets.basemaps",
    "Inspector": "terralab.widgets.inspector",
    "JobProgress": "terralab.widgets.job_progress",
    "LayerManager": "terralab.widgets.layer_manager",
    "Legend": "terralab.widgets.legend",
    "Map": "terralab.widgets.map",
    "SearchPanel": "terralab.widgets.search_panel",
    "Swipe": "terralab.widgets.swipe",
    "TimeSlider": "terralab.widgets.time_slider",
    "ToolForm": "terralab.widgets.tool_form",
    "UploadPicker": "terralab.widgets.upload_picker",
    "VectorEditor": "terralab.widgets.vector_editor",
    "basemap_layers": "terralab.widgets.basemaps",
    "download_url": "terralab.widgets.upload_picker",
    "get_leaflet_tile_layer": "terralab.widgets.localtiles",
    "tool_cards": "terralab.widgets.tool_gallery",
}

__all__ = ["BASEMAPS", "BasemapError", "Inspector", "JobProgress", "LayerManager", "Legend",
           "Map", "SearchPanel", "Swipe", "TimeSlider", "ToolForm", "UploadPicker",
           "VectorEditor", "basemap_layers", "download_url", "get_leaflet_tile_layer",
           "tool_cards"]


def __getattr__(name: str) -> Any:
    """Load a public name on first use.

    A page importing one module of the widgets (``terralab.widgets.pages.home``) then does
    not pay for the map, xarray and the tool forms.
    """
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'terralab.widgets' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
