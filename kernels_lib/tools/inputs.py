"""Tool inputs: what a raster reference may be, opened lazily with the user's rights.

A raster input (``image=`` …) may be:

- an ``xarray.DataArray`` with a CRS (``rioxarray``), e.g. the output of another tool;
- the id of one of the user's items (an upload or a result), or of a catalog item the user may
  see (a demo Sentinel-2 scene:
  ``"S2A_MSIL2A_20250507T023551_R089_T51RTP_20250507T061010"``; ``{"item": id, "asset": key}``
  picks one asset);
- a GeoTIFF path. Paths from a notebook are read as that user; in a shared worker (``restricted``)
  they must stay inside the user's folder (:func:`terralab.tiles.check_user_path`).

Every file (a path or an item's asset) is opened with the allow-list of
:mod:`terralab.raster_open` before it is used: GeoTIFF or Erdas Imagine only, no sidecar
files, nothing that names another file (a VRT, even one called ``.tif``, an external overview
or spill file) — else an :class:`InputError` says why.

Bands are picked by name through the collection's conventions (:mod:`terralab.products`):
``nir``, ``red``, ``swir16`` … map onto Landsat's, Sentinel-2's and the aerial images' own
bands, in physical units (scale and offset applied, nodata as NaN).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

__all__ = ["InputError", "RasterSource", "open_bands", "open_raster", "open_vector",
           "resolve_raster"]


class InputError(ValueError):
    """A tool input that cannot be used; the message says why."""


@dataclass(frozen=True)
class RasterSource:
    """A resolved raster reference.

    Attributes:
        label: how to name it in messages.
        path: a single file to read (None for a multi-file item or a DataArray).
        item: the STAC item when the reference is an item.
        owner: the item's owner (None = public).
        data: the DataArray given directly.
        band_names: common names of the file's bands, when known.
        driver: the GDAL driver ``path`` was checked with (see :mod:`terralab.raster_open`);
            reopen it with this driver only.
    """

    label: str
    path: Path | None = None
    item: dict[str, Any] | None = None
    owner: str | None = None
    data: Any = None
    band_names: tuple[str, ...] = field(default=())
    driver: str | None = None


def _catalog_lookup(ref: str, user: str, home: Path) -> tuple[dict[str, Any], str | None] | None:
    from terralab.catalog.index import CatalogIndex, default_index_path

    path = default_index_path(home)
    if not path.exists():
        return None
    with CatalogIndex(path) as index:
        return index.lookup(ref, owner=user)


def _data_asset(item: dict[str, Any], asset: str | None) -> str | None:
    assets = item.get("assets") or {}
    if asset is not None:
        if asset not in assets:
            raise InputError(f"item {item['id']!r} has no asset {asset!r}; its assets: "
                             f"{', '.join(assets)}")
        return asset
    data = [k for k, a in assets.items() if "data" in (a.get("roles") or [])
            and str(a.get("type", "")).startswith("image/tiff")]
    return data[0] if len(data) == 1 else None


def _input_path(text: str, user: str, home: Path, restricted: bool) -> Path:
    """A file path given as an input; in a shared worker it must stay in the user's folder."""
    if not restricted:  # absolute: the workers of a Dask cluster run in another folder
        return Path(text).expanduser().absolute()
    from terralab.home import user_dir
    from terralab.tiles import check_user_path

    try:
        root = user_dir(user, home=home)
        given = Path(text)
        if given.is_absolute():  # a full path is fine while it stays in the user's folder
            path = given.resolve()
            if not path.is_relative_to(root.resolve()):
                raise InputError(f"{text!r} is outside your folder; shared workers read "
                                 "your folder, your data and the catalog only")
            return path
        path = (root / check_user_path(text)).resolve()
    except (PermissionError, LookupError) as error:
        raise InputError(str(error)) from None
    if not path.is_relative_to(root.resolve()):
        raise InputError(f"{text!r} leaves your folder")
    return path


def _checked_driver(path: Path, label: str) -> str:
    """Open ``path`` with the raster allow-list; return its driver or refuse it."""
    from terralab.raster_open import RasterRefusedError, open_checked

    try:
        with open_checked(path, label) as dataset:
            return str(dataset.driver)
    except RasterRefusedError as error:
        raise InputError(str(error)) from None


def _check_asset(item: dict[str, Any], key: str, owner: str | None, home: Path) -> None:
    """Check one asset of a multi-file item like a single file: where it lies, its format."""
    from terralab.catalog.assets import AssetAccessError, local_asset_path

    try:
        path = local_asset_path(item, key, owner=owner, home=home)
    except AssetAccessError as error:
        raise InputError(str(error)) from None
    if path is not None:
        _checked_driver(path, f"asset {key!r} of {item.get('id')!r}")


