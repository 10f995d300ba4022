"""STAC Items for my data: what an upload or a result looks like in the user's catalog.

Every item is in the collection ``my-data``, owned by its user (never public), with:

- ``data``: the COG (``image/tiff; application=geotiff; profile=cloud-optimized``) with the
  raster extension's per-band ``statistics`` and ``eo:bands`` common names, or the
  GeoPackage (``application/geopackage+sqlite3``);
- ``thumbnail``: a PNG preview;
- properties ``title``, ``datetime`` (when it was added), ``terralab:kind`` (``upload`` or
  ``result``), ``terralab:data_type``, ``terralab:source_name``, ``terralab:bytes``,
  ``terralab:flags`` and the projection extension's ``proj:code`` / ``proj:wkt2``,
  ``proj:shape``, ``proj:transform``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

__all__ = ["COG_TYPE", "COLLECTION", "GPKG_TYPE", "build_item"]

COLLECTION = "my-data"
COG_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
GPKG_TYPE = "application/geopackage+sqlite3"
_EXTENSIONS = [
    "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
    "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
    "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
]


def _projection(crs: Any, shape: tuple[int, int] | None = None,
                transform: Any = None) -> dict[str, Any]:
    """The projection extension's fields for a rasterio or pyproj CRS."""
    if crs is None:
        return {"proj:code": None}
    epsg = crs.to_epsg() if hasattr(crs, "to_epsg") else None
    fields: dict[str, Any] = {"proj:code": f"EPSG:{epsg}"} if epsg else {
        "proj:code": None, "proj:wkt2": crs.to_wkt()}
    if shape is not None:
        fields["proj:shape"] = list(shape)
    if transform is not None:
        fields["proj:transform"] = list(transform)[:6]
    return fields


def build_item(item_id: str, *, published: Any, folder: Path, data_type: str, title: str,
               kind: str, source_name: str, created: str, size: int,
               flags: tuple[str, ...] = ()) -> dict[str, Any]:
    """Return the STAC item of a published raster or vector.

    Args:
        item_id: the item id.
        published: a :class:`~terralab.mydata.raster_publish.PublishedRaster` or
            :class:`~terralab.mydata.vector_publish.PublishedVector`.
        folder: the item's final folder (the asset hrefs point into it).
        data_type: ``"raster"`` or ``"vector"``.
        title: the name shown to the user.
        kind: ``"upload"`` or ``"result"``.
        source_name: the uploaded file's name (or the tool of a result).
        created: ISO 8601 UTC time it was added (the item's datetime).
        size: its bytes on disk.
        flags: notes for the user.
    """
    properties: dict[str, Any] = {
        "title": title, "datetime": created, "created": created, "terralab:kind": kind,
        "terralab:data_type": data_type, "terralab:source_name": source_name,
        "terralab:bytes": size, "terralab:flags": list(flags)}
    assets: dict[str, Any] = {
        "thumbnail": {"href": str(folder / published.thumbnail.name), "type": "image/png",
                      "roles": ["thumbnail"], "title": "Preview"}}
    geometry: BaseGeometry | None
    if data_type == "raster":
        info = published.info
        geometry = info.footprint_wgs84
        properties.update(_projection(info.crs, (info.height, info.width), info.transform))
        assets["data"] = {
            "href": str(folder / published.cog.name), "type": COG_TYPE, "roles": ["data"],
            "title": title,
            "raster:bands": [
                {"data_type": info.dtype, "nodata": info.nodata, "statistics": stats.as_stac()}
                for stats in published.statistics],
            "eo:bands": [{"name": name, "common_name": name} for name in info.band_names
                         if name],
        }
        for band, name in zip(assets["data"]["eo:bands"], info.band_names, strict=False):
            if name.startswith("b") and name[1:].isdigit():
                band.pop("common_name")
    else:
        geometry = published.footprint_wgs84
        properties["terralab:feature_count"] = published.feature_count
        properties["terralab:geometry_types"] = list(published.geometry_types)
        properties["proj:code"] = None
        if published.crs_name:
            properties["terralab:crs_name"] = published.crs_name
        assets["data"] = {"href": str(folder / published.gpkg.name), "type": GPKG_TYPE,
                          "roles": ["data"], "title": title}
    item: dict[str, Any] = {
        "type": "Feature", "stac_version": "1.1.0", "stac_extensions": _EXTENSIONS,
        "id": item_id, "collection": COLLECTION, "properties": properties, "assets": assets,
        "links": [],
        "geometry": shapely.geometry.mapping(geometry) if geometry is not None else None,
    }
    if geometry is not None:
        item["bbox"] = list(geometry.bounds)
    return item
