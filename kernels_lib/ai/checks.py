"""Input checks shared by the AI tools: bands, resolution, and the grid of two dates.

Each check raises :class:`terralab.tools.inputs.InputError` with what to do, or returns a
warning for the user (a resolution outside the tool's suggested range still runs).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from rasterio.crs import CRS

from terralab.tools.grid import Grid, on_grid, open_source
from terralab.tools.inputs import InputError

__all__ = ["check_band_count", "pixel_size_m", "resolution_warning", "two_dates"]


def check_band_count(data: xr.DataArray, allowed: tuple[int, ...], *, tool: str,
                     label: str, what: str) -> None:
    """Refuse an input whose band count is not one of ``allowed``.

    Args:
        data: the input.
        allowed: the band counts the tool takes.
        tool: the tool's name (for the message).
        label: the input's name (for the message).
        what: what the bands should be, e.g. ``"VV and VH"``.
    """
    count = int(data.sizes.get("band", 1))
    if count not in allowed:
        wanted = " or ".join(str(n) for n in allowed)
        raise InputError(f"{tool} takes {wanted} bands ({what}); {label} has {count}")


def pixel_size_m(data: xr.DataArray) -> float:
    """The pixel size in metres (degrees converted at the raster's centre latitude)."""
    grid = Grid.of(data)
    size = float(np.mean(grid.res))
    crs = CRS.from_user_input(grid.crs)
    if crs.is_geographic:
        lat = np.deg2rad((grid.bounds[1] + grid.bounds[3]) / 2)
        return size * 111_320.0 * float(np.sqrt(np.cos(lat)))  # mean of x and y scales
    factor = crs.linear_units_factor[1] if crs.linear_units_factor else 1.0
    return size * factor


def resolution_warning(data: xr.DataArray, suggested: tuple[float, float] | None, *,
                       tool: str) -> str | None:
    """A warning when the pixel size is outside the tool's suggested range (metres)."""
    if suggested is None:
        return None
    size = pixel_size_m(data)
    low, high = suggested
    if low <= size <= high:
        return None
    return (f"{tool} is meant for {low:g}–{high:g} m pixels; this image has about "
            f"{size:.3g} m: results may be poor")


def two_dates(before: Any, after: Any, context: Any, *, align: str = "refuse",
              resampling: str = "bilinear") -> tuple[xr.DataArray, xr.DataArray, dict[str, Any]]:
    """Open a before / after pair on one grid (the before image's).

    Args:
        before: the earlier image (path, item id, DataArray).
        after: the later image.
        context: the tool's :class:`~terralab.tools.base.RunContext`.
        align: ``"refuse"`` a pair on different grids (the message says how they differ), or
            ``"reproject"`` the later image onto the earlier one's grid.
        resampling: the resampling of ``align="reproject"``.

    Returns:
        ``(before, after, notes)``: lazy rasters on one grid, and what was done.

    Raises:
        InputError: different grids with ``align="refuse"``, or different band counts.
    """
    first = open_source(before, context, position=1)
    second = open_source(after, context, position=2)
    notes: dict[str, Any] = {}
    differences = first.grid.differences(second.grid)
    if differences and align != "reproject":
        raise InputError(
            f"the two dates are not on one grid: {second.label} has "
            f"{'; '.join(differences)}. Co-register them, or pass align=\"reproject\" to "
            f"warp {second.label} onto the grid of {first.label}.")
    if first.count != second.count:
        raise InputError(f"the two dates have different bands: {first.label} has "
                         f"{first.count}, {second.label} has {second.count}")
    layer_a = on_grid(first, first.grid, resampling=resampling)
    layer_b = on_grid(second, first.grid, resampling=resampling)
    if differences:
        notes["aligned"] = f"{second.label} was reprojected onto the grid of {first.label}"
    a = xr.where(layer_a.valid, layer_a.data.astype("float32"), np.float32(np.nan))
    b = xr.where(layer_b.valid, layer_b.data.astype("float32"), np.float32(np.nan))
    grid = first.grid
    a = a.rio.write_crs(grid.crs).rio.write_transform(grid.transform)
    b = b.rio.write_crs(grid.crs).rio.write_transform(grid.transform)
    return a, b, notes
