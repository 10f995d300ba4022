"""The peer: the same STAC items in one GeoParquet file, searched with DuckDB and shapely.

DuckDB's spatial extension cannot be had offline here (the PyPI wheels that carry it are
built for DuckDB 1.4/1.5 and DuckDB refuses to load them into 2.0), so the peer does what a
GeoParquet user without it does: DuckDB filters on the GeoParquet 1.1 ``bbox`` covering
column, the datetime and the cloud cover (pushed down into the Parquet scan, which skips row
groups by their statistics), sorts, and shapely tests the candidates' footprints exactly.

The file is written the way GeoParquet is meant to be written for such queries: WKB
geometry, a ``bbox`` struct declared as the covering, rows sorted along a Hilbert curve of the
footprint centres (so a row group covers a compact area), zstd. STAC properties that are
searched on are columns (``datetime``, ``eo:cloud_cover``, ``platform``); the rest of the
properties, the assets and the extensions are JSON text, so a hit turns back into the same
STAC item dict that was added.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import shapely

from terralab.catalog.query import SearchQuery

__all__ = ["GeoParquetPeer", "hilbert", "write_geoparquet"]

_STAGING = """
CREATE TABLE staging (id VARCHAR, collection VARCHAR, datetime TIMESTAMPTZ,
    "eo:cloud_cover" DOUBLE, platform VARCHAR, properties VARCHAR, assets VARCHAR,
    stac_extensions VARCHAR, geometry GEOMETRY, xmin DOUBLE, ymin DOUBLE, xmax DOUBLE,
    ymax DOUBLE, hilbert UBIGINT)
"""
_SEARCHED = ("datetime", "eo:cloud_cover", "platform")


def hilbert(x: np.ndarray, y: np.ndarray, order: int = 16) -> np.ndarray:
    """Hilbert-curve index of lon/lat points on a 2**order grid over the globe."""
    n = 1 << order
    xi = np.clip(((x + 180.0) / 360.0 * n).astype(np.int64), 0, n - 1)
    yi = np.clip(((y + 90.0) / 180.0 * n).astype(np.int64), 0, n - 1)
    d = np.zeros(len(xi), dtype=np.uint64)
    s = n // 2
    while s > 0:
        rx = (xi & s) > 0
        ry = (yi & s) > 0
        d += np.uint64(s) * np.uint64(s) * ((3 * rx) ^ ry).astype(np.uint64)
        flip = ~ry & rx
        xi = np.where(flip, n - 1 - xi, xi)
        yi = np.where(flip, n - 1 - yi, yi)
        swap = ~ry
        xi, yi = np.where(swap, yi, xi), np.where(swap, xi, yi)
        s //= 2
    return d


def _frame(items: list[dict[str, Any]]) -> pd.DataFrame:
    """STAC item dicts as the staging table's columns."""
    props = [i["properties"] for i in items]
    bbox = np.array([i["bbox"] for i in items], dtype=float)
    return pd.DataFrame({
        "id": [i["id"] for i in items],
        "collection": [i["collection"] for i in items],
        "datetime": pd.to_datetime([p["datetime"] for p in props], utc=True, format="ISO8601"),
        "cloud": np.array([p.get("eo:cloud_cover", np.nan) for p in props], dtype=float),
        "platform": [p.get("platform") for p in props],
        "properties": [json.dumps({k: v for k, v in p.items() if k not in _SEARCHED})
                       for p in props],
        "assets": [json.dumps(i.get("assets") or {}) for i in items],
        "stac_extensions": [json.dumps(i.get("stac_extensions") or []) for i in items],
        "geometry": [json.dumps(i["geometry"]) for i in items],
        "xmin": bbox[:, 0], "ymin": bbox[:, 1], "xmax": bbox[:, 2], "ymax": bbox[:, 3],
        "hilbert": hilbert((bbox[:, 0] + bbox[:, 2]) / 2, (bbox[:, 1] + bbox[:, 3]) / 2),
    })


