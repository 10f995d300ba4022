"""The catalog calls of ``import terralab as tl``: search, favourites and downloads.

Inside a terralab hub (the service's URL in the settings, :mod:`terralab.settings`, and
JupyterHub's ``JUPYTERHUB_API_TOKEN``) :func:`search` and :func:`download` go to the trusted
hub service, which applies the user's rights and counts their download bytes; each call is a
declared endpoint of :mod:`terralab.service.endpoints.catalog` (:class:`CatalogClient`).
Without a hub (a plain notebook, a script, the tests) the same calls run in this process.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from terralab.catalog.disposition import attachment_name
from terralab.catalog.downloads import chosen_assets, write_whole
from terralab.catalog.favourites import add_favourite, list_favourites, remove_favourite
from terralab.catalog.query import SearchQuery
from terralab.catalog.results import SearchResult
from terralab.catalog.search import search as _search
from terralab.catalog.search import search_query
from terralab.quotas.downloads import download as charged_download
from terralab.service.http_client import ServiceClient, ServiceError
from terralab.settings import settings

__all__ = ["CatalogClient", "SearchQuery", "SearchResult", "ServiceError", "add_favourite",
           "download", "list_favourites", "remove_favourite", "search", "service_client"]


class CatalogClient(ServiceClient):
    """The hub service's client with the catalog calls (search, favourites, downloads)."""

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        """``catalog.search``; returns the FeatureCollection (with ``context``)."""
        return self.request("catalog.search", **body)

    def search_query(self, query: SearchQuery, area: Any = None) -> SearchResult:
        """Answer ``query`` (made by :func:`~terralab.catalog.search.search_query`)."""
        from shapely.geometry import mapping

        body: dict[str, Any] = {
            "start": query.start.isoformat() if query.start else None,
            "end": query.end.isoformat() if query.end else None,
            "collections": list(query.collections) if query.collections else None,
            "max_cloud": query.max_cloud, "limit": query.limit, "offset": query.offset,
        }
        if query.geometry is not None:
            body["geometry"] = mapping(query.geometry)
        payload = self.search(body)
        return SearchResult(payload["features"], area=area, query=query,
                            source=f"hub service ({payload.get('context', {}).get('source')})")

    def favourites(self) -> list[dict[str, Any]]:
        """``catalog.favourites``: my favourite items."""
        return self.request("catalog.favourites")["features"]

    def add_favourite(self, item_id: str, collection: str | None = None) -> bool:
        """``catalog.add_favourite``; True when newly added."""
        return bool(self.request("catalog.add_favourite", item_id=item_id,
                                 collection=collection)["added"])

    def remove_favourite(self, item_id: str, collection: str | None = None) -> None:
        """``catalog.remove_favourite``."""
        self.request("catalog.remove_favourite", item_id=item_id, collection=collection)

    def download(self, item_id: str, asset: str, dest: Path, *, collection: str | None = None,
                 bbox: tuple[float, float, float, float] | None = None) -> Path:
        """``catalog.download``: stream one asset into the folder ``dest`` (``.part`` first)."""
        values: dict[str, Any] = {"item_id": item_id, "asset": asset, "collection": collection}
        if bbox:
            values["bbox"] = ",".join(str(v) for v in bbox)
        response = self.send("catalog.download", values, stream=True)
        name = attachment_name(response.headers.get("Content-Disposition", ""),
                               f"{item_id}_{asset}")
        target = Path(dest) / name
        try:
            write_whole(target, response.iter_content(1 << 20))
        finally:
            response.close()
        return target


def service_client() -> CatalogClient | None:
    """Return a catalog client of the hub service inside a terralab hub, else None."""
    configured = settings()
    url, token = configured.service.url, configured.hub.api_token
    if url and token:
        return CatalogClient(url, token)
    return None


def search(area: Any = None, start: str | date | datetime | None = None,
           end: str | date | datetime | None = None,
           collections: str | Iterable[str] | None = None, max_cloud: float | None = None,
           limit: int = 100, *, place: str | None = None, admin: str | None = None,
           geometry: Any = None, file: str | Path | None = None, offset: int = 0,
           source: Any = None, user: str | None = None,
           home: Path | None = None) -> SearchResult:
    """Search the catalog (``tl.search``); the arguments are those of the local search.

    See :func:`terralab.catalog.search.search` for each argument.
    Inside a terralab hub, without ``source`` and ``home``, the area is resolved here and
    the search goes to the hub service, which shows the public catalog and the caller's
    own items.

    Returns:
        The items, newest first, as a :class:`SearchResult`.

    Raises:
        terralab.areas.AreaError: for an area that cannot be resolved.
        ValueError: for bad dates, cloud cover or limits.
    """
    client = service_client() if source is None and home is None else None
    if client is None:
        return _search(area, start, end, collections, max_cloud, limit, place=place,
                       admin=admin, geometry=geometry, file=file, offset=offset,
                       source=source, user=user, home=home)
    query, resolved = search_query(area, start, end, collections, max_cloud, limit,
                                   place=place, admin=admin, geometry=geometry, file=file,
                                   offset=offset, user=user)
    return client.search_query(query, resolved)


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
        return charged_download(data, dest, assets=assets, geometry=geometry, user=user,
                                home=home)
    # inside a hub: the service checks the user's rights and counts the bytes
    folder = Path(dest)
    folder.mkdir(parents=True, exist_ok=True)
    keys = chosen_assets(data, assets)
    bbox = tuple(geometry.bounds) if geometry is not None else None
    return [client.download(data["id"], key, folder, collection=data.get("collection"),
                            bbox=bbox) for key in keys]
