"""localtileserver habits on terralab's own tiles: ``get_leaflet_tile_layer`` and ``TileClient``.

Notebook users of leafmap and geemap know localtileserver::

    from localtileserver import TileClient, get_leaflet_tile_layer
    client = TileClient("uploads/field/data.tif")
    m.add(get_leaflet_tile_layer(client, indexes=[4, 3, 2], vmin=0, vmax=3000))

The same lines work in terralab: ``m.add(client)`` (or ``m.add("uploads/field/data.tif")``)
shows the client's file, and :func:`get_leaflet_tile_layer` here takes localtileserver's
arguments (``indexes``, ``colormap``, ``vmin``, ``vmax``, ``nodata``, ``attribution``, and
the ``TileLayer`` options ``name``, ``opacity`` …; ``port`` and ``debug`` are accepted and
not needed). Both return an ipyleaflet ``TileLayer`` on **terralab's tile endpoint**, not
on localtileserver's server; the ``localtileserver`` package is not needed (a client
object is recognised by its ``filename`` and ``get_tile_url``).

Why terralab does not run localtileserver's server: that server listens on a port of its
own on the machine running the kernel, and the browser has to reach that port. Behind
JupyterHub it cannot without a proxy in front of it (jupyter-server-proxy and a
``client_prefix``), and it would serve any file the kernel can read to whoever reaches the
port. terralab's tiles come from the user's own Jupyter server (:mod:`terralab.extension`,
rio-tiler underneath as in localtileserver), under the page's own address and login, for
the files in the user's folder and the catalog items the user may see: they work behind the
hub, in JupyterLab and in Voilà with nothing more to set up.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ipyleaflet import TileLayer

from terralab.home import user_dir
from terralab.identity import current_user
from terralab.widgets.rasters import file_bounds, raster_layer
from terralab.widgets.tile_urls import source_query

__all__ = ["get_leaflet_tile_layer", "is_tile_client", "tile_client_path"]

Number = int | float


def is_tile_client(obj: Any) -> bool:
    """Whether ``obj`` is a localtileserver ``TileClient`` (or looks like one)."""
    return (not isinstance(obj, (str, os.PathLike)) and hasattr(obj, "filename")
            and callable(getattr(obj, "get_tile_url", None)))


def tile_client_path(client: Any) -> Path:
    """The local file a ``TileClient`` serves.

    Raises:
        ValueError: for a remote source (a URL or a GDAL virtual file): terralab's tiles
            read files in the user's folder (download or upload the file first).
    """
    text = str(client.filename)
    if "://" in text or text.lower().startswith("/vsi"):
        raise ValueError(f"{text!r} is a remote raster; terralab's map shows files in your "
                         "folder and catalog items: download the file into your folder "
                         "(or tl.upload it) and add that")
    return Path(text)


def _bands(indexes: int | Sequence[int] | None) -> str | None:
    if indexes is None:
        return None
    if isinstance(indexes, int):
        return str(indexes)
    return ",".join(str(int(index)) for index in indexes)


def _colormap(colormap: Any) -> str | None:
    """A colormap name (a matplotlib ``Colormap`` gives its ``name``)."""
    if colormap is None:
        return None
    name = colormap if isinstance(colormap, str) else getattr(colormap, "name", None)
    if not isinstance(name, str):
        raise TypeError("colormap is a colormap name (e.g. 'viridis') or a matplotlib "
                        "colormap with a name")
    return name.lower()


def _as_list(value: Number | Sequence[Number] | None, count: int) -> list[Number | None]:
    if value is None or isinstance(value, (int, float)):
        return [value] * count
    return list(value)


def _data_range(path: Path, band: int) -> tuple[float, float]:
    """The minimum and maximum of one band (from its smallest overview)."""
    import numpy as np
    import rasterio

    with rasterio.open(path) as src:
        factors = src.overviews(band)
        scale = factors[-1] if factors else max(1, max(src.width, src.height) // 1024)
        shape = (max(1, src.height // scale), max(1, src.width // scale))
        values = src.read(band, out_shape=shape, masked=True).astype("float64")
    finite = values.compressed()
    finite = finite[np.isfinite(finite)]
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)


def _rescale(path: Path, bands: str | None, vmin: Any, vmax: Any) -> str | None:
    """``vmin`` / ``vmax`` (one number, or one per band) as the endpoint's ``rescale``."""
    if vmin is None and vmax is None:
        return None
    numbers = [int(b) for b in bands.split(",")] if bands else [1]
    count = max([len(numbers)] + [len(v) for v in (vmin, vmax) if isinstance(v, Sequence)])
    lows, highs = _as_list(vmin, count), _as_list(vmax, count)
    pairs = []
    for position, (low, high) in enumerate(zip(lows, highs, strict=True)):
        if low is None or high is None:
            band = numbers[position] if position < len(numbers) else numbers[-1]
            found = _data_range(path, band)
            low = found[0] if low is None else low
            high = found[1] if high is None else high
        pairs.append(f"{float(low):g},{float(high):g}")
    return ";".join(pairs) if len(set(pairs)) > 1 else pairs[0]