def write_geoparquet(batches: Iterable[list[dict[str, Any]]], path: Path, *,
                     row_group: int) -> dict[str, float]:
    """Write STAC item dicts to one GeoParquet 1.1 file; return timings in seconds."""
    con = duckdb.connect()
    con.execute(_STAGING)
    started = time.perf_counter()
    for items in batches:
        con.register("frame", _frame(items))
        con.execute("INSERT INTO staging SELECT id, collection, datetime, "
                    "CASE WHEN isnan(cloud) THEN NULL ELSE cloud END, platform, properties, "
                    "assets, stac_extensions, ST_GeomFromGeoJSON(geometry), xmin, ymin, xmax, "
                    "ymax, hilbert FROM frame")
        con.unregister("frame")
    staged = time.perf_counter()
    x0, y0, x1, y1 = con.execute("SELECT min(xmin), min(ymin), max(xmax), max(ymax) "
                                 "FROM staging").fetchone()
    covering = {k: ["bbox", k] for k in ("xmin", "ymin", "xmax", "ymax")}
    geo = {"version": "1.1.0", "primary_column": "geometry",
           "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Polygon"],
                                    "bbox": [x0, y0, x1, y1],
                                    "covering": {"bbox": covering}}}}
    con.execute(
        f"COPY (SELECT id, collection, datetime, \"eo:cloud_cover\", platform, properties, "
        f"assets, stac_extensions, ST_AsWKB(geometry) AS geometry, "
        f"{{'xmin': xmin, 'ymin': ymin, 'xmax': xmax, 'ymax': ymax}} AS bbox "
        f"FROM staging ORDER BY hilbert, datetime) TO '{path}' (FORMAT parquet, "
        f"COMPRESSION zstd, ROW_GROUP_SIZE {row_group}, KV_METADATA {{geo: '{json.dumps(geo)}'}})")
    con.close()
    return {"stage": staged - started, "write": time.perf_counter() - staged}


_COLUMNS = ('id, collection, epoch_ms(datetime), "eo:cloud_cover", platform, properties, '
            "assets, stac_extensions, geometry, bbox")


class GeoParquetPeer:
    """Search the GeoParquet file with DuckDB (in place, or loaded into DuckDB's memory)."""

    def __init__(self, path: Path, *, in_memory: bool = False) -> None:
        self.con = duckdb.connect()
        source = f"read_parquet('{path}')"
        if in_memory:
            self.con.execute(f"CREATE TABLE items AS SELECT * FROM {source}")
        else:
            self.con.execute(f"CREATE VIEW items AS SELECT * FROM {source}")

    def close(self) -> None:
        self.con.close()

    def search(self, query: SearchQuery) -> list[dict[str, Any]]:
        """One page of items, newest first then by id: the same contract as CatalogIndex."""
        where, args = ["true"], []
        if query.geometry is not None:
            x0, y0, x1, y1 = query.geometry.bounds
            where.append("bbox.xmin <= ? AND bbox.xmax >= ? AND bbox.ymin <= ? "
                         "AND bbox.ymax >= ?")
            args += [x1, x0, y1, y0]
        if query.start is not None:
            where.append("datetime >= ?")
            args.append(query.start)
        if query.end is not None:
            where.append("datetime <= ?")
            args.append(query.end)
        if query.max_cloud is not None:
            where.append('("eo:cloud_cover" IS NULL OR "eo:cloud_cover" <= ?)')
            args.append(query.max_cloud)
        if query.collections:
            where.append(f"collection IN ({','.join('?' * len(query.collections))})")
            args += list(query.collections)
        sql = (f"SELECT {_COLUMNS} FROM items WHERE {' AND '.join(where)} "
               "ORDER BY datetime DESC, id")
        if query.geometry is None:
            rows = self.con.execute(f"{sql} LIMIT {query.limit} OFFSET {query.offset}",
                                    args).fetchall()
            return [_item(row) for row in rows]
        rows = self.con.execute(sql, args).fetchall()
        area = query.geometry
        shapely.prepare(area)
        hits = shapely.intersects(area, shapely.from_wkb([row[8] for row in rows]))
        page = [row for row, hit in zip(rows, hits, strict=True) if hit]
        return [_item(row) for row in page[query.offset:query.offset + query.limit]]


def _item(row: tuple[Any, ...]) -> dict[str, Any]:
    name, collection, ms, cloud, platform, props, assets, extensions, wkb, bbox = row
    stamp = datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")
    properties: dict[str, Any] = {"datetime": stamp.replace("+00:00", "Z"),
                                  "platform": platform}
    if cloud is not None:
        properties["eo:cloud_cover"] = cloud
    properties.update(json.loads(props))
    return {"type": "Feature", "stac_version": "1.1.0",
            "stac_extensions": json.loads(extensions), "id": name, "collection": collection,
            "geometry": json.loads(shapely.to_geojson(shapely.from_wkb(wkb))),
            "bbox": [bbox["xmin"], bbox["ymin"], bbox["xmax"], bbox["ymax"]],
            "properties": properties, "assets": json.loads(assets), "links": []}
