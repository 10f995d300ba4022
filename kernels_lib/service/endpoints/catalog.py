"""The catalog endpoints (PRODUCT.md §1), declared once.

All of them need a hub login or API token. A user sees the public catalog plus their own
items, never another user's (another user's item is simply not found, 404); favourites and
the download ledger are kept per user in the platform database.

- ``GET catalog/collections``: the collections of the configured source.
- ``POST catalog/search``: one area (``area``, ``place``, ``admin``, ``geometry`` or
  ``bbox``) and the filters → a GeoJSON FeatureCollection with ``context``; an area that
  cannot be resolved is a 400 with the message (and ``candidates`` for an ambiguous name).
- ``GET catalog/items/{item_id}/thumbnail[?collection=&size=]``: a PNG quicklook (local
  items), or a redirect to the item's own preview on an allowed catalog host.
- ``GET catalog/items/{item_id}/download?asset=KEY[&collection=&bbox=w,s,e,n]``: the asset (or
  the window of it covering bbox), streamed and counted against the download quota. Its
  handler is written by hand (:class:`terralab.hub.catalog_handlers.DownloadHandler`).
- ``GET catalog/favourites``; ``PUT catalog/favourites/{item_id}[?collection=]`` (201 when
  added, 200 when it was one already); ``DELETE catalog/favourites/{item_id}[?collection=]``
  (204; 404 when it is not a favourite).

The operations share one :class:`CatalogState` per hub service process (the transport's
``resources["catalog"]``); in-process, each call opens its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from terralab.areas.errors import AreaError
from terralab.catalog.assets import AssetAccessError
from terralab.catalog.favourites import add_favourite, list_favourites, remove_favourite
from terralab.catalog.search import search
from terralab.quotas.checks import QuotaExceeded
from terralab.service.endpoint import (
    Answer,
    BinaryAnswer,
    CallContext,
    Endpoint,
    Redirect,
    RequestError,
)
from terralab.service.error_table import NotFound
from terralab.service.registry import declare

__all__ = ["CatalogState", "Collections", "DownloadQuery", "FavouriteAdded", "FeatureCollection",
           "ItemRef", "SearchRequest", "ThumbnailQuery", "find_item", "thumbnail_answer"]

_PREVIEW_HEADERS = {"Cache-Control": "private, max-age=3600"}
_AREAS = ("area", "place", "admin", "geometry", "bbox", "file")


class CatalogState:
    """What the catalog operations share in one service process: the index and the source.

    Both are opened on first use and kept, so a request never waits to open the index (an
    ingest may hold its write lock for minutes) and a STAC API's landing page and tokens are
    fetched once.

    Args:
        home: the terralab data folder.
    """

    def __init__(self, home: Any) -> None:
        self.home = home
        self._index: Any = None
        self._source: Any = None

    @property
    def index(self) -> Any:
        """The embedded index (public items and users' own items)."""
        if self._index is None:
            from terralab.catalog.index import CatalogIndex, default_index_path

            self._index = CatalogIndex(default_index_path(self.home))
        return self._index

    @property
    def source(self) -> Any:
        """The configured catalog source (the embedded index by default)."""
        if self._source is None:
            from terralab.catalog.sources import EmbeddedSource, get_source

            source = get_source(None, home=self.home)
            if isinstance(source, EmbeddedSource):  # share the one index of the service
                source.index.close()
                source = EmbeddedSource(self.index)
            self._source = source
        return self._source

    def close(self) -> None:
        """Close the index, if it was opened."""
        if self._index is not None:
            self._index.close()
            self._index = None
        self._source = None


@contextmanager
def _catalog(context: CallContext) -> Iterator[CatalogState]:
    """The transport's shared catalog state, or one opened for this call."""
    shared = context.resources.get("catalog")
    if shared is not None:
        yield shared
        return
    state = CatalogState(context.home)
    try:
        yield state
    finally:
        state.close()


def find_item(state: CatalogState, user: str, item_id: str,
              collection: str | None = None) -> tuple[dict[str, Any], str | None]:
    """Return the item ``item_id`` the user may see and its owner (None = public).

    The user's own items and the embedded index come first; then the configured source
    (a STAC API or pgstac), whose items are public.

    Raises:
        NotFound: when no such item is visible to the user.
    """
    found = state.index.lookup(item_id, collection=collection, owner=user)
    source = state.source
    if found is None and getattr(source, "index", None) is not state.index:
        item = source.get_item(item_id, collection)
        found = None if item is None else (item, None)
    if found is None:
        raise NotFound(f"no item {item_id!r} in the catalog")
    return found


def thumbnail_answer(item: dict[str, Any], owner: str | None, size: int,
                     home: Path) -> BinaryAnswer | Redirect:
    """The quicklook of ``item``: its PNG, or a redirect to its preview on an allowed host.

    A user's own item (an upload, a result) carries its preview, made when it was published;
    it is read through the same owner check as any of its files.

    Raises:
        NotFound: when there is no quicklook to give (a missing or refused file, no raster
            asset, a remote item without an allowed preview).
    """
    from terralab.catalog.assets import open_local_asset
    from terralab.catalog.thumbnails import ThumbnailError, preview_href, thumbnail

    if owner is not None and "thumbnail" in item.get("assets", {}):
        try:
            with open_local_asset(item, "thumbnail", owner=owner, home=home) as (handle, _):
                return BinaryAnswer(handle.read(), "image/png", _PREVIEW_HEADERS)
        except AssetAccessError as error:
            raise NotFound(str(error)) from None
    try:
        png = thumbnail(item, size=size, owner=owner, home=home)
    except (ThumbnailError, AssetAccessError) as error:
        remote = preview_href(item, home=home)  # an allowed catalog host only
        if remote:
            return Redirect(remote)
        raise NotFound(str(error)) from None
    return BinaryAnswer(png, "image/png", _PREVIEW_HEADERS)


class Collections(BaseModel):
    """``GET catalog/collections``: the source's name and its collections."""

    model_config = ConfigDict(extra="allow")
    source: str
    collections: list[dict[str, Any]]


class FeatureCollection(BaseModel):
    """A GeoJSON FeatureCollection of STAC items (search answers add ``context``)."""

    model_config = ConfigDict(extra="allow")
    type: str = "FeatureCollection"
    features: list[dict[str, Any]]


class SearchRequest(BaseModel):
    """``POST catalog/search``: one area at most, and the filters."""

    model_config = ConfigDict(extra="forbid")
    area: str | dict[str, Any] | list[float] | None = Field(
        None, description="a place or region name, a 6-digit code, GeoJSON or a bbox")
    place: str | None = Field(None, description="a place / POI name")
    admin: str | int | None = Field(None, description="an administrative region name or code")
    geometry: dict[str, Any] | list[float] | None = Field(
        None, description="a GeoJSON geometry or a [west, south, east, north] bbox")
    bbox: list[float] | None = Field(None, description="[west, south, east, north] in degrees")
    file: str | None = Field(None, description="refused: upload the vector file first and "
                                               "search by its geometry")
    start: str | None = Field(None, description='the earliest date ("2024", "2024-05", …)')
    end: str | None = Field(None, description="the latest date, inclusive")
    collections: str | list[str] | None = Field(None, description="collection ids")
    max_cloud: float | None = Field(None, description="the largest cloud cover, in percent")
    limit: int = Field(100, ge=1, le=1000, description="the most items to return")
    offset: int = Field(0, ge=0, le=10**9, description="how many matching items to skip")


class ItemRef(BaseModel):
    """A catalog item by id (and its collection, where ids repeat across collections)."""

    model_config = ConfigDict(extra="forbid")
    item_id: str
    collection: str | None = None


class ThumbnailQuery(ItemRef):
    """``GET catalog/items/{item_id}/thumbnail``."""

    size: int = Field(256, description="the quicklook's long side in pixels (16…1024; "
                                        "another size is not found)")


class DownloadQuery(ItemRef):
    """``GET catalog/items/{item_id}/download``."""

    asset: str | None = Field(None, description="the asset's key (required)")
    bbox: str | None = Field(None, description="west,south,east,north in degrees: the window "
                                               "of a raster to send")


class FavouriteAdded(BaseModel):
    """``PUT catalog/favourites/{item_id}``: 201 when added, 200 when it was one already."""

    id: str
    added: bool


def _collections(context: CallContext, request: None) -> dict[str, Any]:
    with _catalog(context) as state:
        source = state.source
        if getattr(source, "index", None) is state.index:
            found = state.index.collections(owner=context.caller.name)
        else:
            found = source.collections()
        return {"source": source.name, "collections": found}


def _search(context: CallContext, request: SearchRequest) -> dict[str, Any]:
    given = [key for key in _AREAS if getattr(request, key) is not None]
    if "file" in given:
        raise RequestError("upload the vector file first and search by its geometry")
    if len(given) > 1:
        raise RequestError(f"give one area, not {given}")
    bbox = tuple(request.bbox) if request.bbox else None
    with _catalog(context) as state:
        try:
            result = search(request.area, request.start, request.end, request.collections,
                            request.max_cloud, request.limit, place=request.place,
                            admin=None if request.admin is None else str(request.admin),
                            geometry=request.geometry or bbox, offset=request.offset,
                            source=state.source, user=context.caller.name, home=context.home)
        except AreaError:
            raise
        except (ValueError, TypeError, KeyError) as error:
            message = error.args[0] if isinstance(error, KeyError) and error.args else error
            raise RequestError(str(message)) from None
    payload = result.to_dict()
    payload["context"] = {"returned": len(result), "limit": request.limit,
                          "offset": result.query.offset, "source": result.source,
                          "area": getattr(result.area, "name", None)}
    return payload


def _thumbnail(context: CallContext, request: ThumbnailQuery) -> BinaryAnswer | Redirect:
    with _catalog(context) as state:
        item, owner = find_item(state, context.caller.name, request.item_id,
                                request.collection)
    return thumbnail_answer(item, owner, request.size, context.home)


def _favourites(context: CallContext, request: None) -> dict[str, Any]:
    return {"type": "FeatureCollection",
            "features": list_favourites(context.caller.name, home=context.home)}


def _add_favourite(context: CallContext, request: ItemRef) -> Answer:
    with _catalog(context) as state:
        item, _ = find_item(state, context.caller.name, request.item_id, request.collection)
    added = add_favourite(context.caller.name, item, home=context.home)
    return Answer(FavouriteAdded(id=request.item_id, added=bool(added)),
                  HTTPStatus.CREATED if added else HTTPStatus.OK)


def _remove_favourite(context: CallContext, request: ItemRef) -> None:
    if not remove_favourite(context.caller.name, request.item_id,
                            collection=request.collection, home=context.home):
        raise NotFound(f"{request.item_id!r} is not a favourite")


_ITEM = "catalog/items/{item_id}"
_FAVOURITE = "catalog/favourites/{item_id}"

declare(Endpoint("catalog.collections", "GET", "catalog/collections",
                 "The collections of the catalog (with my own ones)", call=_collections,
                 response=Collections))
declare(Endpoint("catalog.search", "POST", "catalog/search",
                 "Search the catalog by area, dates, collections and cloud cover",
                 call=_search, request=SearchRequest, response=FeatureCollection,
                 errors=(AreaError,),
                 description="Newest first. An area that cannot be resolved is a 400 with "
                             "the message; an ambiguous name also lists its candidates."))
declare(Endpoint("catalog.thumbnail", "GET", _ITEM + "/thumbnail",
                 "An item's PNG quicklook (or a redirect to its remote preview)",
                 call=_thumbnail, request=ThumbnailQuery, errors=(NotFound,),
                 media_type="image/png", other_statuses=(HTTPStatus.FOUND,)))
declare(Endpoint("catalog.download", "GET", _ITEM + "/download",
                 "One asset of an item (or its window over bbox), counted as my download",
                 request=DownloadQuery, raw=True, media_type="application/octet-stream",
                 errors=(NotFound, AssetAccessError, QuotaExceeded),
                 description="Streamed. A download over my monthly download quota is refused "
                             "before its first byte (429, with the reset date)."))
declare(Endpoint("catalog.favourites", "GET", "catalog/favourites", "My favourite items",
                 call=_favourites, response=FeatureCollection))
declare(Endpoint("catalog.add_favourite", "PUT", _FAVOURITE,
                 "Add an item I can see to my favourites", call=_add_favourite,
                 request=ItemRef, response=FavouriteAdded, status=HTTPStatus.CREATED,
                 other_statuses=(HTTPStatus.OK,), query=("collection",), errors=(NotFound,)))
declare(Endpoint("catalog.remove_favourite", "DELETE", _FAVOURITE,
                 "Remove an item from my favourites", call=_remove_favourite,
                 request=ItemRef, status=HTTPStatus.NO_CONTENT, errors=(NotFound,)))
