"""The catalog endpoints of the terralab hub service (PRODUCT.md §1).

All of them need a hub login or API token (:meth:`APIHandler.require_user`). A user sees the
public catalog plus their own items, never another user's; favourites and the download
ledger are kept per user in the platform database.

- ``GET catalog/collections``: the collections of the configured source.
- ``POST catalog/search``: body ``{"place" | "admin" | "geometry" | "bbox" | "area": …,
  "start", "end", "collections", "max_cloud", "limit", "offset"}`` → a GeoJSON
  FeatureCollection with ``context``; a bad area → 400 with the message (and
  ``candidates`` for an ambiguous name).
- ``GET catalog/items/{id}/thumbnail[?collection=&size=]``: a PNG quicklook (local items) or
  a redirect to the item's own preview (remote items).
- ``GET catalog/items/{id}/download?asset=KEY[&collection=&bbox=w,s,e,n]``: the asset (or
  the window of it covering bbox), streamed; the bytes sent are recorded for the user. A
  download over the user's monthly download quota is refused before its first byte (429,
  with the reset date; :func:`terralab.hub.quota_handlers.refuse_download`).
- ``GET catalog/favourites``; ``PUT|DELETE catalog/favourites/{id}[?collection=]``.
"""

from __future__ import annotations

from functools import partial
from http import HTTPStatus
from typing import Any

from tornado import iostream, web
from tornado.ioloop import IOLoop

from terralab.catalog.disposition import content_disposition
from terralab.hub.api_handler import APIHandler

__all__ = ["CatalogState", "catalog_routes"]


class CatalogState:
    """What the catalog endpoints share in one service process: the index and the source.

    Both are opened on first use and kept, so a request never waits to open the index (an
    ingest may hold its write lock for minutes) and a STAC API's landing page and tokens are
    fetched once.
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


class CatalogHandler(APIHandler):
    """Shared parts of the catalog endpoints: the data folder and item look-up."""

    def initialize(self, state: CatalogState) -> None:
        """Keep the service's catalog state."""
        self.state = state
        self.home = state.home

    async def find_item(self, user: str, item_id: str) -> tuple[dict[str, Any], str | None]:
        """Return the item ``item_id`` the user may see and its owner (None = public).

        The user's own items and the embedded index come first; then the configured source
        (a STAC API or pgstac), whose items are public.

        Raises:
            tornado.web.HTTPError: 404 when no such item is visible to the user.
        """
        collection = self.get_query_argument("collection", None)

        def lookup() -> tuple[dict[str, Any], str | None] | None:
            found = self.state.index.lookup(item_id, collection=collection, owner=user)
            source = self.state.source
            if found is None and getattr(source, "index", None) is not self.state.index:
                item = source.get_item(item_id, collection)
                found = None if item is None else (item, None)
            return found

        found = await self.blocking(lookup)
        if found is None:
            raise web.HTTPError(HTTPStatus.NOT_FOUND, f"no item {item_id!r} in the catalog")
        return found


class CollectionsHandler(CatalogHandler):
    """``GET catalog/collections``."""

    async def get(self) -> None:
        """List the collections of the catalog source (with the caller's own ones)."""
        user = self.require_user()["name"]
        source = self.state.source

        def listing() -> list[dict[str, Any]]:
            if getattr(source, "index", None) is self.state.index:
                return self.state.index.collections(owner=user)
            return source.collections()

        self.write_json({"source": source.name, "collections": await self.blocking(listing)})


class SearchHandler(CatalogHandler):
    """``POST catalog/search``."""

    async def post(self) -> None:
        """Search the catalog with the body's area and filters."""
        user = self.require_user()["name"]
        body = self.body_json()
        from terralab.areas import AmbiguousAreaError, AreaError
        from terralab.catalog.search import search

        keys = ("area", "place", "admin", "geometry", "bbox", "file")
        given = [k for k in keys if body.get(k) is not None]
        if "file" in given:
            raise web.HTTPError(HTTPStatus.BAD_REQUEST,
                                "upload the vector file first and search by its geometry")
        if len(given) > 1:
            raise web.HTTPError(HTTPStatus.BAD_REQUEST, f"give one area, not {given}")
        bbox = body.get("bbox")
        limit = body.get("limit", 100)
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise web.HTTPError(HTTPStatus.BAD_REQUEST, "limit must be an integer 1…1000")

        def run() -> Any:
            return search(body.get("area"), body.get("start"), body.get("end"),
                          body.get("collections"), body.get("max_cloud"), limit,
                          place=body.get("place"), admin=body.get("admin"),
                          geometry=body.get("geometry") or (tuple(bbox) if bbox else None),
                          offset=int(body.get("offset") or 0), source=self.state.source,
                          user=user, home=self.home)

        try:
            result = await IOLoop.current().run_in_executor(None, run)
        except AmbiguousAreaError as error:
            self.write_json({"status": 400, "message": str(error),
                             "candidates": [_candidate(c) for c in error.candidates]}, 400)
            return
        except (AreaError, ValueError, TypeError, KeyError) as error:
            message = error.args[0] if isinstance(error, KeyError) and error.args else error
            raise web.HTTPError(HTTPStatus.BAD_REQUEST, str(message)) from None
        payload = result.to_dict()
        payload["context"] = {"returned": len(result), "limit": limit,
                              "offset": result.query.offset, "source": result.source,
                              "area": getattr(result.area, "name", None)}
        self.write_json(payload)


