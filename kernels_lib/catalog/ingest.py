"""Add items to the embedded index: STAC files, static catalogs, STAC API searches, GeoTIFFs.

``ingest(target, index=…)`` reads what ``target`` names and adds every item in one
transaction (either all items are added or, on an error, none):

- a STAC Item JSON file, an ItemCollection (``FeatureCollection``) or a plain JSON list of items;
- a static STAC Catalog or Collection (``catalog.json`` / ``collection.json``, or a folder
  holding one): its children are walked and all items added;
- a folder of GeoTIFFs (or one ``.tif``): one item per file, built from the raster's metadata —
  id = file name without suffix, footprint = the raster bounds with densified edges reprojected
  to EPSG:4326, datetime = the ``TIFFTAG_DATETIME`` tag (read as UTC) when present, else the
  file's modification time; ``proj:*`` properties and one asset ``data``. Files that cannot be
  read or have no CRS are skipped and reported;
- an http(s) URL of a static item, item collection, catalog or collection;
- a STAC API search URL (``https://host/api/search?collections=…&bbox=…&datetime=…``): the same
  search through pystac-client, at most ``max_items`` items.

Relative asset hrefs are made absolute against the file or URL they were read from. Every
asset of a public item must then be a file under the catalog's data roots or a URL on an
allowed host (:mod:`terralab.catalog.asset_policy`); an item that names anything else (the
hub's secrets, ``/etc/shadow``, ``http://127.0.0.1/…``) stops the ingest with a message.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import pystac
import rasterio
import requests
import shapely
from pyproj import Transformer
from pystac_client import ItemSearch
from pystac_client.exceptions import APIError, ParametersError
from shapely.geometry import box, mapping

from terralab.catalog.asset_policy import AssetPolicy, HrefRefusedError, check_item
from terralab.catalog.index import CatalogIndex, absolute_hrefs
from terralab.raster_open import open_checked

__all__ = ["GEOTIFF_COLLECTION", "IngestError", "IngestReport", "geotiff_item", "ingest"]

#: The collection of items built from GeoTIFFs when no collection is given.
GEOTIFF_COLLECTION = "local-geotiff"
_TIFF_SUFFIXES = {".tif", ".tiff"}
_ROOT_FILES = ("catalog.json", "collection.json")


class IngestError(ValueError):
    """The target cannot be ingested; the message says why (nothing was written)."""


@dataclass
class IngestReport:
    """What an ingest added.

    Attributes:
        source: the target that was read.
        counts: items added per collection.
        skipped: (file, reason) for each file left out of a GeoTIFF folder.
    """

    source: str
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many items were added in all."""
        return sum(self.counts.values())

    def __str__(self) -> str:
        counts = ", ".join(f"{name} {count}" for name, count in sorted(self.counts.items()))
        lines = [f"added {self.total} item(s) from {self.source}: {counts}"]
        lines += [f"skipped {path}: {reason}" for path, reason in self.skipped]
        return "\n".join(lines)


def ingest(target: str | Path, *, index: CatalogIndex, owner: str | None = None,
           collection: str | None = None, max_items: int = 1000,
           policy: AssetPolicy | None = None) -> IngestReport:
    """Add the items ``target`` names to ``index``.

    Args:
        target: a file, a folder or an http(s) URL (see the module docs).
        index: the catalog index to add to.
        owner: the user who owns the items; None adds them to the public catalog.
        collection: the collection of items built from GeoTIFFs (default
            ``GEOTIFF_COLLECTION``) and of STAC items that name none; STAC items keep theirs.
        max_items: the most items read from a STAC API search URL.
        policy: where public items' assets may live; default: the configured roots and
            hosts, with the index's folder as the catalog folder.

    Returns:
        Items added per collection and the files skipped, with reasons.

    Raises:
        IngestError: when the target is missing, unreadable, not STAC, or holds a bad item
            (for public items: an asset outside the data roots and allowed hosts).
    """
    report = IngestReport(source=str(target))
    text = str(target)
    if text.startswith(("http://", "https://")):
        items = _from_url(text, max_items)
    else:
        items = _from_path(Path(target).expanduser().resolve(), collection, report)
    if collection:
        items = [item if item.get("collection") else {**item, "collection": collection}
                 for item in items]
    if not items:
        raise IngestError(f"{text}: no STAC items found")
    if owner is None:
        policy = policy or AssetPolicy.from_env(catalog=Path(index.path).parent)
        try:
            for item in items:
                check_item(item, policy)
        except HrefRefusedError as error:
            raise IngestError(f"{text}: {error}; nothing was added") from None
    try:
        index.add_items(items, owner=owner)
    except ValueError as error:
        raise IngestError(f"{text}: {error}") from None
    for item in items:
        report.counts[item["collection"]] = report.counts.get(item["collection"], 0) + 1
    return report


