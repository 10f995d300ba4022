"""What a project holds, and the checks on every value a user can set.

A project is stored as one JSON document (see :mod:`terralab.projects.store`)::

    {"format": 1, "id": "3f9c0a1b2d4e", "name": "Flood study", "owner": "alice",
     "created": "...", "modified": "...",            # ISO 8601, UTC
     "layers": [{"ref": "...", "source": "my-data" | "catalog", "collection": ...,
                 "asset": ..., "title": ..., "visible": true, "opacity": 1.0, "style": {}}],
     "runs": ["job id", ...],                         # in submission order
     "results": [{"job": "job id", "items": ["my-data id", ...]}],
     "basemap": null, "view": null | {"center": [lat, lon], "zoom": 12}}

The layer list is in drawing order, as ``ipyleaflet.Map.layers``: the first layer is drawn
first (at the bottom), the last one on top. New layers and results go on top (the end).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from terralab.projects.errors import ProjectError

__all__ = ["ANY_ASSET", "FORMAT", "MAX_NAME", "MY_DATA", "SOURCES", "Layer", "check_basemap",
           "check_job_id", "check_layer_changes", "check_name", "check_view", "layer_index",
           "new_project", "now", "position"]

FORMAT = 1
MAX_NAME = 120
MAX_TITLE = 200
MAX_STYLE_BYTES = 16_384
MY_DATA = "my-data"  # the collection of my data (terralab.mydata.items.COLLECTION)
SOURCES = (MY_DATA, "catalog")
ANY_ASSET: Any = object()  # layer_index: a layer of that ref, whatever its asset
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}$")


def now() -> str:
    """Return the current time as ISO 8601 in UTC, to the microsecond (orders edits)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def check_name(name: Any) -> str:
    """Return a project name stripped of surrounding blanks, or raise.

    Raises:
        ProjectError: for a name that is not text, empty, longer than ``MAX_NAME``
            characters, or holds control characters.
    """
    if not isinstance(name, str):
        raise ProjectError("a project name is text")
    name = name.strip()
    if not name:
        raise ProjectError("a project needs a name")
    if len(name) > MAX_NAME:
        raise ProjectError(f"a project name has at most {MAX_NAME} characters "
                           f"({len(name)} given)")
    if _CONTROL.search(name):
        raise ProjectError("a project name cannot hold control characters (tabs, newlines…)")
    return name


def check_job_id(job_id: Any) -> str:
    """Return a job id (letters, digits, ``_.:-``, up to 80 characters), or raise."""
    if not isinstance(job_id, str) or not _TOKEN.match(job_id):
        raise ProjectError(f"not a job id: {job_id!r}")
    return job_id


def check_basemap(basemap: Any) -> str | None:
    """Return a basemap name (``"osm"``, ``"tianditu-img"``, ``"blank"`` …) or None.

    The map widget knows the basemaps; the project only keeps the name, never a token.
    """
    if basemap is None or basemap == "":
        return None
    if not isinstance(basemap, str) or not _TOKEN.match(basemap):
        raise ProjectError(f"not a basemap name: {basemap!r}")
    return basemap


def check_view(view: Any) -> dict[str, Any] | None:
    """Return a map view ``{"center": [lat, lon], "zoom": z}`` checked, or None to clear it.

    The centre is (latitude, longitude) as in ipyleaflet; the zoom is 0 to 30.
    """
    if view is None:
        return None
    if not isinstance(view, dict) or set(view) - {"center", "zoom"} or "center" not in view:
        raise ProjectError('a view is {"center": [lat, lon], "zoom": z}')
    center = view["center"]
    try:
        lat, lon = (float(v) for v in center)
    except (TypeError, ValueError):
        raise ProjectError(f"a view's center is (latitude, longitude), not {center!r}") from None
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 540:
        raise ProjectError(f"a view's center is (latitude, longitude), not {center!r}")
    zoom = view.get("zoom")
    if zoom is not None:
        if isinstance(zoom, bool) or not isinstance(zoom, int | float) or not 0 <= zoom <= 30:
            raise ProjectError(f"a view's zoom is a number from 0 to 30, not {zoom!r}")
        zoom = float(zoom) if zoom != int(zoom) else int(zoom)
    return {"center": [lat, lon], "zoom": zoom}


