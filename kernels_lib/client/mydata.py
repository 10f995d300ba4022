"""The my-data calls of ``import terralab as tl``, one code path with two transports.

Inside a terralab hub (``TERRALAB_SERVICE_URL`` and ``JUPYTERHUB_API_TOKEN`` set by the
spawner) every call goes to the hub service, which owns quotas and publishing. Without a hub
(a plain notebook, a script, the tests) the same declared operations run in this process
against the local ``TERRALAB_HOME``, for the user :func:`terralab.identity.current_user`
names (:func:`terralab.service.local.transport` chooses). :class:`MyDataService` holds the
calls; the two streamed ones (an upload's bytes, a download) stream over HTTP through their
declarations and call the store functions in-process.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from terralab.catalog.disposition import attachment_name
from terralab.catalog.downloads import write_whole
from terralab.client.upload_chunks import send_chunks
from terralab.identity import current_user
from terralab.mydata import library, store
from terralab.mydata.errors import MyDataError, UploadError
from terralab.mydata.items import COLLECTION
from terralab.mydata.limits import UploadLimits
from terralab.mydata.store import MyDataRecord, StorageUsage
from terralab.quotas.policy import StoragePolicy
from terralab.service.http_client import ServiceClient
from terralab.service.local import LocalService, Transport, transport
from terralab.service.registry import endpoint

__all__ = ["COLLECTION", "MyDataError", "MyDataRecord", "MyDataService", "StoragePolicy",
           "StorageUsage", "UploadError", "UploadLimits", "delete", "download", "edit",
           "my_data", "rename", "statistics", "storage", "upload"]


class MyDataService:
    """The my-data calls over one transport (the hub service, or this process).

    Args:
        client: the transport (default: :func:`terralab.service.local.transport`'s choice).
    """

    def __init__(self, client: Transport | None = None) -> None:
        self.client = client if client is not None else transport()

    def _local(self) -> tuple[str, Path | None]:
        """The owner and data folder of an in-process call."""
        local = self.client if isinstance(self.client, LocalService) else LocalService()
        return local.user or current_user(), local.home

    def upload(self, path: Path, *, name: str | None = None, title: str | None = None,
               layer: str | None = None, bands: list[str] | None = None,
               timeout: float | None = None) -> MyDataRecord:
        """Upload ``path`` and wait until it is published; return the new item.

        Through the hub: ``mydata.announce_upload`` (name and size: a file over the quota
        is refused before it is sent), ``mydata.send_upload`` (the file in chunks of
        :data:`~terralab.client.upload_chunks.CHUNK_BYTES`, going on from the bytes the
        service received after a broken connection, :func:`send_chunks`), then
        :meth:`wait_published` for the workers' publish job. In-process: published here.

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
        if not isinstance(self.client, ServiceClient):
            from terralab.mydata.uploads import upload_file

            owner, home = self._local()
            return upload_file(path, owner=owner, name=name, title=title, layer=layer,
                               bands=bands, home=home)
        size = path.stat().st_size
        announce = {"name": name or path.name, "size": size, "title": title, "layer": layer,
                    "bands": bands}
        announced = self.client.request(
            "mydata.announce_upload",
            **{key: value for key, value in announce.items() if value is not None})
        if size == 0:  # nothing to cut in chunks: the whole (empty) body
            send = endpoint("mydata.send_upload")
            response = self.client.call(
                send.method, send.url({"upload_id": announced["id"]}), data=b"",
                timeout=600, headers={"Content-Length": "0",
                                      "Content-Type": "application/octet-stream"})
            body = response.json()
            if response.status_code != send.status:  # a service that published it at once
                return MyDataRecord.from_dict(body)
        else:
            send_chunks(self.client, announced["id"], path, size)
        return self.wait_published(announced["id"], timeout=timeout)

    def wait_published(self, upload: str, *, timeout: float | None = None) -> MyDataRecord:
        """Poll ``mydata.upload_status`` until the upload is published or refused.

        Args:
            upload: the upload's id, or the ``status`` path the service answered its PUT.
            timeout: seconds to wait at most (None: as long as it takes).
        """
        upload_id = unquote(upload.rstrip("/").rsplit("/", 1)[-1])
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.2
        while True:
            state = self.client.request("mydata.upload_status", upload_id=upload_id)
            if state["state"] == "ready":
                return MyDataRecord.from_dict(state["item"])
            if state["state"] == "failed":
                raise UploadError(state.get("message") or "the upload was refused",
                                  rule=state.get("rule") or "publish",
                                  layers=state.get("layers"))
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"upload {state.get('name') or upload_id} is still "
                                   f"{state['state']} after {timeout:g} s (job "
                                   f"{state.get('job')})")
            time.sleep(pause)
            pause = min(2.0, pause * 1.5)

    def list(self, *, kind: str | None = None, data_type: str | None = None,
             q: str | None = None) -> list[MyDataRecord]:
        """``mydata.list``: my items, newest first (``q``: a text in their names)."""
        filters = {"kind": kind, "data_type": data_type, "q": q}
        answer = self.client.request(
            "mydata.list", **{key: value for key, value in filters.items() if value is not None})
        return [MyDataRecord.from_dict(item) for item in answer["items"]]

    def get(self, item_id: str) -> MyDataRecord:
        """``mydata.get``: one of my items."""
        return MyDataRecord.from_dict(self.client.request("mydata.get", item_id=item_id))

    def rename(self, item_id: str, title: str) -> MyDataRecord:
        """``mydata.rename``."""
        return MyDataRecord.from_dict(self.client.request("mydata.rename", item_id=item_id,
                                                          title=title))

    def delete(self, item_id: str) -> int:
        """``mydata.delete``; returns the bytes freed."""
        return int(self.client.request("mydata.delete", item_id=item_id)["freed"])

    def storage(self) -> StorageUsage:
        """``mydata.storage``."""
        answer = self.client.request("mydata.storage")
        return StorageUsage(used=int(answer["used"]), limit=int(answer["limit"]))

    def download(self, item_id: str, dest: Path, *, format: str | None = None) -> list[Path]:
        """``mydata.download`` into the folder ``dest`` (metered)."""
        if not isinstance(self.client, ServiceClient):
            owner, home = self._local()
            return library.download_item(owner, item_id, dest, format=format, home=home)
        values: dict[str, Any] = {"item_id": item_id}
        if format:
            values["format"] = format
        response = self.client.send("mydata.download", values, stream=True)
        name = attachment_name(response.headers.get("Content-Disposition", ""), item_id)
        dest.mkdir(parents=True, exist_ok=True)
        target = dest / name
        try:
            write_whole(target, response.iter_content(1 << 20))
        finally:
            response.close()
        return [target]


