"""Web-map tiles (WebMercatorQuad, z/x/y) and TileJSON of a :class:`TileSource`.

Each file a tile needs is read once with rio-tiler's :class:`~rio_tiler.io.Reader` (a
Sentinel-2 true-colour tile reads the B04, B03 and B02 files; a demo aerial tile reads one
4-band file). Stored values become physical values (the product's scale and offset, dB for
SAR presets), are stretched over the display ranges to 0…255 and encoded as a PNG whose
alpha is 0 wherever a shown band has no data and outside the image.

Files without overviews are read at full resolution: a tile that would have to read more than
:data:`MAX_READ_PIXELS` pixels of one band is refused with a message to zoom in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from terralab.tiles._files import open_gtiff, percentile_range
from terralab.tiles.access import SourceBand, TileSource
from terralab.tiles.errors import TileOutside
from terralab.tiles.params import (
    TileParameterError,
    check_nodata,
    parse_bands,
    parse_colormap,
    parse_nodata,
    parse_rescale,
    parse_tilesize,
)

__all__ = ["MAX_READ_PIXELS", "PNG_ZLEVEL", "TileOutside", "default_range", "render_tile",
           "tile_info"]

MAX_READ_PIXELS = 4096 * 4096
#: zlib level of the PNGs. Level 1 encodes a 256-pixel RGB tile of real aerial imagery 1.3…4
#: times faster than level 6 (rio-tiler's and titiler's default), for PNGs 5…15 % larger;
#: encoding is most of a tile's time, and a user's server is often held to one or two CPUs.
PNG_ZLEVEL = 1
_MAX_ZOOM = 30


def render_tile(source: TileSource, z: int, x: int, y: int, *,
                bands: str | Sequence[int | str] | None = None,
                rescale: str | Sequence[Sequence[float]] | None = None,
                colormap: str | None = None, nodata: str | float | None = None,
                tilesize: int | str | None = 256) -> bytes:
    """Return the PNG of tile ``z/x/y`` (WebMercatorQuad) of ``source``.

    Args:
        source: what to read (:func:`~terralab.tiles.resolve_tile_source`).
        z: the zoom level.
        x: the tile column.
        y: the tile row (from the top, as in XYZ URLs).
        bands: 1 or 3 bands, e.g. ``"nir,red,green"`` (see :mod:`terralab.tiles.params`);
            None for the source's default (the collection's RGB preset).
        rescale: display range(s) in physical units, ``"min,max"`` or ``"a,b;c,d;e,f"``;
            None for the defaults (preset ranges, item statistics, else the 2nd…98th
            percentile of the file).
        colormap: a rio-tiler colormap name for a single band, or class colours as JSON
            (``{"1": "#1f78b4"}``): the stored values are class codes, drawn in their
            colours; values not named are transparent (:mod:`terralab.tiles.params`).
        nodata: a stored value to show transparent instead of the file's nodata.
        tilesize: 256 or 512 pixels.

    Returns:
        PNG bytes: RGBA (three bands, or one band with a colormap) or grey + alpha.

    Raises:
        TileParameterError: for an invalid parameter (a ``ValueError``).
        TileOutside: if the tile does not intersect the image.
        TileAccessError, TileNotFound: if a file may not or cannot be read.
    """
    from rio_tiler.colormap import cmap
    from rio_tiler.models import ImageData

    chosen = source.pick(parse_bands(bands))
    ranges = parse_rescale(rescale, len(chosen))
    colormap_name = parse_colormap(colormap, len(chosen))
    override = _nodata(chosen, nodata)
    size = parse_tilesize(tilesize)
    _check_tile(z, x, y)
    stored = _read(source, chosen, z, x, y, size, override)
    if isinstance(colormap_name, dict):
        return _class_tile(stored, chosen[0], size, colormap_name)
    ranges = ranges or tuple(default_range(source, band, override) for band in chosen)
    valid = np.ones((size, size), dtype=bool)
    channels = []
    for band, limits in zip(chosen, ranges, strict=True):
        array = stored.get((band.path, band.index))
        if array is None:  # this band's file does not reach the tile
            valid[:] = False
            channels.append(np.zeros((size, size), dtype=np.uint8))
            continue
        valid &= ~np.ma.getmaskarray(array)
        values = np.asarray(array.data)
        if values.dtype == np.uint8 and limits == (0, 255) and (band.scale, band.offset,
                                                                band.db) == (1, 0, False):
            channels.append(values)  # already what is shown
            continue
        physical = _physical(band, values)
        valid &= np.isfinite(physical)
        channels.append(_stretch(physical, limits))
    image = np.stack(channels)
    image[:, ~valid] = 0
    alpha = np.where(valid, 255, 0).astype(np.uint8)
    data = ImageData(np.ma.MaskedArray(image, mask=np.broadcast_to(~valid, image.shape)),
                     alpha_mask=alpha)
    return data.render(img_format="PNG", zlevel=PNG_ZLEVEL,
                       colormap=cmap.get(colormap_name) if colormap_name else None)


def _class_tile(stored: dict[tuple[Any, int], np.ma.MaskedArray], band: SourceBand, size: int,
                colours: dict[int, tuple[int, int, int, int]]) -> bytes:
    """The PNG of a class map: each named code in its colour, everything else transparent."""
    from rio_tiler.models import ImageData

    array = stored.get((band.path, band.index))
    if array is None:
        raise TileOutside("tile outside the image")
    codes = np.asarray(array.data)
    valid = ~np.ma.getmaskarray(array)
    if np.issubdtype(codes.dtype, np.floating):
        valid &= np.isfinite(codes)
        codes = np.where(valid, codes, 0)
    rgba = np.zeros((4, size, size), dtype=np.uint8)
    for code, colour in colours.items():
        rgba[:, valid & (codes == code)] = np.asarray(colour, dtype=np.uint8)[:, None]
    image = np.ma.MaskedArray(rgba[:3], mask=np.broadcast_to(rgba[3] == 0, rgba[:3].shape))
    return ImageData(image, alpha_mask=rgba[3]).render(img_format="PNG", zlevel=PNG_ZLEVEL)


def tile_info(source: TileSource, *, bands: str | Sequence[int | str] | None = None,
              nodata: str | float | None = None) -> dict[str, Any]:
    """Return TileJSON-like facts about ``source``: bounds, zooms, bands and defaults.

    Args:
        source: the tile source.
        bands: the bands that will be shown (they decide the zooms and the default ranges).
        nodata: the nodata override that will be used.

    Returns:
        ``{"tilejson", "name", "scheme", "bounds" (lon/lat), "center", "minzoom", "maxzoom",
        "bands": [{"number", "name", "common_name"}], "shown": {"bands", "rescale"}}``; the
        extension adds ``"tiles"``.
    """
    from rio_tiler.constants import WGS84_CRS
    from rio_tiler.io import Reader

    chosen = source.pick(parse_bands(bands))
    override = _nodata(chosen, nodata)
    minzoom, maxzoom, boxes = _MAX_ZOOM, 0, []
    for path, label in dict.fromkeys((b.path, b.label) for b in chosen):
        with open_gtiff(path, source.root, label) as src, Reader(None, dataset=src) as reader:
            minzoom, maxzoom = min(minzoom, reader.minzoom), max(maxzoom, reader.maxzoom)
            boxes.append(reader.get_geographic_bounds(WGS84_CRS))
    west, south = min(b[0] for b in boxes), min(b[1] for b in boxes)
    east, north = max(b[2] for b in boxes), max(b[3] for b in boxes)
    ranges = [default_range(source, band, override) for band in chosen]
    return {
        "tilejson": "3.0.0",
        "name": source.name,
        "scheme": "xyz",
        "bounds": [west, south, east, north],
        "center": [(west + east) / 2, (south + north) / 2, max(minzoom, maxzoom - 2)],
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bands": [{"number": i, "name": b.name, "common_name": b.common_name}
                  for i, b in enumerate(source.bands, start=1)],
        "shown": {"bands": [b.name for b in chosen],
                  "rescale": ";".join(f"{lo:g},{hi:g}" for lo, hi in ranges)},
    }


def default_range(source: TileSource, band: SourceBand,
                  nodata: float | None = None) -> tuple[float, float]:
    """Return the default display range of ``band`` in physical units.

    The band's own (preset or item statistics), else the 2nd…98th percentile of its file
    (computed once per file version), else 0…1.
    """
    if band.display is not None:
        return band.display
    stored = percentile_range(band.path, source.root, band.label, band.index,
                              band.nodata if nodata is None else nodata)
    if stored is None:
        return (0.0, 1.0)
    low, high = (float(v) for v in _physical(band, np.asarray(stored)))
    if not (math.isfinite(low) and math.isfinite(high)) or low == high:
        return (low, low + 1.0) if math.isfinite(low) else (0.0, 1.0)
    return (min(low, high), max(low, high))


def _nodata(chosen: Sequence[SourceBand], nodata: str | float | None) -> float | None:
    """The nodata override, checked against the sample type of every band shown."""
    override = parse_nodata(nodata)
    for band in chosen:
        check_nodata(override, band.dtype, band.label)
    return override


def _check_tile(z: int, x: int, y: int) -> None:
    if not 0 <= z <= _MAX_ZOOM:
        raise TileParameterError(f"zoom must be 0…{_MAX_ZOOM}, not {z}")
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        raise TileOutside(f"tile {z}/{x}/{y} does not exist (x and y must be below {2**z})")


def _physical(band: SourceBand, stored: np.ndarray) -> np.ndarray:
    values = stored.astype(np.float32) * np.float32(band.scale) + np.float32(band.offset)
    if band.db:
        from terralab.products import to_db

        values = to_db(values)
    return values


def _read(source: TileSource, chosen: Sequence[SourceBand], z: int, x: int, y: int,
          size: int, nodata: float | None) -> dict[tuple[Any, int], np.ma.MaskedArray]:
    """Read each needed file once; return the stored values by (file, band index)."""
    from rio_tiler.errors import TileOutsideBounds
    from rio_tiler.io import Reader

    wanted: dict[Any, list[int]] = {}
    for band in chosen:
        indexes = wanted.setdefault(band.path, [])
        if band.index not in indexes:
            indexes.append(band.index)
    read: dict[tuple[Any, int], np.ma.MaskedArray] = {}
    for path, indexes in wanted.items():
        first = next(b for b in chosen if b.path == path)
        with open_gtiff(path, source.root, first.label) as src, \
                Reader(None, dataset=src) as reader:
            if not _intersects(reader, x, y, z):
                continue
            _check_read_size(reader, src, z, x, y, size, first.label)
            value = first.nodata if nodata is None else nodata
            options = {} if value is None else {"nodata": value}
            try:
                image = reader.tile(x, y, z, tilesize=size, indexes=indexes, **options)
            except TileOutsideBounds:
                continue
        for position, index in enumerate(indexes):
            read[(path, index)] = image.array[position]
    if not read:
        raise TileOutside("tile outside the image")
    return read


def _intersects(reader: Any, x: int, y: int, z: int) -> bool:
    """Whether tile z/x/y meets the image, compared in longitude and latitude.

    (rio-tiler's own test projects the tile into the file's CRS, which goes wrong for a
    whole-hemisphere tile and a file in a UTM zone.)
    """
    from morecantile import Tile
    from rio_tiler.constants import WGS84_CRS

    west, south, east, north = reader.get_geographic_bounds(WGS84_CRS)
    if west > east:  # crosses the antimeridian
        return bool(reader.tile_exists(x, y, z))
    tile = reader.tms.bounds(Tile(x, y, z))
    return tile.left < east and tile.right > west and tile.bottom < north and tile.top > south


def _check_read_size(reader: Any, src: Any, z: int, x: int, y: int, size: int,
                     label: str) -> None:
    """Refuse a tile that would read more than MAX_READ_PIXELS of one band (no overviews)."""
    from morecantile import Tile
    from rasterio.warp import transform_bounds

    tms = reader.tms
    left, bottom, right, top = tms.xy_bounds(Tile(x, y, z))
    x0, y0, x1, y1 = transform_bounds(src.crs, tms.rasterio_crs, *src.bounds)
    native = max((x1 - x0) / src.width, (y1 - y0) / src.height)
    decimation = (right - left) / size / native
    factor = max([f for f in src.overviews(1) if f <= decimation] or [1])
    across = (min(right, x1) - max(left, x0)) / (native * factor)
    down = (min(top, y1) - max(bottom, y0)) / (native * factor)
    if across * down > MAX_READ_PIXELS:
        needed = math.ceil(math.log2(math.sqrt(across * down / MAX_READ_PIXELS)))
        raise TileParameterError(f"{label} has no overviews for zoom {z}; zoom in to "
                                 f"{z + needed} or more (or add overviews to the file)")


def _stretch(values: np.ndarray, limits: tuple[float, float]) -> np.ndarray:
    low, high = limits
    scaled = (values - np.float32(low)) * np.float32(255.0 / (high - low))
    return np.clip(np.nan_to_num(scaled, nan=0.0), 0, 255).round().astype(np.uint8)