def _candidate(candidate: Any) -> dict[str, Any] | str:
    """A JSON view of one candidate of an ambiguous name."""
    to_dict = getattr(candidate, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    fields = getattr(candidate, "__dataclass_fields__", None)
    if fields:
        return {k: getattr(candidate, k) for k in fields
                if isinstance(getattr(candidate, k), str | int | float | None)}
    return str(candidate)


class ThumbnailHandler(CatalogHandler):
    """``GET catalog/items/{id}/thumbnail``."""

    async def get(self, item_id: str) -> None:
        """Answer the item's PNG quicklook, or redirect to a remote item's preview."""
        user = self.require_user()["name"]
        from terralab.catalog.assets import AssetAccessError
        from terralab.catalog.thumbnails import ThumbnailError, preview_href, thumbnail

        item, owner = await self.find_item(user, item_id)
        try:
            size = int(self.get_query_argument("size", "256") or 256)
        except ValueError:
            raise web.HTTPError(HTTPStatus.BAD_REQUEST, "size is a number of pixels") from None
        if owner is not None and "thumbnail" in item.get("assets", {}):
            # a user's own item (an upload, a result) carries its preview, made when it was
            # published; it is read through the same owner check as any of its files
            try:
                png = await self.blocking(_own_preview, item, owner, self.home)
            except AssetAccessError as error:
                raise web.HTTPError(HTTPStatus.NOT_FOUND, str(error)) from None
            self.set_header("Content-Type", "image/png")
            self.set_header("Cache-Control", "private, max-age=3600")
            self.finish(png)
            return
        try:
            png = await IOLoop.current().run_in_executor(
                None, lambda: thumbnail(item, size=size, owner=owner, home=self.home))
        except (ThumbnailError, AssetAccessError) as error:
            remote = preview_href(item, home=self.home)  # an allowed catalog host only
            if remote:
                self.redirect(remote)
                return
            raise web.HTTPError(HTTPStatus.NOT_FOUND, str(error)) from None
        self.set_header("Content-Type", "image/png")
        self.set_header("Cache-Control", "private, max-age=3600")
        self.finish(png)


class DownloadHandler(CatalogHandler):
    """``GET catalog/items/{id}/download?asset=KEY``."""

    default_asset: str | None = None

    def download_name(self, item: dict[str, Any], filename: str) -> str:
        """The file name the client is given (the asset's own by default)."""
        return filename

    async def get(self, item_id: str) -> None:
        """Stream one asset (or its clipped window) and record the bytes sent."""
        caller = self.require_user()
        user = caller["name"]
        from shapely.geometry import box

        from terralab.catalog.assets import AssetAccessError
        from terralab.catalog.downloads import open_asset
        from terralab.hub.quota_handlers import refuse_download

        item, owner = await self.find_item(user, item_id)
        key = self.get_query_argument("asset", None) or self.default_asset
        if not key:
            raise web.HTTPError(HTTPStatus.BAD_REQUEST,
                                f"choose an asset: ?asset= one of {', '.join(item['assets'])}")
        geometry = None
        if bbox := self.get_query_argument("bbox", None):
            try:
                west, south, east, north = (float(v) for v in bbox.split(","))
            except ValueError:
                raise web.HTTPError(HTTPStatus.BAD_REQUEST,
                                    "bbox is west,south,east,north in degrees") from None
            geometry = box(west, south, east, north)
        if await refuse_download(self, caller, 0, self.home):
            return
        try:
            stream = await IOLoop.current().run_in_executor(
                None, lambda: open_asset(item, key, owner=owner, geometry=geometry,
                                         home=self.home))
        except AssetAccessError as error:
            raise web.HTTPError(HTTPStatus.NOT_FOUND, str(error)) from None
        except ValueError as error:
            raise web.HTTPError(HTTPStatus.BAD_REQUEST, str(error)) from None
        if stream.size and await refuse_download(self, caller, stream.size, self.home):
            stream.close()
            return
        try:
            self.set_header("Content-Type", stream.media_type)
            self.set_header("Cache-Control", "no-store")
            self.set_header("Content-Disposition",
                            content_disposition(self.download_name(item, stream.filename)))
            if stream.size is not None:
                self.set_header("Content-Length", str(stream.size))
            await self.send_metered(user, item, key, stream.chunks)
        finally:
            stream.close()

    async def send_metered(self, user: str, item: dict[str, Any], key: str,
                           chunks: Any) -> int:
        """Send ``chunks`` (an iterator of bytes, read off the IO loop) and charge them.

        The ledger is written before the last chunk goes out, so it is complete by the time
        the client has the whole file; a download that ends early (the client went away,
        the origin failed) is charged for what was sent, within a chunk.

        Returns:
            The bytes sent.
        """
        from terralab.catalog.downloads import record_download

        sent, recorded = 0, False
        try:
            chunk = await self.blocking(next, chunks, b"")
            while chunk:
                following = await self.blocking(next, chunks, b"")
                if not following:
                    await self.blocking(partial(record_download, user, item, key,
                                                sent + len(chunk), home=self.home))
                    recorded = True
                self.write(chunk)
                await self.flush()
                sent += len(chunk)
                chunk = following
            await self.finish()
        except iostream.StreamClosedError:
            pass
        finally:
            if not recorded:
                await self.blocking(partial(record_download, user, item, key, sent,
                                            home=self.home))
        return sent


def _own_preview(item: dict[str, Any], owner: str, home: Any) -> bytes:
    """Read the ``thumbnail`` asset of a user's own item (checked to be in their folder)."""
    from terralab.catalog.assets import open_local_asset

    with open_local_asset(item, "thumbnail", owner=owner, home=home) as (handle, _):
        return handle.read()


class FavouritesHandler(CatalogHandler):
    """``GET catalog/favourites`` and ``PUT|DELETE catalog/favourites/{id}``."""

    async def get(self, item_id: str | None = None) -> None:
        """List the caller's favourites as a FeatureCollection."""
        user = self.require_user()["name"]
        if item_id:
            raise web.HTTPError(HTTPStatus.METHOD_NOT_ALLOWED, "GET lists all favourites")
        from terralab.catalog.favourites import list_favourites

        self.write_json({"type": "FeatureCollection",
                         "features": await self.blocking(
                             partial(list_favourites, user, home=self.home))})

    async def put(self, item_id: str | None = None) -> None:
        """Add a visible catalog item to the caller's favourites."""
        user = self.require_user()["name"]
        if not item_id:
            raise web.HTTPError(HTTPStatus.BAD_REQUEST, "PUT catalog/favourites/{item id}")
        from terralab.catalog.favourites import add_favourite

        item, _ = await self.find_item(user, item_id)
        added = await self.blocking(partial(add_favourite, user, item, home=self.home))
        self.write_json({"id": item_id, "added": added},
                        HTTPStatus.CREATED if added else HTTPStatus.OK)

    async def delete(self, item_id: str | None = None) -> None:
        """Remove an item from the caller's favourites."""
        user = self.require_user()["name"]
        from terralab.catalog.favourites import remove_favourite

        removed = await self.blocking(partial(
            remove_favourite, user, item_id or "",
            collection=self.get_query_argument("collection", None), home=self.home))
        if not removed:
            raise web.HTTPError(HTTPStatus.NOT_FOUND, f"{item_id!r} is not a favourite")
        self.set_status(HTTPStatus.NO_CONTENT)
        self.finish()


def catalog_routes(prefix: str, home: Any,
                   state: CatalogState | None = None) -> list[tuple[str, type, dict[str, Any]]]:
    """Return the catalog routes under the service ``prefix`` (sharing ``state`` if given)."""
    base = prefix.rstrip("/") + "/catalog"
    item = r"/items/([^/]+)"
    args = {"state": state or CatalogState(home)}
    return [
        (base + "/collections", CollectionsHandler, args),
        (base + "/search", SearchHandler, args),
        (base + item + "/thumbnail", ThumbnailHandler, args),
        (base + item + "/download", DownloadHandler, args),
        (base + r"/favourites/?([^/]*)", FavouritesHandler, args),
    ]
