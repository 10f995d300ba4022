"""The search query every catalog source answers: area, dates, collections, cloud cover."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shapely.geometry.base import BaseGeometry

__all__ = ["SearchQuery"]


@dataclass(frozen=True)
class SearchQuery:
    """One catalog search, independent of the source that answers it.

    Attributes:
        geometry: the search area in EPSG:4326 (lon/lat); None searches everywhere.
            CGCS2000 (EPSG:4490) coordinates may be passed as they are: the two frames
            differ by centimetres, far below any pixel of the catalog's products.
        start: the earliest acquisition time (inclusive, timezone-aware UTC); None = open.
        end: the latest acquisition time (inclusive, timezone-aware UTC); None = open.
        collections: the collection ids to search; None or empty = all collections.
        max_cloud: the largest ``eo:cloud_cover`` in percent. Items without a cloud cover
            (SAR, which sees through clouds) always pass this filter.
        limit: the most items to return (a page).
        offset: how many matching items to skip before the page (paging).
        owner: the user whose own items are searched beside the public ones; None = public only.
    """

    geometry: BaseGeometry | None = None
    start: datetime | None = None
    end: datetime | None = None
    collections: tuple[str, ...] | None = None
    max_cloud: float | None = None
    limit: int = 100
    offset: int = 0
    owner: str | None = None

    def __post_init__(self) -> None:
        """Check the values a caller may get wrong."""
        if self.limit < 1:
            raise ValueError(f"limit must be at least 1, not {self.limit}")
        if self.offset < 0:
            raise ValueError(f"offset must not be negative, not {self.offset}")
        if self.max_cloud is not None and not 0 <= self.max_cloud <= 100:
            raise ValueError(f"max_cloud is a percentage (0…100), not {self.max_cloud}")
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} must be timezone-aware (UTC), not {value!r}")
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"start {self.start:%Y-%m-%d} is after end {self.end:%Y-%m-%d}")
        if self.geometry is not None and self.geometry.is_empty:
            raise ValueError("the search area is an empty geometry")
