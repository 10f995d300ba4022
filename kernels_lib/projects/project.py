"""The ``Project`` handle of ``tl.projects``: a project's state and the calls that change it.

Every method saves at once: in-process it writes the project file
(:mod:`terralab.projects.store`), inside a hub it calls the hub service
(:mod:`terralab.projects.remote`). Both transports answer the whole project after each
change, so the handle always shows what is saved, including what others (a worker adding
a result) changed meanwhile.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, Protocol

from terralab.projects.errors import ProjectError
from terralab.projects.model import (
    MY_DATA,
    Layer,
    check_basemap,
    check_layer_changes,
    check_name,
    check_view,
)

__all__ = ["Project", "ProjectBackend", "layer_ref"]


class ProjectBackend(Protocol):
    """What a transport answers; each call returns the project document after the change."""

    def get(self, project_id: str) -> dict[str, Any]:
        """Return the project."""
        ...

    def update(self, project_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Set ``name``, ``view`` and/or ``basemap`` (the keys given)."""
        ...

    def add_layer(self, project_id: str, spec: dict[str, Any]) -> dict[str, Any]:
        """Add a layer: ``ref`` and optional ``source``, ``collection``, settings, ``index``."""
        ...

    def change_layer(self, project_id: str, which: dict[str, Any],
                     changes: dict[str, Any]) -> dict[str, Any]:
        """Change a layer's settings, or move it (``changes["index"]``).

        ``which`` selects the layer: ``index`` and/or ``ref``, and ``asset`` when given
        (see :func:`terralab.projects.model.layer_index`).
        """
        ...

    def remove_layer(self, project_id: str, which: dict[str, Any]) -> dict[str, Any]:
        """Remove a layer (``which`` as for :meth:`change_layer`)."""
        ...

    def delete(self, project_id: str) -> None:
        """Delete the project."""
        ...

    def history(self, project_id: str) -> list[dict[str, Any]]:
        """Return the summaries of the project's jobs, in submission order."""
        ...


def layer_ref(item: Any) -> tuple[str, str | None, str | None]:
    """Return ``(item id, collection, source)`` of what may be added as a layer.

    Accepts an id, a my-data record (``tl.my_data()[0]``, ``tl.upload(...)``), a found
    catalog item (a ``pystac.Item`` such as ``tl.search(...)[0]``, or its dict), a tool
    result (anything with a ``record``) or a :class:`Layer`.
    """
    if isinstance(item, str):
        return item, None, None
    if isinstance(item, Layer):
        return item.ref, item.collection, item.source
    record = getattr(item, "record", None)
    if record is not None and hasattr(record, "kind"):
        item = record
    if hasattr(item, "kind") and hasattr(item, "owner") and isinstance(getattr(item, "id", None),
                                                                        str):
        return item.id, MY_DATA, MY_DATA  # a MyDataRecord
    if hasattr(item, "to_dict"):
        item = item.to_dict(transform_hrefs=False) if hasattr(item, "assets") else item.to_dict()
    if isinstance(item, dict) and isinstance(item.get("id"), str):
        collection = item.get("collection")
        return item["id"], collection, MY_DATA if collection == MY_DATA else None
    raise ProjectError(f"cannot add {type(item).__name__} as a layer: give an item id, "
                       "a my-data item or a catalog item")


