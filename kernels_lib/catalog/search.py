"""``tl.search``: find catalog items by area, dates, collection and cloud cover.

The same function serves notebooks, the ``terralab search`` command and the hub service's
``POST catalog/search``; only the source that answers changes with the configuration
(:func:`terralab.catalog.sources.get_source`). Inside a terralab hub, ``tl.search``
(:func:`terralab.client.catalog.search`) builds the same query with :func:`search_query`
and sends it to the hub service.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from terralab.catalog.query import SearchQuery
from terralab.catalog.results import SearchResult

__all__ = ["parse_time", "search", "search_query"]

_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")


def parse_time(value: str | date | datetime | None, *, end: bool = False) -> datetime | None:
    """Return ``value`` as a timezone-aware UTC datetime.

    A year (``"2024"``), a month (``"2024-05"``) or a day (``"2024-05-10"``) stands for the
    whole period: its first instant as a start, its last instant as an end (``end=True``),
    so ``start="2024", end="2024"`` is the whole year. Full ISO times are taken as they are
    (UTC when they carry no zone).

    Raises:
        ValueError: for text that is not a date or time.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        start = datetime(value.year, value.month, value.day, tzinfo=UTC)
        return start + timedelta(days=1, microseconds=-1) if end else start
    text = str(value).strip()
    match = _PARTIAL.match(text)
    if match:
        year, month, day = (int(g) if g else None for g in match.groups())
        try:
            start = datetime(year, month or 1, day or 1, tzinfo=UTC)
        except ValueError as error:
            raise ValueError(f"not a valid date: {text!r} ({error})") from None
        if not end:
            return start
        if day:
            stop = start + timedelta(days=1)
        elif month:
            stop = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        else:
            stop = datetime(year + 1, 1, 1, tzinfo=UTC)
        return stop - timedelta(microseconds=1)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a date or time: {text!r} (use e.g. 2024, 2024-05 or "
                         "2024-05-10)") from None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _collections(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """Return the requested collection ids as a tuple (comma-separated text allowed)."""
    if value is None:
        return None
    names = [value] if isinstance(value, str) else list(value)
    ids = tuple(dict.fromkeys(p.strip() for n in names for p in str(n).split(",") if p.strip()))
    return ids or None


def search(area: Any = None, start: str | date | datetime | None = None,
           end: str | date | datetime | None = None,
           collections: str | Iterable[str] | None = None, max_cloud: float | None = None,
           limit: int = 100, *, place: str | None = None, admin: str | None = None,
           geometry: Any = None, file: str | Path | None = None, offset: int = 0,
           source: Any = None, user: str | None = None,
           home: Path | None = None) -> SearchResult:
    """Search the catalog.

    Args:
        area: what to search: a place or region name (Chinese or English), a 6-digit
            administrative code, a GeoJSON dict, a shapely geometry, a ``(west, south, east,
            north)`` bbox or the path of a vector file; see :func:`terralab.areas.resolve_area`.
            None (and no keyword below) searches everywhere.
        start: the earliest acquisition date (``"2024"``, ``"2024-05"``, ``"2024-05-10"``,
            a date or datetime; UTC).
        end: the latest acquisition date, inclusive (``end="2024"`` is up to Dec 31st).
        collections: collection ids (``"landsat-c2-l2"``, ``"sentinel-2-l2a"``,
            ``"sentinel-1-grd"``, …), one or a list; None = all.
        max_cloud: the largest cloud cover in percent; SAR items always pass.
        limit: the most items to return.
        place: a place / POI name, instead of ``area``.
        admin: an administrative region name or code, instead of ``area``.
        geometry: a GeoJSON dict, shapely geometry or bbox, instead of ``area``.
        file: a vector file (zipped shapefile, GeoJSON, GeoPackage), instead of ``area``.
        offset: how many matching items to skip (the next page: ``offset=limit``).
        source: the catalog source by name (``"embedded"`` by default, see
            :func:`terralab.catalog.sources.get_source`), or a source object.
        user: whose own items (uploads, results) to include besides the public ones
            (default: :func:`terralab.identity.current_user`).
        home: the terralab data folder.

    Returns:
        The items, newest first, as a :class:`SearchResult`.

    Raises:
        terralab.areas.AreaError: for an area that cannot be resolved (unknown place, empty
            geometry, invalid GeoJSON, a bad vector file…); ``AmbiguousAreaError`` carries
            the candidates of an ambiguous name.
        ValueError: for bad dates, cloud cover or limits.
    """
    from terralab.catalog.sources import get_source

    query, resolved = search_query(area, start, end, collections, max_cloud, limit,
                                   place=place, admin=admin, geometry=geometry, file=file,
                                   offset=offset, user=user)
    catalog = get_source(source, home=home) if source is None or isinstance(source, str) \
        else source
    return SearchResult(catalog.search(query), area=resolved, query=query, source=catalog.name)


def search_query(area: Any = None, start: str | date | datetime | None = None,
                 end: str | date | datetime | None = None,
                 collections: str | Iterable[str] | None = None,
                 max_cloud: float | None = None, limit: int = 100, *,
                 place: str | None = None, admin: str | None = None, geometry: Any = None,
                 file: str | Path | None = None, offset: int = 0,
                 user: str | None = None) -> tuple[SearchQuery, Any]:
    """Return the query :func:`search` runs for its arguments, and the area resolved.

    Raises:
        terralab.areas.AreaError: for an area that cannot be resolved.
        ValueError: for bad dates, cloud cover or limits.
    """
    from terralab.areas import resolve_area
    from terralab.identity import current_user

    resolved = None
    if any(v is not None for v in (area, place, admin, geometry, file)):
        resolved = resolve_area(area, place=place, admin=admin, geometry=geometry, file=file)
    query = SearchQuery(
        geometry=resolved.geometry if resolved is not None else None,
        start=parse_time(start),
        end=parse_time(end, end=True),
        collections=_collections(collections),
        max_cloud=None if max_cloud is None else float(max_cloud),
        limit=int(limit),
        offset=int(offset),
        owner=user or current_user(),
    )
    return query, resolved