def check_layer_changes(*, title: Any = None, visible: Any = None, opacity: Any = None,
                        style: Any = None) -> dict[str, Any]:
    """Return the given layer settings checked (None = not given).

    Raises:
        ProjectError: for a title that is not short text, a visibility that is not a
            boolean, an opacity outside 0…1 or a style that is not a small JSON object.
    """
    changes: dict[str, Any] = {}
    if title is not None:
        if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE \
                or _CONTROL.search(title):
            raise ProjectError(f"a layer title is text of 1 to {MAX_TITLE} characters")
        changes["title"] = title.strip()
    if visible is not None:
        if not isinstance(visible, bool):
            raise ProjectError(f"visible is true or false, not {visible!r}")
        changes["visible"] = visible
    if opacity is not None:
        if isinstance(opacity, bool) or not isinstance(opacity, int | float) \
                or not 0 <= opacity <= 1:
            raise ProjectError(f"opacity is a number from 0 to 1, not {opacity!r}")
        changes["opacity"] = float(opacity)
    if style is not None:
        if not isinstance(style, dict) or not all(isinstance(k, str) for k in style):
            raise ProjectError("a layer style is a dict with text keys")
        try:
            size = len(json.dumps(style, allow_nan=False))
        except (TypeError, ValueError) as error:
            raise ProjectError(f"a layer style must be plain JSON data: {error}") from None
        if size > MAX_STYLE_BYTES:
            raise ProjectError(f"a layer style is at most {MAX_STYLE_BYTES} bytes of JSON")
        changes["style"] = json.loads(json.dumps(style))
    return changes


@dataclass(frozen=True)
class Layer:
    """One layer of a project: a reference to an item of my data or of the catalog.

    Attributes:
        ref: the my-data id or the catalog item id.
        source: ``"my-data"`` or ``"catalog"``.
        title: the name shown in the layer list.
        collection: the catalog collection (``"my-data"`` for my data).
        asset: the asset shown (None = the item's default).
        visible: shown on the map.
        opacity: 0 (transparent) to 1.
        style: display settings for the map (bands, rescale, colormap, vector colours…).
        missing: the item is gone (deleted from my data); the layer stays until removed.
    """

    ref: str
    source: str
    title: str
    collection: str | None = None
    asset: str | None = None
    visible: bool = True
    opacity: float = 1.0
    style: dict[str, Any] = field(default_factory=dict)
    missing: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the layer as JSON-ready data (with ``missing``)."""
        return {"ref": self.ref, "source": self.source, "collection": self.collection,
                "asset": self.asset, "title": self.title, "visible": self.visible,
                "opacity": self.opacity, "style": dict(self.style), "missing": self.missing}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Layer:
        """Rebuild a layer from stored or answered data."""
        return cls(ref=data["ref"], source=data["source"], title=data.get("title") or data["ref"],
                   collection=data.get("collection"), asset=data.get("asset"),
                   visible=bool(data.get("visible", True)),
                   opacity=float(data.get("opacity", 1.0)), style=dict(data.get("style") or {}),
                   missing=bool(data.get("missing", False)))


def new_project(project_id: str, name: str, owner: str) -> dict[str, Any]:
    """Return the document of a new, empty project."""
    stamp = now()
    return {"format": FORMAT, "id": project_id, "name": name, "owner": owner,
            "created": stamp, "modified": stamp, "layers": [], "runs": [], "results": [],
            "basemap": None, "view": None}


def position(index: Any, count: int, *, what: str = "layer") -> int:
    """Return ``index`` as a position in a list of ``count`` (negative counts from the end).

    Raises:
        ProjectError: for an index that is not an integer or out of range.
    """
    if isinstance(index, bool) or not isinstance(index, int):
        raise ProjectError(f"a {what} index is an integer, not {index!r}")
    if not -count <= index < count:
        raise ProjectError(f"no {what} {index}: the project has {count} layer"
                           f"{'' if count == 1 else 's'}")
    return index % count


def layer_index(layers: list[dict[str, Any]], *, index: int | None = None,
                ref: str | None = None, asset: Any = ANY_ASSET) -> int:
    """Find a layer by position, by item id (and asset), or by both.

    With both, the id (and asset, when given) guards the position: the layer at ``index``
    is taken when it matches, otherwise the one matching layer (another writer may have
    shifted the list meanwhile).

    Args:
        layers: the project's layers.
        index: the position (negative counts from the top).
        ref: the layer's item id.
        asset: the layer's asset (None = the item's default); :data:`ANY_ASSET` = any.

    Raises:
        ProjectError: when no layer matches, or several do.
    """
    if ref is None:
        if index is None:
            raise ProjectError("say which layer: its index or its item id")
        return position(index, len(layers))
    matches = [i for i, layer in enumerate(layers) if layer["ref"] == ref
               and (asset is ANY_ASSET or layer.get("asset") == asset)]
    if index is not None and not isinstance(index, bool) and isinstance(index, int) \
            and -len(layers) <= index < len(layers) and index % len(layers) in matches:
        return index % len(layers)
    if not matches:
        raise ProjectError(f"the project has no layer of {ref!r}"
                           + ("" if asset is ANY_ASSET or asset is None else f" ({asset})"))
    if len(matches) > 1:
        raise ProjectError(f"the project has {len(matches)} layers of {ref!r} (different "
                           f"assets); say which by its index: {matches}")
    return matches[0]