def resolve_raster(ref: Any, *, user: str, home: Path,
                   restricted: bool = False) -> RasterSource:
    """Turn a raster reference into what to read.

    Raises:
        InputError: for an unknown item, a missing file, a path outside the user's data, or
            a file the raster allow-list refuses (:mod:`terralab.raster_open`).
    """
    from terralab.catalog.assets import AssetAccessError, local_asset_path

    if isinstance(ref, xr.DataArray):
        if ref.rio.crs is None:
            raise InputError("the DataArray has no CRS (set it with da.rio.write_crs)")
        names = tuple(str(n) for n in np.atleast_1d(ref.attrs.get("long_name", ())))
        return RasterSource(label=str(ref.name or "the DataArray"), data=ref, band_names=names)
    asset = None
    if isinstance(ref, dict):
        ref, asset = ref.get("item"), ref.get("asset")
    if not isinstance(ref, str | Path) or not str(ref):
        raise InputError(f"not a raster reference: {ref!r} (a path, an item id or a DataArray)")
    text = str(ref)
    found = _catalog_lookup(text, user, home) if "/" not in text and "\\" not in text else None
    if found is not None:
        item, owner = found
        key = _data_asset(item, asset)
        path = None
        if key is not None:
            try:
                path = local_asset_path(item, key, owner=owner, home=home)
            except AssetAccessError as error:
                raise InputError(str(error)) from None
            if path is None:
                raise InputError(f"asset {key!r} of {text!r} is remote; download it first")
        bands = (item.get("assets", {}).get(key, {}).get("eo:bands") or []) if key else []
        names = tuple(str(b.get("common_name") or b.get("name") or "") for b in bands)
        driver = None if path is None else _checked_driver(path, f"asset {key!r} of {text!r}")
        return RasterSource(label=repr(text), path=path, item=item, owner=owner,
                            band_names=names, driver=driver)
    path = _input_path(text, user, home, restricted)
    if not path.is_file():
        raise InputError(f"no item or file {text!r} (an item id of yours or of the catalog, "
                         "or a GeoTIFF path)")
    return RasterSource(label=repr(text), path=path, driver=_checked_driver(path, repr(text)))


def open_raster(ref: Any, *, user: str, home: Path, chunks: int = 1024,
                restricted: bool = False) -> xr.DataArray:
    """Open a raster reference lazily as ``(band, y, x)`` with its CRS and nodata.

    Raises:
        InputError: as :func:`resolve_raster`, and for a multi-file item (pick an asset).
    """
    import rasterio
    import rioxarray

    from terralab.raster_open import SAFE_GDAL_OPTIONS

    source = resolve_raster(ref, user=user, home=home, restricted=restricted)
    if source.data is not None:
        data = source.data
        return data if "band" in data.dims else data.expand_dims(band=[1])
    if source.path is None:
        raise InputError(f"{source.label} has several image assets; choose one with "
                         '{"item": id, "asset": key} or pick bands by name')
    # the file was checked (resolve_raster); it is opened here with the same driver alone and
    # no sidecar lookup, and kept open by rioxarray's file cache for the reads
    with rasterio.Env(**SAFE_GDAL_OPTIONS):
        data = rioxarray.open_rasterio(source.path, masked=False, driver=source.driver,
                                       chunks={"band": 1, "x": chunks, "y": chunks})
    if source.band_names and len(source.band_names) == data.sizes["band"]:
        data.attrs["long_name"] = source.band_names
    return data


# Sentinel-2 band ids → common names, used for a file whose bands are described as
# B1…B12 with B8A (a Sentinel-2 stack, e.g. from Sen1Floods11 or a SNAP export)
_SENTINEL2_IDS = {"blue": "b2", "green": "b3", "red": "b4", "rededge1": "b5", "rededge2": "b6",
                  "rededge3": "b7", "nir": "b8", "nir08": "b8a", "nir09": "b9", "cirrus": "b10",
                  "swir16": "b11", "swir22": "b12", "coastal": "b1"}


def _band_index(names: tuple[str, ...], wanted: str, label: str,
                band_map: dict[str, int] | None) -> int:
    if band_map and wanted in band_map:
        return int(band_map[wanted])
    lowered = tuple(n.lower().replace("b0", "b") if n.lower().startswith("b0") else n.lower()
                    for n in names)
    if wanted in lowered:
        return lowered.index(wanted) + 1
    if "b8a" in lowered and _SENTINEL2_IDS.get(wanted) in lowered:
        return lowered.index(_SENTINEL2_IDS[wanted]) + 1
    raise InputError(f"{label} has no band named {wanted!r} (its bands: "
                     f"{', '.join(names) or 'unnamed'}); say which with "
                     f'band_map={{"{wanted}": N}}')


