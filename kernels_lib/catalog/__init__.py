"""The terralab catalog: search by area, dates, collection and cloud cover; favourites; downloads.

In a notebook::

    import terralab as tl
    found = tl.search(admin="湖州市", start="2024", end="2025",
                      collections="sentinel-2-l2a", max_cloud=30)
    found.gdf                     # a GeoDataFrame of the footprints
    tl.download(found[0], "downloads/", assets=["B04", "B08"])   # terralab.client.catalog

The catalog answers from the embedded index under ``TERRALAB_HOME`` by default, or from a
STAC API or pgstac database when configured (:mod:`terralab.catalog.sources`).
"""

from __future__ import annotations

from terralab.catalog.favourites import add_favourite, list_favourites, remove_favourite
from terralab.catalog.query import SearchQuery
from terralab.catalog.results import SearchResult
from terralab.catalog.search import search

__all__ = ["SearchQuery", "SearchResult", "add_favourite", "list_favourites",
           "remove_favourite", "search"]
