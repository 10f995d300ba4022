"""The catalog calls of ``import terralab as tl``: search, favourites and downloads.

``tl.search`` (:func:`terralab.catalog.search.search`) and the favourites answer from the
catalog; :func:`download` sends an item's assets into a folder. Inside a terralab hub the
hub service sends the files and counts the bytes against the download quota.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from terralab.catalog.downloads import chosen_assets
from terralab.catalog.downloads import download as _download
from terralab.catalog.favourites import add_favourite, list_favourites, remove_favourite
from terralab.catalog.query import SearchQuery
from terralab.catalog.remote import service_client
from terralab.catalog.results import SearchResult
from terralab.catalog.search import search

__all__ = ["SearchQuery", "SearchResult", "add_favourite", "download", "list_favourites",
           "remove_favourite", "search"]


def download(item: Any, dest: str | Path = ".", *, assets: list[str] | None = None,
             area: Any = None, user: str | None = None, home: Path | None = None) -> list[Path]:
    """Download assets of a found item (a pystac.Item or a STAC item dict) into ``dest``.

    Args:
        item: the item, e.g. ``tl.search(...)[0]``.
        dest: the folder to write into.
        assets: the asset keys; None = the item's data assets.
        area: clip rasters to this area (anything :func:`terralab.areas.resolve_area`
            takes: a region name, a bbox, a GeoJSON dict, a vector file …).
        user: the user charged for the bytes (default ``$JUPYTERHUB_USER``).
        home: the terralab data folder. Inside a terralab hub, without ``user`` and
            ``home``, the hub service sends the files and counts the bytes.

    Returns:
        The files written.
    """
    data = item.to_dict(transform_hrefs=False) if hasattr(item, "to_dict") else dict(item)
    geometry = None
    if area is not None:
        from terralab.areas import resolve_area

        geometry = resolve_area(area).geometry
    client = service_client() if home is None and user is None else None
    if client is None:
        return _download(data, dest, assets=assets, geometry=geometry, user=user, home=home)
    # inside a hub: the service checks the user's rights and counts the bytes
    folder = Path(dest)
    folder.mkdir(parents=True, exist_ok=True)
    keys = chosen_assets(data, assets)
    bbox = tuple(geometry.bounds) if geometry is not None else None
    return [client.download(data["id"], key, folder, collection=data.get("collection"),
                            bbox=bbox) for key in keys]