def _from_path(path: Path, collection: str | None,
               report: IngestReport) -> list[dict[str, Any]]:
    if not path.exists():
        raise IngestError(f"{path}: no such file or folder")
    if path.is_dir():
        for name in _ROOT_FILES:
            if (path / name).is_file():
                return _walk(str(path / name))
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in _TIFF_SUFFIXES)
        if not files:
            raise IngestError(f"{path}: the folder holds no GeoTIFF and no catalog.json")
        items = []
        for file in files:
            try:
                items.append(geotiff_item(file, collection=collection))
            except IngestError as error:
                report.skipped.append((str(file), str(error).removeprefix(f"{file}: ")))
        return items
    if path.suffix.lower() in _TIFF_SUFFIXES:
        return [geotiff_item(path, collection=collection)]
    try:
        document = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise IngestError(f"{path}: not a JSON or GeoTIFF file ({error})") from None
    return _from_document(document, str(path))


def _from_document(document: Any, where: str) -> list[dict[str, Any]]:
    """Return the items of a parsed JSON document read from ``where`` (a path or URL)."""
    kind = document.get("type") if isinstance(document, dict) else None
    if isinstance(document, list):
        features = document
    elif kind == "Feature":
        features = [document]
    elif kind == "FeatureCollection":
        features = document.get("features") or []
    elif kind in ("Catalog", "Collection"):
        return _walk(where)
    else:
        raise IngestError(f"{where}: not a STAC Item, ItemCollection, Catalog or Collection")
    for number, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise IngestError(f"{where}: entry {number} is not a STAC Item")
    return [absolute_hrefs(feature, _self_href(feature) or where) for feature in features]


def _self_href(item: dict[str, Any]) -> str | None:
    return next((link.get("href") for link in item.get("links") or []
                 if link.get("rel") == "self"), None)


def _walk(where: str) -> list[dict[str, Any]]:
    """Return every item under a static catalog or collection (a path or URL)."""
    try:
        root = pystac.read_file(where)
    except Exception as error:  # pystac raises many kinds for bad or unreachable files
        raise IngestError(f"{where}: cannot read the STAC catalog ({error})") from None
    if not isinstance(root, pystac.Catalog):
        raise IngestError(f"{where}: not a STAC Catalog or Collection")
    items = []
    for item in root.get_items(recursive=True):
        body = item.to_dict(include_self_link=False, transform_hrefs=False)
        if not body.get("collection") and item.collection_id:
            body["collection"] = item.collection_id
        items.append(absolute_hrefs(body, item.get_self_href()))
    return items


def _from_url(url: str, max_items: int) -> list[dict[str, Any]]:
    parts = urlsplit(url)
    if parts.path.rstrip("/").endswith("/search"):
        return _from_search(url, max_items)
    try:
        response = requests.get(url, timeout=60)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        raise IngestError(f"{url}: cannot read ({error})") from None
    return _from_document(document, url)