def _local_path(source: Any) -> Path:
    if is_tile_client(source):
        return tile_client_path(source)
    if isinstance(source, (str, os.PathLike)):
        return Path(source)
    raise TypeError("source is a file in your folder or a localtileserver TileClient, not "
                    f"a {type(source).__name__}")


def get_leaflet_tile_layer(source: Any, port: int | str = "default", debug: bool = False,
                           indexes: int | Sequence[int] | None = None,
                           colormap: Any = None,
                           vmin: Number | Sequence[Number] | None = None,
                           vmax: Number | Sequence[Number] | None = None,
                           nodata: Number | None = None, attribution: str | None = None, *,
                           base_url: str | None = None, band: int | Sequence[int] | None = None,
                           palette: Any = None, **kwargs: Any) -> TileLayer:
    """An ipyleaflet ``TileLayer`` of a raster, on terralab's tile endpoint.

    localtileserver's ``get_leaflet_tile_layer`` call, answered without its server.

    Args:
        source: a file (inside the user's folder, as a path relative to it or absolute) or
            a localtileserver ``TileClient`` of such a file.
        port: accepted for localtileserver's call; terralab runs no tile server of its own.
        debug: accepted for localtileserver's call.
        indexes: the band (1-based) or the three bands (red, green, blue) to show.
        colormap: a colormap name (rio-tiler's, matplotlib's usual names) for one band.
        vmin: the value drawn darkest (one number, or one per band); with only one of
            ``vmin`` / ``vmax`` the other is the band's minimum or maximum.
        vmax: the value drawn brightest.
        nodata: the value drawn transparent.
        attribution: the layer's attribution (default ``terralab``).
        base_url: the server serving the tiles (see :func:`terralab.widgets.tile_urls.
            tile_base_url`).
        band: localtileserver's older name of ``indexes``.
        palette: localtileserver's older name of ``colormap``.
        **kwargs: ``TileLayer`` options: ``name``, ``opacity``, ``max_zoom`` …

    Raises:
        ValueError: for a file outside the user's folder or a remote source.
        TypeError: for an option ``TileLayer`` does not have.
    """
    del port, debug  # no server of our own to start
    path = _local_path(source)
    query = source_query(path)
    bands = _bands(indexes if indexes is not None else band)
    real = user_dir(current_user()) / query["path"]
    style: dict[str, Any] = {"bands": bands, "colormap": _colormap(colormap or palette),
                             "nodata": nodata, "rescale": _rescale(real, bands, vmin, vmax)}
    name = kwargs.pop("name", path.name)
    opacity = kwargs.pop("opacity", 1.0)
    layer = raster_layer(query, name=name, base_url=base_url,
                         bounds=file_bounds(query["path"]), opacity=opacity,
                         **{key: value for key, value in style.items() if value is not None})
    if attribution is not None:
        layer.attribution = attribution
    for key, value in kwargs.items():
        if not layer.has_trait(key):
            raise TypeError(f"TileLayer has no option {key!r}")
        setattr(layer, key, value)
    return layer
