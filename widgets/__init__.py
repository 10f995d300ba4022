"""terralab.widgets: the ipyleaflet / ipywidgets user interface of terralab.

The map with swipe, draw and layers, the search panel and the tool forms arrive with the
widgets issue; this package is where they live (``from terralab.widgets import Map``).
"""

__all__: list[str] = []
