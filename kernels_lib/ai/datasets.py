"""Labelled data for measuring the AI tools: LEVIR-CD pairs, synthetic haze on clear images.

- :func:`levir_pairs`: the pairs of a LEVIR-CD folder (Chen & Shi 2020; ``A/``, ``B/``,
  ``label/`` PNGs). The PNGs are not georeferenced, so each is put on a made-up local grid
  (:func:`local_grid`: EPSG:32650, 0.5 m pixels, origin 500000 E 4000000 N) before a tool
  sees it.
- :func:`add_haze`: haze added to a clear image with the scattering model the dehazing tool
  inverts, ``I = J·t + A·(1 − t)``: the transmission ``t`` runs from :data:`T_RANGE` ``[0]``
  on the left edge to ``[1]`` on the right (uneven haze), the airlight is :data:`AIRLIGHT`
  (a bright, slightly blue grey), the result is rounded to 8 bits and nodata pixels are
  kept. A 4th (NIR) band gets the thinner haze the tool assumes there
  (:data:`terralab.ai.tools.dehazing.NIR_EXPONENT`) and airlight :data:`AIRLIGHT_NIR`.
  Because the haze follows the tool's own model exactly, scores on it are an upper bound
  for real haze.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from terralab.ai.tools.dehazing import NIR_EXPONENT

__all__ = ["AIRLIGHT", "AIRLIGHT_NIR", "T_RANGE", "add_haze", "levir_pairs", "local_grid"]

T_RANGE = (0.45, 0.85)
AIRLIGHT = (225.0, 228.0, 232.0)
AIRLIGHT_NIR = 200.0


def local_grid(pixels: np.ndarray, *, name: str, resolution: float = 0.5,
               crs: str = "EPSG:32650", origin: tuple[float, float] = (500_000.0, 4_000_000.0)
               ) -> xr.DataArray:
    """A ``(band, y, x)`` DataArray of ``pixels`` on a made-up north-up grid."""
    import rioxarray  # noqa: F401 (the .rio accessor)
    from rasterio.transform import from_origin

    bands, height, width = pixels.shape
    x0, y0 = origin
    data = xr.DataArray(pixels, dims=("band", "y", "x"), name=name,
                        coords={"band": np.arange(1, bands + 1),
                                "y": y0 - resolution * (np.arange(height) + 0.5),
                                "x": x0 + resolution * (np.arange(width) + 0.5)})
    return data.rio.write_crs(crs).rio.write_transform(
        from_origin(x0, y0, resolution, resolution))


def levir_pairs(folder: Path) -> list[tuple[str, xr.DataArray, xr.DataArray, np.ndarray]]:
    """Every LEVIR-CD pair in ``folder`` (``A/``, ``B/``, ``label/``) as georeferenced arrays.

    Returns:
        ``(name, before, after, changed)`` with ``changed`` a boolean label array.
    """
    from PIL import Image

    pairs = []
    for label in sorted((folder / "label").glob("*.png")):
        images = []
        for side in ("A", "B"):
            with Image.open(folder / side / label.name) as image:
                images.append(np.asarray(image.convert("RGB")).transpose(2, 0, 1).copy())
        with Image.open(label) as image:
            changed = np.asarray(image.convert("L")) > 127
        pairs.append((label.stem, local_grid(images[0], name=f"{label.stem}-A"),
                      local_grid(images[1], name=f"{label.stem}-B"), changed))
    return pairs


def add_haze(clear: np.ndarray, nodata: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Hazy 8-bit version of ``clear`` (``(bands, h, w)``) and its valid pixels."""
    bands, height, width = clear.shape
    t = np.linspace(T_RANGE[0], T_RANGE[1], width)[None, None, :]
    light = np.array((*AIRLIGHT, AIRLIGHT_NIR)[:bands])[:, None, None]
    valid = np.ones((height, width), bool) if nodata is None else ~(clear == nodata).all(0)
    t = np.repeat(t, bands, axis=0)
    if bands == 4:
        t[3] = t[3] ** NIR_EXPONENT
    hazy = np.clip(np.rint(clear * t + light * (1 - t)), 0, 255)
    if nodata is not None:
        nudge = nodata + 1 if nodata < 255 else nodata - 1
        hazy[:, valid] = np.where(hazy[:, valid] == nodata, nudge, hazy[:, valid])
        hazy[:, ~valid] = nodata
    return hazy.astype("uint8"), valid
