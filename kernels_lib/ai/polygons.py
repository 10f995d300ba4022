"""Polygons from a class map or mask: what an extraction tool hands the user besides its raster.

The written mask is read window by window (memory bounded by the window, whatever the
raster's size); each window's shapes are made with ``rasterio.features.shapes`` and the
pieces of one object cut by window edges are merged again. Each polygon gets its class, its
area (m², computed in an equal-area sense: projected CRS units, or geodesic for lon/lat) and,
when a confidence raster is given, its mean confidence. Optional: the polygon optimisation
of the processing tools (smoothing + simplification), for building or field outlines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from rasterio.features import shapes
from rasterio.windows import Window

from terralab.tools.base import ToolOutput

__all__ = ["mask_polygons", "polygons_follow"]

_WINDOW = 4096


def _areas(frame: gpd.GeoDataFrame) -> np.ndarray:
    if frame.crs is None or frame.empty:
        return frame.geometry.area.to_numpy()
    if frame.crs.is_geographic:
        geod = frame.crs.get_geod()
        return np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in frame.geometry])
    factor = frame.crs.axis_info[0].unit_conversion_factor if frame.crs.axis_info else 1.0
    return frame.geometry.area.to_numpy() * factor**2


def mask_polygons(path: str | Path, *, classes: Mapping[int, str], band: int = 1,
                  confidence: tuple[str | Path, int] | None = None, min_area: float = 0.0,
                  optimise: dict[str, Any] | None = None,
                  window: int = _WINDOW) -> gpd.GeoDataFrame:
    """Polygons of the pixels whose value is one of ``classes``.

    Args:
        path: the class map / mask GeoTIFF.
        classes: pixel value → class name (other values, e.g. 0 = background, are skipped).
        band: the band holding the classes.
        confidence: ``(path, band)`` of a 0–1 confidence raster on the same grid.
        min_area: drop polygons smaller than this (m²).
        optimise: ``{"iterations": …, "tolerance": …}`` for
            :func:`terralab.tools.processing.polygon_optimisation.optimise_polygons`.
        window: the reading window (pixels).

    Returns:
        A GeoDataFrame with ``class``, ``value``, ``area_m2`` (and ``confidence``).
    """
    pieces: list[tuple[Any, int]] = []
    with rasterio.open(path) as src:
        crs, transform = src.crs, src.transform
        for row in range(0, src.height, window):
            for col in range(0, src.width, window):
                win = Window(col, row, min(window, src.width - col),
                             min(window, src.height - row))
                values = src.read(band, window=win)
                wanted = np.isin(values, list(classes))
                if not wanted.any():
                    continue
                win_transform = src.window_transform(win)
                for geometry, value in shapes(values.astype("int32"), mask=wanted,
                                              transform=win_transform):
                    pieces.append((shapely.geometry.shape(geometry), int(value)))
    frame = gpd.GeoDataFrame({"value": [v for _, v in pieces]},
                             geometry=[g for g, _ in pieces], crs=crs)
    if not frame.empty:
        # pieces of one object cut by window edges touch: merge them per class
        frame = frame.dissolve(by="value", as_index=False).explode(index_parts=False)
        frame = frame.reset_index(drop=True)
    frame["class"] = [classes[int(v)] for v in frame["value"]]
    frame["area_m2"] = _areas(frame)
    if min_area > 0:
        frame = frame[frame["area_m2"] >= min_area].reset_index(drop=True)
    if optimise and not frame.empty:
        from terralab.tools.processing.polygon_optimisation import optimise_polygons

        geoms, _notes = optimise_polygons(frame.geometry.to_numpy(), **optimise)
        frame = frame.set_geometry(list(geoms), crs=frame.crs)
        frame["area_m2"] = _areas(frame)
    if confidence is not None and not frame.empty:
        frame["confidence"] = _zonal_mean(frame, *confidence, transform=transform)
    columns = ["class", "value", "area_m2", *(["confidence"] if confidence else []), "geometry"]
    return gpd.GeoDataFrame(frame.reindex(columns=columns), geometry="geometry", crs=crs)


def _zonal_mean(frame: gpd.GeoDataFrame, path: str | Path, band: int, *,
                transform: Any) -> list[float]:
    """The mean of a raster inside each polygon (read in each polygon's window only)."""
    from rasterio.features import geometry_mask
    from rasterio.windows import from_bounds

    means = []
    with rasterio.open(path) as src:
        for geometry in frame.geometry:
            win = from_bounds(*geometry.bounds, transform=src.transform).round_offsets(
            ).round_lengths()
            win = win.intersection(Window(0, 0, src.width, src.height))
            values = src.read(band, window=win, masked=True).astype("float64")
            inside = ~geometry_mask([geometry], out_shape=values.shape,
                                    transform=src.window_transform(win), all_touched=False)
            picked = values[inside & ~np.ma.getmaskarray(values)]
            means.append(float(picked.mean()) if picked.size else float("nan"))
    return means


def polygons_follow(*, classes: Mapping[int, str], name: str = "polygons",
                    min_area: float = 0.0, optimise: dict[str, Any] | None = None,
                    confidence_band: int | None = None
                    ) -> Callable[[Path], list[ToolOutput]]:
    """A :attr:`ToolOutput.follow` that turns the written mask into a polygon result.

    Args:
        classes: pixel value → class name.
        name: the polygon layer's name.
        min_area: the minimum mapping unit (m²).
        optimise: polygon optimisation settings, or None.
        confidence_band: the band of the written raster holding a 0–1 confidence.
    """
    def follow(path: Path) -> list[ToolOutput]:
        confidence = (path, confidence_band) if confidence_band else None
        frame = mask_polygons(path, classes=classes, min_area=min_area, optimise=optimise,
                              confidence=confidence)
        if frame.empty:  # nothing found: the raster says so, no empty layer
            return []
        extra = {"polygons": len(frame), "area_m2": float(frame["area_m2"].sum())}
        return [ToolOutput(vector=frame, name=name, extra=extra)]

    return follow
