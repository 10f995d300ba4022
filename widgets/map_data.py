"""What ``Map.add`` draws for each kind of data, and where a piece of data lies.

:func:`layer_for` turns data into a layer: catalog items, my-data records, tool results,
search results, files, ``"item:ID"``, DataArrays, localtileserver ``TileClient`` objects,
vectors.
A tool's result or a raster of my data that is a class map (a water mask, land cover, a
change mask; :func:`terralab.widgets.legend.class_map`) is drawn with its class colours and a
transparent background unless the call chooses a display itself; the layer keeps the classes
drawn as ``layer.terralab_classes`` for a legend.

:func:`data_bounds` gives the ``[[south, west], [north, east]]`` box of a layer or of data,
for :meth:`terralab.widgets.Map.fit`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ipyleaflet import Layer

from terralab.home import user_dir
from terralab.identity import current_user
from terralab.widgets.array_cache import cache_array
from terralab.widgets.layer_manager import LatLonBounds, layer_bounds
from terralab.widgets.legend import class_colormap, class_map
from terralab.widgets.localtiles import is_tile_client, tile_client_path
from terralab.widgets.rasters import Bounds, file_bounds, item_bounds, raster_layer
from terralab.widgets.tile_urls import source_query
from terralab.widgets.vectors import VECTOR_SUFFIXES, geojson_layer

__all__ = ["data_bounds", "is_result", "layer_for"]

#: style keys that choose how a raster is drawn: given any, no class colours are chosen
_DISPLAY_KEYS = ("bands", "rescale", "colormap")


def is_stac_item(obj: Any) -> bool:
    """A pystac Item or a STAC item dict."""
    if hasattr(obj, "assets") and hasattr(obj, "to_dict") and hasattr(obj, "id"):
        return True  # a pystac.Item
    return isinstance(obj, Mapping) and obj.get("type") == "Feature" and "assets" in obj


def is_record(obj: Any) -> bool:
    """A my-data record (anything with ``data_type`` and an ``item`` dict)."""
    return hasattr(obj, "data_type") and isinstance(getattr(obj, "item", None), Mapping)


def is_result(obj: Any) -> bool:
    """A tool's result (``tl.run``): ``output``, ``record`` and ``tool``."""
    return hasattr(obj, "output") and hasattr(obj, "record") and hasattr(obj, "tool")


def layer_for(obj: Any, name: str | None, style: dict[str, Any], *,
              base_url: str | None = None) -> Layer:
    """The layer showing ``obj`` (see :meth:`terralab.widgets.Map.add` for the kinds).

    ``style`` may hold ``classes`` (``{value: (name, colour)}``: draw a class map in these
    colours, other values transparent; ``False``: never choose class colours).

    Raises:
        TypeError: for an object the map cannot show, or a style it does not take.
        ValueError: for a file outside the user's folder or an array without a CRS.
    """
    if is_result(obj):
        target = obj.record if obj.record is not None else obj.data
        _class_style(obj, style)
        return layer_for(target, name or obj.tool, style, base_url=base_url)
    if is_record(obj):
        return _record_layer(obj, name, style, base_url)
    if is_stac_item(obj):
        item = obj.to_dict(transform_hrefs=False) if hasattr(obj, "to_dict") else obj
        return _raster(source_query(obj, asset=style.pop("asset", None)),
                       name or str(item["id"]), item_bounds(item), style, base_url)
    if hasattr(obj, "gdf") and hasattr(obj, "items"):  # a catalog SearchResult
        return geojson_layer(obj.gdf, name=name or "Search results", **_vector(style))
    if type(obj).__name__ == "DataArray":
        relative = cache_array(obj, name=name)
        return _raster({"path": relative}, name or str(obj.name or "array"),
                       file_bounds(relative), style, base_url)
    if is_tile_client(obj):
        obj = tile_client_path(obj)
    if isinstance(obj, str) and obj.startswith("item:"):
        return _raster(source_query(obj, asset=style.pop("asset", None)),
                       name or obj[5:], None, style, base_url)
    if isinstance(obj, (str, os.PathLike)):
        path = Path(obj)
        if path.suffix.lower() in VECTOR_SUFFIXES:
            return geojson_layer(_readable(path), name=name or path.stem, **_vector(style))
        source = source_query(path)
        return _raster(source, name or path.name, file_bounds(source["path"]), style, base_url)
    vector_style = _vector(style)
    try:
        return geojson_layer(obj, name=name or "Vector", **vector_style)
    except TypeError:
        raise TypeError(f"the map cannot show a {type(obj).__name__}") from None


