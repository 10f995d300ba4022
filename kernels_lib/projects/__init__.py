"""Analysis projects (PRODUCT.md §3): a layer list, the history of runs and their results.

In a notebook::

    import terralab as tl
    p = tl.projects.create("Flood study, June")
    p.add_layer(tl.search(collections="sentinel-2-l2a", admin="德清县")[0], asset="visual")
    p.add_layer(tl.upload("field.tif"), opacity=0.6)
    p.set_layer(0, visible=False); p.move_layer(-1, 0); p.set_view((30.55, 119.97), 12)
    tl.projects.list()                 # my projects, most recently changed first
    p = tl.projects.open("flood study, june")   # by id or by name
    p.runs, p.results, p.history()     # jobs run in the project and what they made

Every change is saved at once: in-process into
``<TERRALAB_HOME>/users/<me>/projects/<id>/project.json`` (:mod:`terralab.projects.store`),
inside a terralab hub through the hub service (:mod:`terralab.client.projects`). Layers
only refer to items of my data or the catalog; deleting a project keeps them.
"""

from __future__ import annotations

from terralab.projects.errors import ProjectError, ProjectNotFound
from terralab.projects.model import Layer
from terralab.projects.project import Project

__all__ = ["Layer", "Project", "ProjectError", "ProjectNotFound"]