def open_bands(ref: Any, names: list[str], *, user: str, home: Path,
               band_map: dict[str, int] | None = None, chunks: int = 1024,
               restricted: bool = False) -> dict[str, xr.DataArray]:
    """Open bands by common name (``nir``, ``red``…) as float32 in physical units.

    For a catalog item the collection's product conventions pick the band and apply scale
    and offset (Sentinel-2's by processing baseline); for a single file the band is found in
    ``band_map``, else by the file's band names; nodata becomes NaN.

    Raises:
        InputError: for an unknown band, with the bands there are.
    """
    source = resolve_raster(ref, user=user, home=home, restricted=restricted)
    item = source.item
    if item is not None and source.path is None:
        from terralab.products import for_item, open_band

        product = for_item(item)
        result = {}
        for name in names:
            key = name if name in product.bands else next(
                (k for k, b in product.bands.items() if b.common_name == name), None)
            if key is None:
                raise InputError(f"{source.label} ({product.id}) has no band {name!r}; its "
                                 f"bands: {', '.join(sorted(product.bands))}")
            _check_asset(item, product.bands[key].asset, source.owner, home)
            result[name] = open_band(item, key, chunks=chunks)
        return result
    data = open_raster(ref, user=user, home=home, chunks=chunks, restricted=restricted)
    band_names = tuple(str(n) for n in np.atleast_1d(data.attrs.get("long_name", ())))
    if not band_names and item is None and source.path is not None:
        from terralab.raster_open import RasterRefusedError, open_checked

        try:
            with open_checked(source.path, source.label) as src:
                band_names = tuple(d or "" for d in src.descriptions)
        except RasterRefusedError as error:
            raise InputError(str(error)) from None
    nodata = data.rio.nodata
    out = {}
    for name in names:
        index = _band_index(band_names, name, source.label, band_map)
        if not 1 <= index <= data.sizes["band"]:
            raise InputError(f"{source.label} has {data.sizes['band']} bands, not {index}")
        band = data.isel(band=index - 1).astype("float32")
        if nodata is not None and not np.isnan(nodata):
            band = band.where(band != nodata)
        out[name] = band
    return out


def open_vector(ref: Any, *, user: str, home: Path, restricted: bool = False) -> Any:
    """Open a vector input as a GeoDataFrame (in its own CRS).

    ``ref`` may be a GeoDataFrame, a GeoJSON dict (EPSG:4326), a shapely geometry
    (EPSG:4326), the id of one of the user's vector items, or a vector file path (read with
    the safe reader of :mod:`terralab.areas.vector_files`; ``{"file": path, "layer": name}``
    picks a GeoPackage layer), returned in the file's own CRS.

    Raises:
        InputError: for anything else, an unknown item or an unreadable file.
    """
    import geopandas as gpd
    from shapely.geometry import shape
    from shapely.geometry.base import BaseGeometry

    if isinstance(ref, gpd.GeoDataFrame):
        if ref.crs is None:
            raise InputError("the GeoDataFrame has no CRS (set it with .set_crs)")
        return ref
    if isinstance(ref, BaseGeometry):
        return gpd.GeoDataFrame(geometry=[ref], crs="EPSG:4326")
    layer = None
    if isinstance(ref, dict) and "file" in ref:  # {"file": "truth.gpkg", "layer": "parcels"}
        ref, layer = ref["file"], ref.get("layer")
    elif isinstance(ref, dict):
        if ref.get("type") == "FeatureCollection":
            return gpd.GeoDataFrame.from_features(ref["features"], crs="EPSG:4326")
        if ref.get("type") == "Feature":
            return gpd.GeoDataFrame.from_features([ref], crs="EPSG:4326")
        try:
            return gpd.GeoDataFrame(geometry=[shape(ref)], crs="EPSG:4326")
        except (ValueError, TypeError, AttributeError, KeyError) as error:
            raise InputError(f"not a GeoJSON geometry: {error}") from None
    if not isinstance(ref, str | Path) or not str(ref):
        raise InputError(f"not a vector reference: {ref!r}")
    text = str(ref)
    from terralab.mydata.store import get_record

    record = get_record(user, text, home=home) if "/" not in text else None
    if record is not None:
        if record.data_type != "vector":
            raise InputError(f"{text!r} is a raster, not a vector layer")
        return gpd.read_file(record.item["assets"]["data"]["href"])
    path = _input_path(text, user, home, restricted)
    from terralab.areas.errors import AreaError
    from terralab.areas.vector_files import read_vector_file

    try:
        data = read_vector_file(path, layer=layer)
    except AreaError as error:
        raise InputError(str(error)) from None
    # the safe reader gives EPSG:4326; a tool works in the layer's own CRS
    return data.frame if data.crs.is_wgs84_lonlat else data.frame.to_crs(data.crs.crs)