class Project:
    """One analysis project: its layers, the history of its runs and their results.

    Get one from ``tl.projects.create``, ``tl.projects.open`` or ``tl.projects.list``.
    Changing methods save at once and return the project, so they chain::

        p = tl.projects.create("Flood study")
        p.add_layer(tl.search(...)[0], asset="visual").add_layer(upload.id, opacity=0.6)
        p.move_layer(upload.id, 0)          # to the bottom
    """

    def __init__(self, data: dict[str, Any], backend: ProjectBackend) -> None:
        self._backend = backend
        self._data: dict[str, Any] = {}
        self._load(data)

    def _load(self, data: dict[str, Any]) -> Project:
        self._data = copy.deepcopy(data)
        return self

    id = property(lambda self: self._data["id"], doc="The project id (12 hex digits).")
    name = property(lambda self: self._data["name"], doc="The project name.")
    owner = property(lambda self: self._data.get("owner"), doc="The user it belongs to.")
    created = property(lambda self: self._data["created"], doc="Created (ISO 8601, UTC).")
    modified = property(lambda self: self._data["modified"], doc="Last change (ISO 8601, UTC).")
    basemap = property(lambda self: self._data.get("basemap"), doc="The basemap name, or None.")

    @property
    def layers(self) -> list[Layer]:
        """The layers in drawing order: the first at the bottom, the last on top."""
        return [Layer.from_dict(layer) for layer in self._data["layers"]]

    @property
    def runs(self) -> list[str]:
        """The ids of the jobs run in this project, in submission order."""
        return list(self._data["runs"])

    @property
    def results(self) -> list[dict[str, Any]]:
        """The results: ``{"job": job id, "items": [my-data ids]}`` per finished job."""
        return copy.deepcopy(self._data["results"])

    @property
    def view(self) -> dict[str, Any] | None:
        """The saved map view ``{"center": [lat, lon], "zoom": z}``, or None."""
        return copy.deepcopy(self._data.get("view"))

    def to_dict(self) -> dict[str, Any]:
        """Return the project as JSON-ready data (layers with their ``missing`` flag)."""
        return copy.deepcopy(self._data)

    def __repr__(self) -> str:
        return (f"<Project {self.id} {self.name!r}: {len(self._data['layers'])} layers, "
                f"{len(self._data['runs'])} runs>")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Project) and other._data == self._data

    __hash__ = None  # type: ignore[assignment]

    def refresh(self) -> Project:
        """Read the saved project again (changes made elsewhere, e.g. a finished run)."""
        return self._load(self._backend.get(self.id))

    def rename(self, name: str) -> Project:
        """Give the project a new name (unique among the owner's projects)."""
        return self._load(self._backend.update(self.id, {"name": check_name(name)}))

    def set_view(self, center: Sequence[float] | None = None,
                 zoom: float | None = None) -> Project:
        """Save the map view: ``center`` as (latitude, longitude) and ``zoom``; None clears."""
        view = None if center is None else check_view({"center": list(center), "zoom": zoom})
        return self._load(self._backend.update(self.id, {"view": view}))

    def set_basemap(self, basemap: str | None) -> Project:
        """Save the basemap by name (``"osm"``, ``"tianditu-img"``, ``"blank"`` …)."""
        return self._load(self._backend.update(self.id, {"basemap": check_basemap(basemap)}))

    def add_layer(self, item: Any, *, title: str | None = None, source: str | None = None,
                  collection: str | None = None, asset: str | None = None,
                  visible: bool = True, opacity: float = 1.0,
                  style: dict[str, Any] | None = None, index: int | None = None) -> Project:
        """Add an item of my data or of the catalog as a layer (on top unless ``index``).

        Args:
            item: an item id, a my-data item, a found catalog item or a tool result.
            title: the name in the layer list (default: the item's title).
            source: ``"my-data"`` or ``"catalog"`` (default: found out from the id).
            collection: the catalog collection, when the id alone is ambiguous.
            asset: the asset to show (default: the item's own choice).
            visible: shown on the map.
            opacity: 0 (transparent) to 1.
            style: display settings for the map (bands, rescale, colormap …).
            index: where in the drawing order (default: on top).

        Raises:
            ProjectError: for an item that does not exist or is not the user's.
        """
        ref, found_collection, found_source = layer_ref(item)
        check_layer_changes(title=title, visible=visible, opacity=opacity, style=style)
        spec = {"ref": ref, "source": source or found_source,
                "collection": collection or found_collection, "asset": asset, "title": title,
                "visible": visible, "opacity": opacity, "style": style, "index": index}
        return self._load(self._backend.add_layer(self.id, spec))

    def _locate(self, which: int | str | Layer) -> dict[str, Any]:
        """Return the selector of a layer given by index, item id or Layer.

        An index is sent with its layer's ref and asset, so a list shifted meanwhile (a
        result added by a worker) still finds the layer meant.
        """
        layers = self._data["layers"]
        if isinstance(which, Layer):
            for i, layer in enumerate(layers):
                if layer["ref"] == which.ref and layer.get("asset") == which.asset:
                    return {"index": i, "ref": which.ref, "asset": which.asset}
            return {"ref": which.ref, "asset": which.asset}
        if isinstance(which, str):
            return {"ref": which}
        if isinstance(which, int) and not isinstance(which, bool) \
                and -len(layers) <= which < len(layers):
            layer = layers[which]
            return {"index": which % len(layers), "ref": layer["ref"],
                    "asset": layer.get("asset")}
        return {"index": which}

    def layer(self, which: int | str | Layer) -> Layer:
        """Return one layer, by index, item id or Layer."""
        from terralab.projects.model import layer_index

        return Layer.from_dict(self._data["layers"][layer_index(self._data["layers"],
                                                                **self._locate(which))])

    def remove_layer(self, which: int | str | Layer) -> Project:
        """Remove a layer (by index, item id or Layer); the item itself is kept."""
        return self._load(self._backend.remove_layer(self.id, self._locate(which)))

    def move_layer(self, which: int | str | Layer, index: int) -> Project:
        """Move a layer to position ``index`` of the drawing order (0 = bottom, -1 = top)."""
        return self._load(self._backend.change_layer(self.id, self._locate(which),
                                                     {"index": index}))

    def set_layer(self, which: int | str | Layer, *, visible: bool | None = None,
                  opacity: float | None = None, style: dict[str, Any] | None = None,
                  title: str | None = None) -> Project:
        """Change a layer's visibility, opacity, style or title (the ones given)."""
        changes = check_layer_changes(title=title, visible=visible, opacity=opacity,
                                      style=style)
        return self._load(self._backend.change_layer(self.id, self._locate(which), changes))

    def history(self) -> list[dict[str, Any]]:
        """Return the summaries of this project's runs (jobs), in submission order."""
        return self._backend.history(self.id)

    def delete(self) -> None:
        """Delete the project (its layers' items stay in my data and the catalog)."""
        self._backend.delete(self.id)