def _service() -> MyDataService:
    return MyDataService(transport())


def upload(path: str | Path, *, title: str | None = None, layer: str | None = None,
           bands: str | list[str] | None = None) -> store.MyDataRecord:
    """Upload a raster or vector file into my data; it is published for the map at once.

    Rasters (``.tif``, ``.img``) become Cloud-Optimized GeoTIFFs with overviews, statistics
    and a thumbnail; vectors (zipped shapefile, GeoJSON, GeoPackage) a GeoPackage with a
    preview. Both get a private STAC item: ``tl.search(collections=["my-data"])`` finds them.

    Args:
        path: the file.
        title: the name to show (default: the file name).
        layer: the layer of a GeoPackage with several (the error lists them).
        bands: what a raster's bands hold, e.g. ``"red,green,blue,nir"``, when the file
            does not say it (default: its colour interpretation, else RGB for 3 bands and
            blue, green, red, NIR for 4 — the GF-1/GF-2 order).

    Returns:
        The new item of my data.

    Raises:
        UploadError: for a file that breaks an upload rule (the message says which; its
            ``rule`` names it); nothing is kept and no quota is charged.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    names = bands.split(",") if isinstance(bands, str) else bands
    return _service().upload(path, title=title, layer=layer, bands=names)


def my_data(kind: str | None = None, *, data_type: str | None = None,
            text: str | None = None) -> list[store.MyDataRecord]:
    """List my data, newest first.

    Args:
        kind: ``"upload"``, ``"result"`` or ``"favourite"``; None = uploads and results.
        data_type: ``"raster"`` or ``"vector"``.
        text: only items whose name contains this text.
    """
    return _service().list(kind=kind, data_type=data_type, q=text)


def rename(item_id: str, title: str) -> store.MyDataRecord:
    """Give one of my items a new name."""
    return _service().rename(item_id, title)


def delete(item_id: str) -> int:
    """Delete one of my uploads or results; returns the bytes of quota freed."""
    return _service().delete(item_id)


def download(item_id: str, dest: str | Path = ".", *, format: str | None = None) -> list[Path]:
    """Download one of my items into the folder ``dest`` (counted as a download).

    Args:
        item_id: the item.
        dest: the folder.
        format: rasters ``cog`` / ``geotiff``; vectors ``gpkg``, ``geojson`` or ``shapefile``
            (zipped); default the stored file (a COG or a GeoPackage).
    """
    return _service().download(item_id, Path(dest), format=format)


def storage() -> store.StorageUsage:
    """My storage: bytes used, the quota and what is left."""
    return _service().storage()


def edit(item_id: str) -> Any:
    """Open one of my vector layers for editing (:class:`~terralab.mydata.vector_edit.VectorLayer`).

    Each edit (``move_vertex``, ``insert_vertex``, ``delete_vertex``, ``replace_geometry``,
    ``add_polygon``, ``delete_polygon``, ``set_attributes``) is saved at once; ``undo()``
    takes the last back. On a map: ``m.edit(item_id)`` (:mod:`terralab.widgets.vector_editor`).
    The layer's files are the user's own, so a user's server edits them directly.
    """
    from terralab.mydata.vector_edit import VectorLayer

    return VectorLayer(current_user(), item_id)


def statistics(item_or_id: str | MyDataRecord | dict[str, Any], *,
               bands: Sequence[int] | None = None, bins: int = 64) -> dict[str, Any]:
    """Band statistics and histograms of one of my rasters (for a legend or a stretch).

    Computed from an overview at least 1024 pixels on its long side when the raster has
    one (``"approximate": True`` and the ``"level"`` read), else from every pixel; nodata
    and NaN are left out.

    Args:
        item_or_id: the item (a record of :func:`my_data`, a STAC item) or its id.
        bands: the bands, 1-based (default: all).
        bins: the histogram's number of bins, 2 to 1024.

    Returns:
        ``{"item_id", "approximate", "level", "factor", "width", "height", "bins",
        "bands": [{"band", "name", "dtype", "nodata", "count", "min", "max", "mean",
        "std", "percentile_2", "percentile_98", "histogram": {"edges", "counts"}}]}``.

    Raises:
        terralab.service.error_table.NotFound: I have no such item.
        MyDataError: the item is no raster, or ``bands`` do not fit it.
    """
    item_id = item_or_id if isinstance(item_or_id, str) else (
        item_or_id["id"] if isinstance(item_or_id, dict) else item_or_id.id)
    values: dict[str, Any] = {"item_id": item_id, "bins": bins}
    if bands is not None:
        values["bands"] = list(bands)
    return transport().request("mydata.statistics", **values)
