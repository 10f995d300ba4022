"""The catalog endpoints' hand-written hub handlers.

The catalog endpoints are declared once in :mod:`terralab.service.endpoints.catalog`; their
routes and handlers come from :mod:`terralab.hub.declared_handlers`. The download streams
its file and meters its bytes, so its handler is written here (:class:`DownloadHandler`,
given to :func:`~terralab.hub.declared_handlers.declared_routes` by
:func:`catalog_raw_handlers`); its route, client path and OpenAPI entry still come from the
declaration ``catalog.download``.

:class:`CatalogHandler` and :class:`ThumbnailHandler` are the bases the my-data handlers
build on (:mod:`terralab.hub.mydata_handlers`).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from tornado import iostream, web
from tornado.ioloop import IOLoop

from terralab.catalog.disposition import content_disposition
from terralab.hub.api_handler import APIHandler
from terralab.service.endpoint import Redirect, RequestError
from terralab.service.endpoints.catalog import CatalogState, find_item, thumbnail_answer
from terralab.service.error_table import ERRORS, NotFound

__all__ = ["CatalogHandler", "CatalogState", "DownloadHandler", "ThumbnailHandler",
           "catalog_raw_handlers"]


class CatalogHandler(APIHandler):
    """Shared parts of the hand-written catalog handlers: the data folder and item look-up."""

    def initialize(self, state: CatalogState) -> None:
        """Keep the service's catalog state."""
        self.state = state
        self.home = state.home

    def refuse(self, error: Exception) -> None:
        """Answer ``error`` with its status and body from the error table.

        Raises:
            Exception: ``error`` itself when no rule covers it (a defect: a 500).
        """
        answer = ERRORS.answer(error)
        if answer is None:
            raise error
        status, body = answer
        self.write_json(body, status)

    async def find_item(self, user: str, item_id: str) -> tuple[dict[str, Any], str | None]:
        """Return the item ``item_id`` the user may see and its owner (None = public).

        Raises:
            NotFound: when no such item is visible to the user (answered 404).
        """
        collection = self.get_query_argument("collection", None)
        return await self.blocking(find_item, self.state, user, item_id, collection)


class ThumbnailHandler(CatalogHandler):
    """A quicklook of the item :meth:`find_item` finds (PNG, or a redirect to its preview)."""

    async def get(self, item_id: str) -> None:
        """Answer the item's PNG quicklook, or redirect to a remote item's preview."""
        user = self.require_user()["name"]
        try:
            item, owner = await self.find_item(user, item_id)
            size = int(self.get_query_argument("size", "256") or 256)
        except NotFound as error:
            self.refuse(error)
            return
        except ValueError:
            self.refuse(RequestError("size is a number of pixels"))
            return
        try:
            answer = await self.blocking(thumbnail_answer, item, owner, size, self.home)
        except NotFound as error:
            self.refuse(error)
            return
        if isinstance(answer, Redirect):
            self.redirect(answer.url)
            return
        self.set_header("Content-Type", answer.media_type)
        for name, value in answer.headers.items():
            self.set_header(name, value)
        self.finish(answer.content)


class DownloadHandler(CatalogHandler):
    """``GET catalog/items/{item_id}/download?asset=KEY`` (declared as ``catalog.download``)."""

    default_asset: str | None = None

    def download_name(self, item: dict[str, Any], filename: str) -> str:
        """The file name the client is given (the asset's own by default)."""
        return filename

    async def get(self, item_id: str) -> None:
        """Stream one asset (or its clipped window) and record the bytes sent."""
        caller = self.require_user()
        user = caller["name"]
        from shapely.geometry import box

        from terralab.catalog.downloads import open_asset
        from terralab.hub.quota_handlers import refuse_download

        try:
            item, owner = await self.find_item(user, item_id)
        except NotFound as error:
            self.refuse(error)
            return
        key = self.get_query_argument("asset", None) or self.default_asset
        if not key:
            self.refuse(RequestError(f"choose an asset: ?asset= one of "
                                     f"{', '.join(item['assets'])}"))
            return
        geometry = None
        if bbox := self.get_query_argument("bbox", None):
            try:
                west, south, east, north = (float(v) for v in bbox.split(","))
            except ValueError:
                self.refuse(RequestError("bbox is west,south,east,north in degrees"))
                return
            geometry = box(west, south, east, north)
        if await refuse_download(self, caller, 0, self.home):
            return
        try:
            stream = await IOLoop.current().run_in_executor(
                None, lambda: open_asset(item, key, owner=owner, geometry=geometry,
                                         home=self.home))
        except PermissionError as error:  # a missing or refused asset, answered 404
            self.refuse(error)
            return
        except ValueError as error:
            self.refuse(RequestError(str(error)))
            return
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
        from terralab.quotas.downloads import record_download

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


def catalog_raw_handlers(state: CatalogState) -> dict[str, tuple[type[web.RequestHandler],
                                                                 dict[str, Any]]]:
    """The hand-written handlers of the declared catalog endpoints, by endpoint name."""
    return {"catalog.download": (DownloadHandler, {"state": state})}
