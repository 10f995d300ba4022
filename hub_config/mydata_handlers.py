"""The hand-written my-data handlers of the terralab hub service (PRODUCT.md §2).

The my-data endpoints are declared once in :mod:`terralab.service.endpoints.mydata`; their
routes and handlers come from :mod:`terralab.hub.declared_handlers`. The download streams
its file (or an export of it) and meters the bytes sent, so its handler is written here
(:class:`MyDownloadHandler`, given to :func:`~terralab.hub.declared_handlers.declared_routes`
by :func:`mydata_raw_handlers`); its route, client path and OpenAPI entry still come from
the declaration ``mydata.download``. :class:`MyDataHandler` is also the base of the upload
handler (:mod:`terralab.hub.upload_handlers`). Every refusal is answered from the error
table; another user's item is not found (404), like an unknown one.
"""

from __future__ import annotations

import shutil
import tempfile
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

from tornado import web

from terralab.catalog.disposition import content_disposition
from terralab.catalog.downloads import CHUNK
from terralab.hub.catalog_handlers import CatalogHandler, DownloadHandler
from terralab.hub.quota_handlers import refuse_download
from terralab.mydata.errors import MyDataError
from terralab.mydata.library import download_item, download_stem
from terralab.service.endpoint import CallContext, Caller, dump
from terralab.service.endpoints.catalog import CatalogState
from terralab.service.endpoints.mydata import own_record
from terralab.service.error_table import MyDataNotFound
from terralab.service.registry import endpoint

__all__ = ["MyDataHandler", "MyDownloadHandler", "mydata_raw_handlers"]


class MyDataHandler(CatalogHandler):
    """Shared parts: the caller's own records, declared operations, refusals from the table."""

    def context(self) -> CallContext:
        """The context of a declared operation run for the authenticated caller."""
        return CallContext(caller=Caller.from_model(self.require_user()),
                           home=Path(self.home), resources={"catalog": self.state})

    def stop(self, error: Exception) -> NoReturn:
        """Answer ``error`` with its status and body from the error table, and end here.

        Raises:
            tornado.web.Finish: always (the answer is written).
            Exception: ``error`` itself when no rule covers it (a defect: a 500).
        """
        self.refuse(error)
        raise web.Finish()

    async def run_declared(self, name: str, **values: Any) -> None:
        """Run the declared operation ``name`` for the caller; answer as it is declared."""
        found = endpoint(name)
        assert found.call is not None
        try:
            request = found.validate(values)
            result = await self.blocking(found.call, self.context(), request)
        except Exception as error:
            self.stop(error)
        self.set_status(found.status)
        if result is None:
            self.finish()
        else:
            self.write_json(dump(result), found.status)

    async def find_item(self, user: str, item_id: str) -> tuple[dict[str, Any], str | None]:
        """Return the caller's own upload or result as (item, owner), or answer 404."""
        try:
            record = await self.blocking(partial(own_record, user, item_id, Path(self.home)))
        except MyDataNotFound as error:
            self.stop(error)
        return record.item, user


class MyDownloadHandler(MyDataHandler, DownloadHandler):
    """``GET mydata/items/{item_id}/download[?format=]`` (declared as ``mydata.download``).

    ``format``: rasters ``cog`` / ``geotiff``; vectors ``gpkg``, ``geojson``, ``shapefile``.
    """

    default_asset = "data"

    async def get(self, item_id: str) -> None:
        """Stream the stored file, or an export in the format asked for."""
        fmt = self.get_query_argument("format", None)
        if not fmt:
            await super().get(item_id)
            return
        caller = self.require_user()
        user = caller["name"]
        item, _ = await self.find_item(user, item_id)
        if await refuse_download(self, caller, 0, self.home):
            return
        scratch = Path(tempfile.mkdtemp(prefix="export-", dir=self._staging()))
        try:
            try:
                [path] = await self.blocking(partial(download_item, user, item_id, scratch,
                                                     format=fmt, home=self.home, charge=False))
            except MyDataError as error:
                self.refuse(error)
                return
            self.set_header("Content-Type", "application/octet-stream")
            self.set_header("Cache-Control", "no-store")
            self.set_header("Content-Disposition", content_disposition(path.name))
            self.set_header("Content-Length", str(path.stat().st_size))
            with path.open("rb") as handle:
                await self.send_metered(user, item, "data", iter(partial(handle.read, CHUNK),
                                                                   b""))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _staging(self) -> str:
        folder = Path(self.home) / "staging"
        folder.mkdir(parents=True, exist_ok=True)
        return str(folder)

    def download_name(self, item: dict[str, Any], filename: str) -> str:
        """Name the file after the item's title (``Field, June.tif``), as ``tl`` does."""
        title = (item.get("properties") or {}).get("title") or item["id"]
        return download_stem(title, item["id"]) + Path(filename).suffix


def mydata_raw_handlers(state: CatalogState) -> dict[str, tuple[type[web.RequestHandler],
                                                                dict[str, Any]]]:
    """The hand-written handlers of the declared my-data endpoints, by endpoint name."""
    return {"mydata.download": (MyDownloadHandler, {"state": state})}
