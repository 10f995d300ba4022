"""How ``catalog_index_v1.zip`` was made: run with the release whose index had schema 1.

That release (commit ea37208) kept each public item's JSON text in a ``bodies`` table beside a
row of columns, a WKB footprint and a bbox per item. This script, run with that code, writes
an index of the 12 real items of ``../shared/data/real/stac_items``, 600 items of the catalog
benchmark's synthetic archive and a few awkward hand-made ones (an interval, the antimeridian,
a self-crossing footprint, whole-number coordinates, a 3-D bbox, quotes and non-ASCII in ids),
then the ids of each page of a fixed list of searches (``pages.json``), and zips both.
:mod:`tests.kernels_lib.test_catalog_index_v2` opens it with today's code. It is kept as the
record of what the fixture holds, not run by the tests.
"""

from __future__ import annotations

import json
import shutil
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
WORK = Path("/tmp/terralab-index-v1")
ZIP = Path(__file__).with_name("catalog_index_v1.zip")


def awkward_items() -> list[dict[str, Any]]:
    """Hand-made items that exercise every branch of turning an item into a row."""
    def item(name: str, geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
        return {"type": "Feature", "stac_version": "1.0.0", "id": name,
                "collection": "awkward", "geometry": geometry, "properties": props,
                "links": [], "assets": {"data": {"href": f"/data/{name}.tif"}}}

    square = {"type": "Polygon", "coordinates": [[[120, 30], [121, 30], [121, 31],
                                                  [120, 31], [120, 30]]]}
    bowtie = {"type": "Polygon", "coordinates": [[[119.0, 30.0], [120.0, 31.0], [120.0, 30.0],
                                                  [119.0, 31.0], [119.0, 30.0]]]}
    wide = {"type": "MultiPolygon", "coordinates": [
        [[[179.5, 50.0], [180.0, 50.0], [180.0, 51.0], [179.5, 51.0], [179.5, 50.0]]],
        [[[-180.0, 50.0], [-179.5, 50.0], [-179.5, 51.0], [-180.0, 51.0], [-180.0, 50.0]]]]}
    items = [
        item("whole-numbers", square, datetime="2024-03-01T00:00:00Z", **{"eo:cloud_cover": 5}),
        item("bow\"tie 蝴蝶", bowtie, datetime="2024-03-02T00:00:00Z",
             **{"eo:cloud_cover": 12.5}),
        item("an-interval", square, datetime=None, start_datetime="2023-01-01T00:00:00Z",
             end_datetime="2023-12-31T23:59:59Z"),
        item("1", square, datetime="2024-03-01T00:00:00Z", **{"eo:cloud_cover": 0.0}),
        {**item("antimeridian", wide, datetime="2024-03-03T10:00:00.123456Z"),
         "bbox": [179.5, 50.0, 0.0, -179.5, 51.0, 10.0]},
    ]
    items[1]["bbox"] = [119.0, 30.0, 120.0, 31.0]
    return items


def searches() -> list[dict[str, Any]]:
    """The searches whose pages the fixture records (the arguments of a SearchQuery)."""
    china = [[73.0, 18.0], [135.0, 18.0], [135.0, 54.0], [73.0, 54.0], [73.0, 18.0]]
    return [
        {},
        {"limit": 50, "offset": 50},
        {"collections": ["sentinel-2-l2a"], "max_cloud": 20},
        {"start": "2020-01-01T00:00:00+00:00", "end": "2021-12-31T23:59:59+00:00"},
        {"geometry": {"type": "Polygon", "coordinates": [china]}, "limit": 200},
        {"geometry": {"type": "Polygon", "coordinates": [[[112, 28], [116, 28], [116, 32],
                                                          [112, 32], [112, 28]]]},
         "max_cloud": 40},
        {"geometry": {"type": "Point", "coordinates": [120.5, 30.5]}},
        {"geometry": {"type": "Polygon", "coordinates": [[[179.6, 50.2], [179.9, 50.2],
                                                          [179.9, 50.8], [179.6, 50.2]]]}},
        {"collections": ["awkward"], "start": "2023-06-01T00:00:00+00:00",
         "end": "2023-06-02T00:00:00+00:00"},
        {"geometry": {"type": "Point", "coordinates": [119.25, 30.5]}, "max_cloud": 50},
    ]


def query(spec: dict[str, Any]) -> Any:
    """Turn one of :func:`searches` into a SearchQuery."""
    from shapely.geometry import shape

    from terralab.catalog.query import SearchQuery

    args = dict(spec)
    if "geometry" in args:
        args["geometry"] = shape(args["geometry"])
    for key in ("start", "end"):
        if key in args:
            args[key] = datetime.fromisoformat(args[key]).astimezone(UTC)
    if "collections" in args:
        args["collections"] = tuple(args["collections"])
    return SearchQuery(**args)


def main() -> None:
    """Write the schema-1 index and its pages, and zip them beside this script."""
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    from _items import build_catalog

    from terralab.catalog.index import CatalogIndex
    from tests.stac_replay import real_items

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir()
    path = WORK / "index.sqlite"
    with CatalogIndex(path) as index:
        index.add_items(real_items(ROOT.parent / "shared" / "data" / "real" / "stac_items"))
        for batch in build_catalog(600, seed=7).batches(200):
            index.add_items(batch)
        index.add_items(awkward_items())
        pages = [{"search": spec, "ids": [found["id"] for found in index.search(query(spec))],
                  "count": index.count(query(spec))} for spec in searches()]
    (WORK / "pages.json").write_text(json.dumps(pages, indent=1, ensure_ascii=False))
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("VACUUM")
    with zipfile.ZipFile(ZIP, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.write(path, "index.sqlite")
        archive.write(WORK / "pages.json", "pages.json")


if __name__ == "__main__":
    main()
