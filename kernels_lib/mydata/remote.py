"""The hub transport of my data: uploads and my-data calls answered by the hub service.

Inside a terralab hub, ``tl.upload`` streams the file to the service (never whole in
memory), which checks it, has the workers publish it (a queued job of kind ``publish``) and
charges the quota where the user cannot tamper with it; ``upload`` waits for the publishing
and returns the item, as the in-process call does. The calls mirror :mod:`terralab.mydata.library`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from terralab.catalog.disposition import attachment_name
from terralab.catalog.downloads import write_whole
from terralab.mydata.errors import MyDataError, UploadError
from terralab.mydata.store import MyDataRecord, StorageUsage
from terralab.service.http_client import ServiceClient, ServiceError

__all__ = ["MyDataService"]


def _raise(error: ServiceError) -> None:
    """Turn the service's refusal into the error the in-process call would raise."""
    rule = error.body.get("rule")
    if rule:
        raise UploadError(str(error), rule=rule, layers=error.body.get("layers")) from None
    raise MyDataError(str(error)) from None


class MyDataService:
    """My-data calls of the hub service, for one user's token."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def upload(self, path: Path, *, name: str | None = None, title: str | None = None,
               layer: str | None = None, bands: list[str] | None = None,
               timeout: float | None = None) -> MyDataRecord:
        """``POST mydata/uploads`` (name and size), ``PUT`` the file (streamed), then wait.

        The service checks the file's header at once and publishes it on the workers (a
        job of kind ``publish``); this waits for that, so it returns the new item (or
        raises the refusal) like the in-process upload.

        Args:
            path: the file.
            name: the name to record (default the file's).
            title: the name to show.
            layer: the GeoPackage layer.
            bands: a raster's band names.
            timeout: seconds to wait for the publishing at most (None: as long as it takes).

        Raises:
            UploadError: the file breaks a rule (nothing is kept, no quota charged).
            TimeoutError: still publishing after ``timeout`` seconds (it goes on).
        """
        size = path.stat().st_size
        announce = {"name": name or path.name, "size": size, "title": title, "layer": layer,
                    "bands": bands}
        try:
            # first the name and size: a file over the quota is refused before it is sent
            put = self.client.call("POST", "mydata/uploads", json=announce).json()["put"]
            with path.open("rb") as handle:
                response = self.client.call(
                    "PUT", put, data=handle, timeout=3600,
                    headers={"Content-Length": str(size),
                             "Content-Type": "application/octet-stream"})
        except ServiceError as error:
            _raise(error)
        body = response.json()
        if response.status_code != 202:  # a service that published it at once
            return MyDataRecord.from_dict(body)
        return self.wait_published(body["status"], timeout=timeout)

    def wait_published(self, status_path: str, *, timeout: float | None = None
                       ) -> MyDataRecord:
        """Poll ``GET mydata/uploads/{id}`` until the upload is published or refused."""
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.2
        while True:
            try:
                state = self.client.call("GET", status_path).json()
            except ServiceError as error:
                _raise(error)
            if state["state"] == "ready":
                return MyDataRecord.from_dict(state["item"])
            if state["state"] == "failed":
                raise UploadError(state.get("message") or "the upload was refused",
                                  rule=state.get("rule") or "publish",
                                  layers=state.get("layers"))
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"upload {state.get('name') or status_path} is still "
                                   f"{state['state']} after {timeout:g} s (job "
                                   f"{state.get('job')})")
            time.sleep(pause)
            pause = min(2.0, pause * 1.5)

    def list(self, **filters: Any) -> list[MyDataRecord]:
        """``GET mydata/items``."""
        params = {key: value for key, value in filters.items() if value is not None}
        try:
            items = self.client.call("GET", "mydata/items", params=params).json()["items"]
        except ServiceError as error:
            _raise(error)
        return [MyDataRecord.from_dict(item) for item in items]

    def rename(self, item_id: str, title: str) -> MyDataRecord:
        """``PATCH mydata/items/{id}``."""
        try:
            body = self.client.call("PATCH", f"mydata/items/{quote(item_id, safe='')}",
                                    json={"title": title}).json()
        except ServiceError as error:
            _raise(error)
        return MyDataRecord.from_dict(body)

    def delete(self, item_id: str) -> int:
        """``DELETE mydata/items/{id}``; returns the bytes freed."""
        try:
            body = self.client.call("DELETE", f"mydata/items/{quote(item_id, safe='')}").json()
        except ServiceError as error:
            _raise(error)
        return int(body["freed"])

    def storage(self) -> StorageUsage:
        """``GET mydata/storage``."""
        try:
            body = self.client.call("GET", "mydata/storage").json()
        except ServiceError as error:
            _raise(error)
        return StorageUsage(used=int(body["used"]), limit=int(body["limit"]))

    def download(self, item_id: str, dest: Path, *, format: str | None = None) -> list[Path]:
        """``GET mydata/items/{id}/download`` into the folder ``dest`` (metered)."""
        try:
            response = self.client.call("GET", f"mydata/items/{quote(item_id, safe='')}/download",
                                        params={"format": format} if format else None,
                                        stream=True)
        except ServiceError as error:
            _raise(error)
        name = attachment_name(response.headers.get("Content-Disposition", ""), item_id)
        dest.mkdir(parents=True, exist_ok=True)
        target = dest / name
        try:
            write_whole(target, response.iter_content(1 << 20))
        finally:
            response.close()
        return [target]
