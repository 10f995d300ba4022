"""Search results: a STAC ItemCollection that is also a GeoDataFrame view."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pystac

if TYPE_CHECKING:
    import geopandas

__all__ = ["SearchResult"]

_COLUMNS = ("eo:cloud_cover", "platform", "gsd", "landsat:wrs_path", "landsat:wrs_row",
            "s2:mgrs_tile", "sar:instrument_mode", "sat:orbit_state", "title", "terralab:kind")


class SearchResult(pystac.ItemCollection):
    """The items a catalog search found, in the order the catalog sorted them.

    It is a :class:`pystac.ItemCollection` (iterate it, ``len()``, ``to_dict()`` for
    GeoJSON) and offers a GeoDataFrame view of the same items (:attr:`gdf`): one row per item
    with its id, collection, datetime, cloud cover and footprint in EPSG:4326.

    Attributes:
        area: the resolved search area (a :class:`terralab.areas.Area`), or None.
        query: the :class:`terralab.catalog.query.SearchQuery` that was answered.
        source: the name of the catalog source that answered.
    """

    def __init__(self, items: list[dict[str, Any]], *, area: Any = None, query: Any = None,
                 source: str = "embedded") -> None:
        super().__init__([pystac.Item.from_dict(item, preserve_dict=True) for item in items],
                         clone_items=False)
        self._dicts = items
        self.area = area
        self.query = query
        self.source = source

    @property
    def gdf(self) -> geopandas.GeoDataFrame:
        """The items as a GeoDataFrame (EPSG:4326), one row per item."""
        return self.to_geodataframe()

    def to_geodataframe(self) -> geopandas.GeoDataFrame:
        """Return the items as a GeoDataFrame: id, collection, datetime, properties, footprint."""
        import geopandas
        import pandas
        from shapely.geometry import shape

        rows = []
        for item in self._dicts:
            props = item.get("properties") or {}
            row = {"id": item["id"], "collection": item.get("collection"),
                   "datetime": pandas.to_datetime(props.get("datetime")
                                                  or props.get("start_datetime"), utc=True)}
            row.update({key: props.get(key) for key in _COLUMNS if key in props})
            row["geometry"] = shape(item["geometry"]) if item.get("geometry") else None
            rows.append(row)
        columns = ["id", "collection", "datetime", "eo:cloud_cover", "geometry"]
        frame = pandas.DataFrame(rows, columns=list(dict.fromkeys(
            columns + [k for row in rows for k in row])))
        return geopandas.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")

    def dicts(self) -> list[dict[str, Any]]:
        """Return the items as the plain STAC item dicts the source answered."""
        return list(self._dicts)

    def __repr__(self) -> str:
        """Say how many items were found, where and from which source."""
        where = f" in {self.area.name}" if getattr(self.area, "name", None) else ""
        return f"<SearchResult: {len(self.items)} items{where} from {self.source}>"

    def _repr_html_(self) -> str:
        """Show the items as a table in a notebook."""
        frame = self.gdf.drop(columns="geometry")
        return f"<p>{self!r}</p>" + frame.to_html(index=False, max_rows=50)
