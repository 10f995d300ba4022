"""The my-data endpoints declared once (PRODUCT.md §2): items and storage.

Every operation acts on the caller's own uploads and results; another user's item or upload
id is simply not found (404, :class:`~terralab.service.error_table.MyDataNotFound`), exactly
like an unknown one, for admins too. Refusals are :class:`~terralab.mydata.errors.MyDataError`
(400) and :class:`~terralab.mydata.errors.UploadError` (its ``rule``; 413 over the size limit
or the storage quota), raised alike on both transports.

The download is declared ``raw``: it streams the file
(:class:`terralab.hub.mydata_handlers.MyDownloadHandler`). Uploads are declared in
:mod:`terralab.service.endpoints.uploads`.
"""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from terralab.mydata import library
from terralab.mydata.band_statistics import DEFAULT_BINS, MAX_BINS, MIN_BINS, record_statistics
from terralab.mydata.errors import MyDataError
from terralab.mydata.store import MyDataRecord, get_record, storage_usage
from terralab.mydata.upload_jobs import (
    settle,
)
from terralab.queue import store as queue_store
from terralab.queue.errors import JobNotFound
from terralab.quotas.checks import QuotaExceeded
from terralab.service.endpoint import (
    BinaryAnswer,
    CallContext,
    Endpoint,
    Redirect,
    RequestError,
)
from terralab.service.endpoints.catalog import thumbnail_answer
from terralab.service.error_table import MyDataNotFound, NotFound
from terralab.service.registry import declare

__all__ = ["BandStatistics", "Histogram", "ItemList", "ItemStatistics", "MyDataItem",
           "StatisticsQuery", "Storage", "declare_mydata", "own_record", "publish_job_outcome",
           "settle_uploads"]

_ERRORS = (MyDataNotFound, MyDataError)


class MyDataItem(BaseModel):
    """One of my uploads or results (or a favourite, in a list of them)."""

    id: str
    owner: str
    kind: str = Field(description='"upload", "result" or "favourite"')
    data_type: str = Field(description='"raster", "vector" or "media"')
    title: str
    source_name: str = Field(description="the uploaded file's name, or the tool of a result")
    folder: str
    bytes: int = Field(description="what it takes on disk (what the quota counts)")
    created: str
    flags: list[str]
    item: dict[str, Any] = Field(description="its STAC item")


class ItemList(BaseModel):
    """``GET mydata/items``: newest first."""

    items: list[MyDataItem]


class ItemsQuery(BaseModel):
    """``GET mydata/items``: the filters."""

    model_config = ConfigDict(extra="forbid")
    kind: str | None = Field(None, description='"upload", "result" or "favourite" (default: '
                                               "uploads and results)")
    data_type: str | None = Field(None, description='"raster", "vector" or "media"')
    q: str | None = Field(None, description="only items whose name contains this text")


class ItemRef(BaseModel):
    """One of my items by id."""

    model_config = ConfigDict(extra="forbid")
    item_id: str


class ItemToDelete(BaseModel):
    """``DELETE mydata/items/{item_id}``: a body sent with it is ignored."""

    model_config = ConfigDict(extra="allow")
    item_id: str


class Rename(ItemRef):
    """``PATCH mydata/items/{item_id}``."""

    title: str = Field(description="the new name (1 to 200 characters)")


class Deleted(BaseModel):
    """``DELETE mydata/items/{item_id}``: its storage is free at once."""

    deleted: str
    freed: int = Field(description="the bytes freed")


class DownloadQuery(ItemRef):
    """``GET mydata/items/{item_id}/download``."""

    format: str | None = Field(None, description="rasters cog / geotiff; vectors gpkg, "
                                                 "geojson or shapefile (zipped); default the "
                                                 "stored file")


class ThumbnailQuery(ItemRef):
    """``GET mydata/items/{item_id}/thumbnail``."""

    size: int = Field(256, description="the quicklook's long side in pixels, where it is "
                                       "drawn (its stored preview otherwise)")


class Storage(BaseModel):
    """``GET mydata/storage``: bytes used (with uploads in progress), the quota, what is left."""

    used: int
    limit: int
    remaining: int
    text: str


class StatisticsQuery(BaseModel):
    """``GET mydata/items/{item_id}/statistics``."""

    model_config = ConfigDict(extra="forbid")
    item_id: str = Field(description="one of my uploads or results (a raster)")
    bands: list[Annotated[int, Field(ge=1)]] | None = Field(
        None, description="the bands, 1-based (repeat the parameter); default: all")
    bins: int = Field(DEFAULT_BINS, ge=MIN_BINS, le=MAX_BINS,
                      description="the histogram's number of equal bins")


class Histogram(BaseModel):
    """Equal bins between a band's minimum and maximum (``numpy.histogram``)."""

    edges: list[float] | None = Field(description="bins + 1 edges; null without valid pixels")
    counts: list[int]


class BandStatistics(BaseModel):
    """One band's statistics over its valid pixels (nodata and NaN left out)."""

    band: int = Field(description="the band's index, 1-based")
    name: str
    dtype: str
    nodata: float | str | None = Field(description='a number, "nan", "inf", "-inf" or null')
    count: int = Field(description="valid pixels (of the level read)")
    min: float | None
    max: float | None
    mean: float | None
    std: float | None = Field(description="the population standard deviation")
    percentile_2: float | None
    percentile_98: float | None
    histogram: Histogram