def _from_search(url: str, max_items: int) -> list[dict[str, Any]]:
    """Run the STAC API search a search URL describes (GET parameters), up to ``max_items``."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    options: dict[str, Any] = {}
    try:
        for key in ("collections", "ids"):
            if key in params:
                options[key] = params[key].split(",")
        if "bbox" in params:
            options["bbox"] = [float(value) for value in params["bbox"].split(",")]
        for key in ("intersects", "query", "filter"):
            if key in params:
                options[key] = json.loads(params[key])
        if "filter-lang" in params:
            options["filter_lang"] = params["filter-lang"]
        if "datetime" in params:
            options["datetime"] = params["datetime"]
        if "limit" in params:
            options["limit"] = min(int(params["limit"]), max_items)
        search = ItemSearch(urlunsplit(parts._replace(query="")), method="GET",
                            max_items=max_items, **options)
        return [absolute_hrefs(item) for item in search.items_as_dicts()]
    except (APIError, ParametersError, requests.RequestException, ValueError,
            TypeError) as error:
        raise IngestError(f"{url}: the STAC API search failed ({error})") from None


def _tiff_datetime(tags: dict[str, str], path: Path) -> datetime:
    value = tags.get("TIFFTAG_DATETIME")
    if value:
        try:
            return datetime.strptime(value.strip(), "%Y:%m:%d %H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.fromtimestamp(os.stat(path).st_mtime, tz=UTC)


def geotiff_item(path: Path, *, collection: str | None = None) -> dict[str, Any]:
    """Build a STAC Item for one GeoTIFF from its metadata.

    Args:
        path: the GeoTIFF.
        collection: the item's collection; ``GEOTIFF_COLLECTION`` when omitted.

    Returns:
        The item dict: id from the file name, footprint in EPSG:4326 (edges densified before
        reprojection), datetime from ``TIFFTAG_DATETIME`` (UTC) or the modification time,
        ``proj:*`` properties and one ``data`` asset with the absolute path.

    Raises:
        IngestError: when the file is not a readable raster or has no CRS.
    """
    path = Path(path).resolve()
    try:
        with open_checked(path, path.name) as src:  # the raster allow-list
            crs, bounds, transform = src.crs, src.bounds, src.transform
            shape, tags, count = (src.height, src.width), src.tags(), src.count
            dtype = src.dtypes[0]
            tiled = src.profile.get("tiled", False) and bool(src.overviews(1))
    except rasterio.errors.RasterioError as error:
        raise IngestError(f"{path}: not a readable raster ({error})") from None
    if crs is None:
        raise IngestError(f"{path}: the raster has no CRS")
    outline = shapely.segmentize(box(*bounds), max(bounds.right - bounds.left,
                                                   bounds.top - bounds.bottom) / 16)
    to_wgs84 = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    xs, ys = to_wgs84.transform(*shapely.get_coordinates(outline).T)
    footprint = shapely.make_valid(shapely.polygons(list(zip(xs, ys, strict=True))))
    when = _tiff_datetime(tags, path)
    props: dict[str, Any] = {
        "datetime": when.isoformat().replace("+00:00", "Z"),
        "proj:shape": list(shape),
        "proj:transform": list(transform)[:6],
        "proj:bbox": list(bounds),
    }
    epsg = crs.to_epsg()
    if epsg is not None:
        props["proj:epsg"] = epsg
    else:
        props["proj:wkt2"] = crs.to_wkt()
    media = "image/tiff; application=geotiff" + ("; profile=cloud-optimized" if tiled else "")
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": ["https://stac-extensions.github.io/projection/v1.1.0/schema.json"],
        "id": path.stem,
        "collection": collection or GEOTIFF_COLLECTION,
        "geometry": mapping(footprint),
        "bbox": list(footprint.bounds),
        "properties": props,
        "links": [],
        "assets": {"data": {"href": str(path), "type": media, "roles": ["data"],
                            "title": f"{count} band(s), {dtype}"}},
    }
