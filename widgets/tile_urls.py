"""URLs of the per-user tile endpoint (:mod:`terralab.extension.tiles`) for the map.

A raster on the map is a ``TileLayer`` whose URL points at the user's own Jupyter server::

    <base_url>terralab/tiles/{z}/{x}/{y}.png?item=ID&bands=B08,B04,B03&rescale=0,0.3

The URL is relative to the page's origin (no host, no port), so the browser sends the
JupyterHub or Jupyter login cookie with each tile request; this is what makes local rasters
display inside JupyterHub, plain JupyterLab and Voilà alike, with no extra port.

The base URL (the server's ``base_url``) is, first found first used:

1. ``Map(tile_base_url=...)`` / ``base_url=`` here;
2. ``$TERRALAB_TILE_BASE_URL``;
3. ``$JUPYTERHUB_SERVICE_PREFIX`` (``/user/alice/`` inside a hub);
4. the ``base_url`` of the running Jupyter server that started this kernel (the server
   whose process is the kernel's parent, from ``list_running_servers()``);
5. ``/``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from terralab.home import user_dir
from terralab.identity import current_user
from terralab.settings import settings

__all__ = [
    "ENV_BASE_URL",
    "display_query",
    "relative_user_path",
    "source_query",
    "tile_base_url",
    "tile_info_url",
    "tile_url",
]

ENV_BASE_URL = "TERRALAB_TILE_BASE_URL"


def _normalise(base: str) -> str:
    base = base.strip() or "/"
    if not base.startswith(("/", "http://", "https://")):
        base = "/" + base
    return base if base.endswith("/") else base + "/"


def _server_base_url() -> str | None:
    """The base URL of the Jupyter server that is this kernel's parent process, if any."""
    try:
        from jupyter_server.serverapp import list_running_servers
    except ImportError:  # pragma: no cover - jupyter_server is a dependency
        return None
    parent = os.getppid()
    try:
        for server in list_running_servers():
            if server.get("pid") == parent:
                return server.get("base_url") or "/"
    except OSError:
        return None
    return None


def tile_base_url(base_url: str | None = None) -> str:
    """Return the base URL of the tile endpoint's server, ending with ``/``.

    Args:
        base_url: an explicit base URL (``/user/alice/`` or ``https://host/prefix/``).
    """
    configured = settings()
    for candidate in (base_url, configured.maps.tile_base_url, configured.hub.service_prefix):
        if candidate:
            return _normalise(candidate)
    return _normalise(_server_base_url() or "/")


def _join_pairs(value: Any) -> str:
    """``(0, 3000)`` → ``"0,3000"``; ``[(0, 1), (0, 2)]`` → ``"0,1;0,2"``; text as is."""
    if isinstance(value, str):
        return value
    items = list(value)
    if items and all(isinstance(v, Sequence) and not isinstance(v, str) for v in items):
        return ";".join(",".join(f"{float(x):g}" for x in pair) for pair in items)
    return ",".join(f"{float(x):g}" for x in items)


def display_query(*, bands: str | Sequence[int | str] | None = None,
                  rescale: str | Sequence[Any] | None = None, colormap: str | None = None,
                  nodata: float | str | None = None,
                  tilesize: int | None = None) -> dict[str, str]:
    """Return the display parameters as query strings (syntax: :mod:`terralab.tiles.params`).

    Args:
        bands: ``"B08,B04,B03"``, ``[4, 3, 2]`` or ``"B08"`` (one or three bands).
        rescale: ``"0,0.3"``, ``(0, 0.3)`` or one pair per band ``[(0, .3), (0, .3), (0, .4)]``.
        colormap: a rio-tiler colormap name (one band only).
        nodata: the value drawn transparent.
        tilesize: 256 or 512.
    """
    query: dict[str, str] = {}
    if bands is not None:
        query["bands"] = bands if isinstance(bands, str) else ",".join(str(b) for b in bands)
    if rescale is not None:
        query["rescale"] = _join_pairs(rescale)
    if colormap:
        query["colormap"] = colormap
    if nodata is not None:
        query["nodata"] = str(nodata)
    if tilesize is not None:
        query["tilesize"] = str(int(tilesize))
    return query


def relative_user_path(path: str | os.PathLike[str], *, user: str | None = None,
                       home: Path | None = None) -> str:
    """Return ``path`` relative to the user's folder, as the tile endpoint's ``path=`` wants.

    A relative path that names an existing file in the user's folder is taken as is;
    otherwise the path is resolved (against the working directory) and must lie inside
    ``<TERRALAB_HOME>/users/<user>/``.

    Raises:
        ValueError: for a file outside the user's folder (the tile server cannot read it).
    """
    root = user_dir(user or current_user(), home=home).resolve()
    candidate = Path(path)
    if not candidate.is_absolute() and (root / candidate).exists():
        return candidate.as_posix()
    real = candidate.expanduser().resolve()
    if not real.is_relative_to(root):
        raise ValueError(f"{str(path)!r} is outside your folder {str(root)!r}; the map's tile "
                         "server only reads files inside it (copy the file there first)")
    return real.relative_to(root).as_posix()


def source_query(obj: Any, *, asset: str | None = None, user: str | None = None,
                 home: Path | None = None) -> dict[str, str]:
    """Return the source parameters (``item=``/``collection=``/``asset=`` or ``path=``).

    Args:
        obj: a pystac Item, a STAC item dict, a my-data record (anything with ``.id`` and
            an ``.item`` dict), an item id given as ``"item:ID"``, or a file path.
        asset: the item's asset to show (default: the collection's preset).
        user: whose folder a path is in (default: the current user).
        home: the terralab data folder.
    """
    query: dict[str, str] = {}
    if isinstance(obj, (str, os.PathLike)) and not str(obj).startswith("item:"):
        return {"path": relative_user_path(obj, user=user, home=home)}
    if isinstance(obj, str):
        query["item"] = obj.removeprefix("item:")
    elif isinstance(obj, Mapping):
        query["item"] = str(obj["id"])
        if obj.get("collection"):
            query["collection"] = str(obj["collection"])
    elif hasattr(obj, "id"):
        query["item"] = str(obj.id)
        collection = getattr(obj, "collection_id", None)
        record_item = getattr(obj, "item", None)
        if collection is None and isinstance(record_item, Mapping):
            collection = record_item.get("collection")
        if collection:
            query["collection"] = str(collection)
    else:
        raise TypeError(f"cannot make tiles of a {type(obj).__name__}")
    if asset:
        query["asset"] = asset
    return query


def _encode(query: Mapping[str, str]) -> str:
    return urlencode(query, quote_via=quote, safe=",")


def tile_url(source: Mapping[str, str], display: Mapping[str, str] | None = None, *,
             base_url: str | None = None) -> str:
    """Return the ``{z}/{x}/{y}.png`` URL template of a source with a display.

    Args:
        source: from :func:`source_query`.
        display: from :func:`display_query`.
        base_url: see :func:`tile_base_url`.
    """
    query = _encode({**source, **(display or {})})
    return f"{tile_base_url(base_url)}terralab/tiles/{{z}}/{{x}}/{{y}}.png?{query}"


def tile_info_url(source: Mapping[str, str], display: Mapping[str, str] | None = None, *,
                  base_url: str | None = None) -> str:
    """Return the TileJSON URL (bounds, zooms, bands) of a source with a display."""
    query = _encode({**source, **(display or {})})
    return f"{tile_base_url(base_url)}terralab/tiles/info?{query}"
