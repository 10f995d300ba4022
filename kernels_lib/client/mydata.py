"""The my-data calls of ``import terralab as tl``, one code path with two transports.

Inside a terralab hub (``TERRALAB_SERVICE_URL`` and ``JUPYTERHUB_API_TOKEN`` set by the
spawner) every call goes to the hub service, which owns quotas and publishing. Without a hub
(a plain notebook, a script, the tests) the same calls run in this process against the
local ``TERRALAB_HOME``, for the user :func:`terralab.identity.current_user` names.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from terralab.identity import current_user
from terralab.mydata import library, store
from terralab.mydata.errors import MyDataError, UploadError
from terralab.mydata.items import COLLECTION
from terralab.mydata.limits import UploadLimits
from terralab.mydata.remote import MyDataService
from terralab.mydata.store import MyDataRecord, StorageUsage
from terralab.quotas.policy import StoragePolicy
from terralab.service.http_client import service_client
from terralab.service.local import transport

__all__ = ["COLLECTION", "MyDataError", "MyDataRecord", "StoragePolicy", "StorageUsage",
           "UploadError", "UploadLimits", "delete", "download", "edit", "my_data", "rename",
           "statistics", "storage", "upload"]


def _service() -> MyDataService | None:
    client = service_client()
    return MyDataService(client) if client is not None else None


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
    service = _service()
    if service is not None:
        return service.upload(path, title=title, layer=layer, bands=names)
    from terralab.mydata.uploads import upload_file

    return upload_file(path, owner=current_user(), title=title, layer=layer, bands=names)


def my_data(kind: str | None = None, *, data_type: str | None = None,
            text: str | None = None) -> list[store.MyDataRecord]:
    """List my data, newest first.

    Args:
        kind: ``"upload"``, ``"result"`` or ``"favourite"``; None = uploads and results.
        data_type: ``"raster"`` or ``"vector"``.
        text: only items whose name contains this text.
    """
    service = _service()
    if service is not None:
        return service.list(kind=kind, data_type=data_type, q=text)
    return library.list_items(current_user(), kind=kind, data_type=data_type, text=text)


def rename(item_id: str, title: str) -> store.MyDataRecord:
    """Give one of my items a new name."""
    service = _service()
    if service is not None:
        return service.rename(item_id, title)
    return library.rename_item(current_user(), item_id, title)


def delete(item_id: str) -> int:
    """Delete one of my uploads or results; returns the bytes of quota freed."""
    service = _service()
    if service is not None:
        return service.delete(item_id)
    return library.delete_item(current_user(), item_id)


def download(item_id: str, dest: str | Path = ".", *, format: str | None = None) -> list[Path]:
    """Download one of my items into the folder ``dest`` (counted as a download).

    Args:
        item_id: the item.
        dest: the folder.
        format: rasters ``cog`` / ``geotiff``; vectors ``gpkg``, ``geojson`` or ``shapefile``
            (zipped); default the stored file (a COG or a GeoPackage).
    """
    service = _service()
    if service is not None:
        return service.download(item_id, Path(dest), format=format)
    return library.download_item(current_user(), item_id, dest, format=format)


def storage() -> store.StorageUsage:
    """My storage: bytes used, the quota and what is left."""
    service = _service()
    if service is not None:
        return service.storage()
    return store.storage_usage(current_user())


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
