"""Turning STAC Items into rows of the embedded index: times, hrefs, footprints.

All times are integer microseconds since 1970 UTC; footprints become WKB (repaired when
invalid) and bboxes; relative asset hrefs become absolute.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pystac
import shapely

__all__ = ["absolute_hrefs", "as_item_dict", "item_interval", "item_rows", "micros"]

_US = 1_000_000


def micros(value: str | datetime) -> int:
    """Return a time as integer microseconds since 1970 UTC (naive times are taken as UTC)."""
    when = value if isinstance(value, datetime) else datetime.fromisoformat(value.strip())
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = when - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * _US + delta.microseconds


def item_interval(properties: dict[str, Any]) -> tuple[int, int, int]:
    """Return an item's (sort time, start, end) in microseconds since 1970 UTC.

    The sort time is ``datetime``, else ``start_datetime``; the interval is
    ``start_datetime``/``end_datetime`` when given, else the instant ``datetime``; it is
    widened to hold ``datetime`` when a nominal datetime lies outside it.

    Raises:
        ValueError: when the item has neither a datetime nor a start and end.
    """
    instant = properties.get("datetime")
    start = properties.get("start_datetime") or instant
    end = properties.get("end_datetime") or instant
    if not start or not end:
        raise ValueError("has neither a datetime nor a start_datetime and end_datetime")
    t0, t1 = micros(start), micros(end)
    moment = micros(instant) if instant else min(t0, t1)
    # a nominal datetime outside its interval (composites) still belongs to the item
    return moment, min(t0, t1, moment), max(t0, t1, moment)


def _is_absolute(href: str) -> bool:
    return "://" in href or href.startswith("/") or (len(href) > 1 and href[1] == ":")


def _absolute(href: str, base: str) -> str:
    """Resolve a relative asset href against the item's self href (a URL or a local path)."""
    if _is_absolute(href):
        return href
    if "://" in base and not base.startswith("file://"):
        return urljoin(base, href)
    return str((Path(base.removeprefix("file://")).parent / href).resolve())


def absolute_hrefs(item: dict[str, Any], base: str | None = None) -> dict[str, Any]:
    """Return ``item`` with relative asset hrefs resolved (a copy when anything changes).

    Args:
        item: a STAC Item dict.
        base: the URL or path the hrefs are relative to; the item's self link when omitted.
    """
    base = base or next((link.get("href") for link in item.get("links") or []
                         if link.get("rel") == "self"), None)
    assets = item.get("assets") or {}
    if not base or all(_is_absolute(asset.get("href", "")) for asset in assets.values()):
        return item
    return {**item, "assets": {key: {**asset, "href": _absolute(asset.get("href", ""), base)}
                               for key, asset in assets.items()}}


def as_item_dict(item: pystac.Item | dict[str, Any]) -> dict[str, Any]:
    """Return an item as a STAC dict whose asset hrefs are absolute where they can be."""
    if isinstance(item, pystac.Item):
        base = item.get_self_href()
        item = absolute_hrefs(item.to_dict(include_self_link=True, transform_hrefs=False), base)
    if not isinstance(item, dict) or item.get("type") != "Feature":
        raise ValueError(f"not a STAC Item: {str(item)[:80]!r}")
    return absolute_hrefs(item)


def item_rows(items: list[dict[str, Any]], owner: str) -> list[tuple[Any, ...]]:
    """Return the ``items`` columns (without rowid) and the JSON body of a batch of items."""
    rows, shapes = [], []
    for item in items:
        name = item.get("id")
        if not name or not isinstance(name, str):
            raise ValueError("a STAC Item has no id")
        if not item.get("collection"):
            raise ValueError(f"item {name!r} has no collection")
        if not isinstance(item.get("geometry"), dict):
            raise ValueError(f"item {name!r} has no geometry")
        props = item.get("properties") or {}
        try:
            dt, t0, t1 = item_interval(props)
            cloud = props.get("eo:cloud_cover")
            cloud = None if cloud is None else float(cloud)
        except (TypeError, ValueError) as error:
            raise ValueError(f"item {name!r}: {error}") from None
        shapes.append(json.dumps(item["geometry"]))
        rows.append([item["collection"], name, owner, dt, t0, t1, cloud, item.get("bbox"),
                     json.dumps(item, separators=(",", ":"))])
    try:
        geoms = shapely.from_geojson(shapes)
    except shapely.errors.GEOSException:
        for row, text in zip(rows, shapes, strict=True):
            try:
                shapely.from_geojson(text)
            except shapely.errors.GEOSException as error:
                raise ValueError(f"item {row[1]!r} has a bad geometry: {error}") from None
        raise
    broken = ~shapely.is_valid(geoms)
    if broken.any():
        geoms[broken] = shapely.make_valid(geoms[broken])
    for row, geom, wkb in zip(rows, geoms, shapely.to_wkb(geoms), strict=True):
        bbox = row[7] or list(geom.bounds)
        minx, miny, maxx, maxy = (bbox[0], bbox[1], bbox[3], bbox[4]) if len(bbox) == 6 else bbox
        if minx > maxx:  # crosses the antimeridian
            minx, maxx = -180.0, 180.0
        row[7:8] = [float(minx), float(miny), float(maxx), float(maxy), wkb]
    return [tuple(row) for row in rows]
