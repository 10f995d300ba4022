"""The my-data endpoints declared once (PRODUCT.md §2).

Every operation acts on the caller's own uploads and results; another user's item id is
simply not found (404), exactly like an unknown one, for admins too.

- ``GET mydata/items/{item_id}/statistics[?bands=1&bands=3&bins=64]``: band statistics and
  a histogram of a raster item, for the no-code pages' legends
  (:func:`terralab.mydata.statistics.record_statistics`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from terralab.mydata.errors import MyDataError
from terralab.mydata.statistics import DEFAULT_BINS, MAX_BINS, MIN_BINS, record_statistics
from terralab.mydata.store import get_record
from terralab.service.endpoint import CallContext, Endpoint
from terralab.service.error_table import NotFound
from terralab.service.registry import declare

__all__ = ["BandStatistics", "Histogram", "ItemStatistics", "StatisticsQuery"]


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
    if record is None:
        raise NotFound(f"you have no item {request.item_id!r} in your data")
    answer = record_statistics(record, bands=request.bands, bins=request.bins,
                               home=context.home)
    return ItemStatistics.model_validate(answer)


declare(Endpoint("mydata.statistics", "GET", "mydata/items/{item_id}/statistics",
                 "Band statistics and histograms of one of my rasters (for legends)",
                 call=_statistics, request=StatisticsQuery, response=ItemStatistics,
                 errors=(NotFound, MyDataError),
                 description="Computed from an overview at least 1024 pixels on its long "
                             "side when the COG has one (approximate), else from every "
                             "pixel, window by window. A vector item is refused (400)."))