class ItemStatistics(BaseModel):
    """A raster item's band statistics; ``approximate`` when read from an overview."""

    item_id: str
    approximate: bool = Field(description="computed from an overview, not every pixel")
    level: int | None = Field(description="the overview level read (0 = the first), or null")
    factor: int = Field(description="the decimation of the pixels read (1: full resolution)")
    width: int = Field(description="the width of the pixels read")
    height: int = Field(description="the height of the pixels read")
    bins: int
    bands: list[BandStatistics]


def _statistics(context: CallContext, request: StatisticsQuery) -> ItemStatistics:
    record = get_record(context.caller.name, request.item_id, home=context.home)
    if record is None:  # answered "not_found", as this endpoint was first declared
        raise NotFound(f"you have no item {request.item_id!r} in your data")
    answer = record_statistics(record, bands=request.bands, bins=request.bins,
                               home=context.home)
    return ItemStatistics.model_validate(answer)


def own_record(owner: str, item_id: str, home: Path) -> MyDataRecord:
    """``owner``'s upload or result ``item_id``.

    Raises:
        MyDataNotFound: the owner has no such item (another user's is not found either).
    """
    record = get_record(owner, item_id, home=home)
    if record is None:
        raise MyDataNotFound(f"you have no item {item_id!r} in your data")
    return record


def publish_job_outcome(home: Path, job_id: str) -> tuple[str, str | None]:
    """A publish job's status and error, for :func:`terralab.mydata.upload_jobs.settle`."""
    try:
        job = queue_store.get_job(job_id, home=home)
    except JobNotFound:
        return "failed", "its job is gone"
    return job.status, job.error


def settle_uploads(context: CallContext) -> None:
    """Settle the caller's uploads whose publish job ended (their storage is then exact)."""
    settle(context.caller.name, home=context.home,
           job_outcome=lambda job_id: publish_job_outcome(context.home, job_id))


def _list(context: CallContext, request: ItemsQuery) -> dict[str, Any]:
    records = library.list_items(context.caller.name, kind=request.kind or None,
                                 data_type=request.data_type or None, text=request.q or None,
                                 home=context.home)
    return {"items": [record.to_dict() for record in records]}


def _get(context: CallContext, request: ItemRef) -> dict[str, Any]:
    return own_record(context.caller.name, request.item_id, context.home).to_dict()


def _rename(context: CallContext, request: Rename) -> dict[str, Any]:
    own_record(context.caller.name, request.item_id, context.home)
    return library.rename_item(context.caller.name, request.item_id, request.title,
                               home=context.home).to_dict()


def _delete(context: CallContext, request: ItemToDelete) -> Deleted:
    own_record(context.caller.name, request.item_id, context.home)
    freed = library.delete_item(context.caller.name, request.item_id, home=context.home)
    return Deleted(deleted=request.item_id, freed=freed)


def _thumbnail(context: CallContext, request: ThumbnailQuery) -> BinaryAnswer | Redirect:
    record = own_record(context.caller.name, request.item_id, context.home)
    return thumbnail_answer(record.item, context.caller.name, request.size, context.home)


def _storage(context: CallContext, request: None) -> dict[str, Any]:
    settle_uploads(context)
    return storage_usage(context.caller.name, groups=context.caller.groups,
                         home=context.home).to_dict()


_ITEM = "mydata/items/{item_id}"


def declare_mydata(name: str, method: str, path: str, summary: str,
                   **options: Any) -> Endpoint:
    """Declare ``mydata.<name>`` with the my-data errors (unless ``options`` name others)."""
    options.setdefault("errors", _ERRORS)
    options.setdefault("refusal", MyDataError)
    return declare(Endpoint(f"mydata.{name}", method, path, summary, **options))


_declare = declare_mydata


_declare("list", "GET", "mydata/items", "My uploads and results (or favourites), newest first",
         call=_list, request=ItemsQuery, response=ItemList)
_declare("get", "GET", _ITEM, "One of my items", call=_get, request=ItemRef,
         response=MyDataItem)
_declare("rename", "PATCH", _ITEM, "Give one of my items a new name", call=_rename,
         request=Rename, response=MyDataItem)
_declare("delete", "DELETE", _ITEM, "Delete one of my items and free its storage",
         call=_delete, request=ItemToDelete, response=Deleted)
_declare("download", "GET", _ITEM + "/download",
         "The data file of one of my items (or an export of it), counted as my download",
         request=DownloadQuery, raw=True, media_type="application/octet-stream",
         errors=(*_ERRORS, QuotaExceeded),
         description="Streamed, named after the item's title. A download over my monthly "
                     "download quota is refused before its first byte (429).")
_declare("thumbnail", "GET", _ITEM + "/thumbnail", "The preview PNG of one of my items",
         call=_thumbnail, request=ThumbnailQuery, media_type="image/png",
         other_statuses=(HTTPStatus.FOUND,))
_declare("statistics", "GET", _ITEM + "/statistics",
         "Band statistics and histograms of one of my rasters (for legends)",
         call=_statistics, request=StatisticsQuery, response=ItemStatistics,
         errors=(NotFound, MyDataError), refusal=RequestError,
         description="Computed from an overview at least 1024 pixels on its long side when "
                     "the COG has one (approximate), else from every pixel, window by "
                     "window. A vector item is refused (400).")
_declare("storage", "GET", "mydata/storage", "My storage: used, the quota and what is left",
         call=_storage, response=Storage)