def _vector(style: dict[str, Any]) -> dict[str, Any]:
    """The style of a vector layer: chosen class colours are for rasters only."""
    if style.get("classes") not in (None, False) and not hasattr(style["classes"], "colormap"):
        raise TypeError("classes= colours a raster class map, not a vector layer")
    style.pop("classes", None)
    return style


def _class_style(obj: Any, style: dict[str, Any]) -> None:
    """Choose class colours for a class map (unless the style chooses a display)."""
    if style.get("classes") is not None or any(style.get(key) for key in _DISPLAY_KEYS):
        return
    found = class_map(obj)
    style["classes"] = found if found is not None else False


def _raster(source: dict[str, str], name: str, bounds: Bounds | None, style: dict[str, Any],
            base_url: str | None) -> Layer:
    classes = style.pop("classes", None)
    drawn = None
    if classes is not None and classes is not False:
        if hasattr(classes, "colormap"):  # a ClassMap
            drawn, band = tuple(classes.classes), classes.band
        else:
            drawn, band = classes, None
        style["colormap"] = class_colormap(drawn)
        if band is not None and not style.get("bands"):
            style["bands"] = str(band)
    layer = raster_layer(source, name=name, base_url=base_url, bounds=bounds, **style)
    if drawn is not None:
        layer.terralab_classes = drawn
    return layer


def _record_layer(record: Any, name: str | None, style: dict[str, Any],
                  base_url: str | None) -> Layer:
    title = name or getattr(record, "title", None) or str(record.id)
    if record.data_type == "vector":
        return geojson_layer(record_file(record), name=title, **_vector(style))
    _class_style(record, style)
    return _raster(source_query(record, asset=style.pop("asset", None)), title,
                   item_bounds(record.item), style, base_url)


def record_file(record: Any) -> Path:
    """The data file of a my-data record (its ``data`` asset, else its first asset)."""
    assets = record.item.get("assets") or {}
    asset = assets.get("data") or next(iter(assets.values()), None)
    if not asset:
        raise TypeError(f"my-data item {record.id!r} has no data file")
    path = Path(asset["href"])
    if not path.is_absolute():
        path = user_dir(record.owner) / record.folder / path
    return path


def _readable(path: Path) -> Path:
    """A vector path as given, else relative to the user's folder."""
    if path.is_absolute() or path.exists():
        return path
    return user_dir(current_user()) / path


def _box(west: float, south: float, east: float, north: float) -> list[list[float]]:
    return [[float(south), float(west)], [float(north), float(east)]]


def data_bounds(obj: Any) -> LatLonBounds | None:
    """The ``[[south, west], [north, east]]`` box (WGS84) of a layer or of data, or None.

    Args:
        obj: a layer, ``(west, south, east, north)``, ``[[south, west], [north, east]]``, a
            shapely geometry, a GeoDataFrame / GeoSeries, a search result, a STAC item or a
            my-data record, a tool's result, or a localtileserver ``TileClient``.
    """
    if isinstance(obj, Layer):
        return layer_bounds(obj)
    if isinstance(obj, (list, tuple)):
        if len(obj) == 4 and all(isinstance(v, (int, float)) for v in obj):
            return _box(*obj)
        if len(obj) == 2 and all(isinstance(v, (list, tuple)) and len(v) == 2 for v in obj):
            return [[float(obj[0][0]), float(obj[0][1])], [float(obj[1][0]), float(obj[1][1])]]
        return None
    if is_result(obj):
        return data_bounds(obj.record if obj.record is not None else obj.data)
    if is_record(obj):
        box = item_bounds(obj.item)
        return _box(*box) if box else None
    if is_stac_item(obj):
        item = obj.to_dict(transform_hrefs=False) if hasattr(obj, "to_dict") else obj
        box = item_bounds(item)
        return _box(*box) if box else None
    if hasattr(obj, "gdf") and hasattr(obj, "items"):
        return data_bounds(obj.gdf)
    if hasattr(obj, "total_bounds") and hasattr(obj, "crs"):  # GeoDataFrame / GeoSeries
        frame = obj.to_crs(4326) if obj.crs is not None and obj.crs.to_epsg() != 4326 else obj
        return _box(*frame.total_bounds) if len(frame) else None
    if is_tile_client(obj):
        south, north, west, east = obj.bounds()
        return _box(west, south, east, north)
    if hasattr(obj, "bounds") and hasattr(obj, "geom_type"):  # shapely
        return _box(*obj.bounds) if not obj.is_empty else None
    return None
