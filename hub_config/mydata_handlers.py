"""The my-data endpoints of the terralab hub service (PRODUCT.md §2).

The service is where uploads are checked, published and charged, because a user's own
server is not trusted with their quota. Every endpoint needs a hub login or API token and
acts only on the caller's own items; another user's item id is simply not found (404).

- Uploads (``POST mydata/uploads``, ``PUT|GET|DELETE mydata/uploads/{id}``): see
  :mod:`terralab.hub.upload_handlers`.
- ``GET mydata/items[?kind=upload|result|favourite&data_type=&q=]``: ``{"items": […]}``.
- ``GET|PATCH|DELETE mydata/items/{id}``: one item; ``{"title": …}`` renames; delete frees
  its storage (``{"deleted": id, "freed": bytes}``).
- ``GET mydata/items/{id}/download[?format=cog|geotiff|gpkg|geojson|shapefile]``: the data
  file (or an export of it), streamed and metered; refused (429) before the first byte when
  the monthly download quota is used up.
- ``GET mydata/items/{id}/thumbnail``: its preview PNG.
- ``GET mydata/storage``: ``{"used", "limit", "remaining", "text"}``.
"""

from __future__ import annotations

import json
from functools import partial
from http import HTTPStatus
from pathlib import Path
from typing import Any

from tornado import web

from terralab.catalog.disposition import content_disposition
from terralab.hub.catalog_handlers import (
    CatalogHandler,
    CatalogState,
    DownloadHandler,
    ThumbnailHandler,
)

__all__ = ["MyDataHandler", "mydata_routes", "publish_job_outcome", "user_groups"]


def user_groups(user: dict[str, Any]) -> tuple[str, ...]:
    """The hub groups of an authenticated caller."""
    return tuple(user.get("groups") or ())


def publish_job_outcome(home: Any, job_id: str) -> tuple[str, str | None]:
    """A publish job's status and error, for :func:`terralab.mydata.upload_jobs.settle`."""
    from terralab.queue import store as queue_store
    from terralab.queue.errors import JobNotFound

    try:
        job = queue_store.get_job(job_id, home=home)
    except JobNotFound:
        return "failed", "its job is gone"
    return job.status, job.error


class MyDataHandler(CatalogHandler):
    """Shared parts: the caller's own records, errors as JSON with their rule."""

    def write_refusal(self, error: Exception, status: int = HTTPStatus.BAD_REQUEST) -> None:
        """Answer a refused upload or my-data call with its message and rule."""
        body: dict[str, Any] = {"status": status, "message": str(error)}
        rule = getattr(error, "rule", None)
        if rule:
            body["rule"] = rule
            if rule in ("quota", "size"):
                status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
                body["status"] = status
        if getattr(error, "layers", None):
            body["layers"] = error.layers  # type: ignore[attr-defined]
        self.set_status(status)
        self.finish(json.dumps(body))

    async def find_item(self, user: str, item_id: str) -> tuple[dict[str, Any], str | None]:
        """Return the caller's own upload or result as (item, owner), or answer 404."""
        from terralab.mydata.store import get_record

        record = await self.blocking(partial(get_record, user, item_id, home=self.home))
        if record is None:
            raise web.HTTPError(HTTPStatus.NOT_FOUND, f"you have no item {item_id!r}")
        return record.item, user


class ItemsHandler(MyDataHandler):
    """``GET mydata/items``."""

    async def get(self) -> None:
        """List the caller's items, filtered."""
        from terralab.mydata.errors import MyDataError
        from terralab.mydata.library import list_items

        user = self.require_user()["name"]
        try:
            records = await self.blocking(partial(
                list_items, user, kind=self.get_query_argument("kind", None) or None,
                data_type=self.get_query_argument("data_type", None) or None,
                text=self.get_query_argument("q", None) or None, home=self.home))
        except MyDataError as error:
            self.write_refusal(error)
            return
        self.write_json({"items": [record.to_dict() for record in records]})


class ItemHandler(MyDataHandler):
    """``GET|PATCH|DELETE mydata/items/{id}``."""

    async def get(self, item_id: str) -> None:
        """Answer one of the caller's items."""
        user = self.require_user()["name"]
        item, _ = await self.find_item(user, item_id)
        from terralab.mydata.store import get_record

        record = await self.blocking(partial(get_record, user, item_id, home=self.home))
        self.write_json(record.to_dict() if record else item)

    async def patch(self, item_id: str) -> None:
        """Rename an item: body ``{"title": "…"}``."""
        from terralab.mydata.errors import MyDataError
        from terralab.mydata.library import rename_item

        user = self.require_user()["name"]
        await self.find_item(user, item_id)
        title = self.body_json().get("title")
        if not isinstance(title, str):
            raise web.HTTPError(HTTPStatus.BAD_REQUEST, 'send {"title": "new name"}')
        try:
            record = await self.blocking(partial(rename_item, user, item_id, title,
                                                 home=self.home))
        except MyDataError as error:
            self.write_refusal(error)
            return
        self.write_json(record.to_dict())

    async def delete(self, item_id: str) -> None:
        """Delete an item and free its storage."""
        from terralab.mydata.library import delete_item

        user = self.require_user()["name"]
        await self.find_item(user, item_id)
        freed = await self.blocking(partial(delete_item, user, item_id, home=self.home))
        self.write_json({"deleted": item_id, "freed": freed})


class MyDownloadHandler(MyDataHandler, DownloadHandler):
    """``GET mydata/items/{id}/download[?format=]``: the data file, metered.

    ``format``: rasters ``cog`` / ``geotiff``; vectors ``gpkg``, ``geojson``, ``shapefile``.
    """

    default_asset = "data"

    async def get(self, item_id: str) -> None:
        """Stream the stored file, or an export in the format asked for."""
        fmt = self.get_query_argument("format", None)
        if not fmt:
            await super().get(item_id)
            return
        import shutil
        import tempfile

        from terralab.catalog.downloads import CHUNK
        from terralab.hub.quota_handlers import refuse_download
        from terralab.mydata.errors import MyDataError
        from terralab.mydata.library import download_item

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
                self.write_refusal(error)
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
        from terralab.mydata.library import download_stem

        title = (item.get("properties") or {}).get("title") or item["id"]
        return download_stem(title, item["id"]) + Path(filename).suffix


class MyThumbnailHandler(MyDataHandler, ThumbnailHandler):
    """``GET mydata/items/{id}/thumbnail``."""


class StorageHandler(MyDataHandler):
    """``GET mydata/storage``."""

    async def get(self) -> None:
        """Answer the caller's storage use and limit."""
        from terralab.mydata.store import storage_usage
        from terralab.mydata.upload_jobs import settle

        user = self.require_user()
        await self.blocking(partial(settle, user["name"], home=self.home,
                                    job_outcome=partial(publish_job_outcome, self.home)))
        usage = await self.blocking(partial(storage_usage, user["name"],
                                            groups=user_groups(user), home=self.home))
        self.write_json(usage.to_dict())


def mydata_routes(prefix: str, state: CatalogState) -> list[tuple[str, type, dict[str, Any]]]:
    """Return the my-data routes under the service ``prefix``."""
    base = prefix.rstrip("/") + "/mydata"
    item = r"/items/([^/]+)"
    args = {"state": state}
    return [
        (base + "/items", ItemsHandler, args),
        (base + item, ItemHandler, args),
        (base + item + "/download", MyDownloadHandler, args),
        (base + item + "/thumbnail", MyThumbnailHandler, args),
        (base + "/storage", StorageHandler, args),
    ]
