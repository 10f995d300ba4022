"""The inference engine: tiled, lazy processing of rasters of any size (PRODUCT.md §4).

Two layers, both lazy (dask) and bounded in memory by the chunk, never by the image:

- :func:`tiled` applies a function to every chunk of a ``(band, y, x)`` DataArray with a halo
  of ``depth`` pixels around it, cut off again afterwards (the image's own edges are
  mirrored, as ``scipy.ndimage``'s "reflect" does). A function whose output at a pixel
  depends only on pixels within ``depth`` (a speckle filter, a guided filter, a network's
  receptive field) therefore gives exactly what it gives on the whole image, with no seams.
  Each output chunk reads its own window and halo from the source, so no input chunk waits
  in memory for its neighbours: peak memory follows the chunk size and the number of
  threads, not the image (measured in ``tests/kernels_lib/test_ai_engine.py``). Writing the
  result (``terralab.tools.outputs``) streams it chunk by chunk into a GeoTIFF.
- :func:`sliding_window` runs a model over one chunk in fixed-size windows that overlap by
  ``overlap`` pixels, batched on the device, and blends the overlapping predictions with a
  smooth weight (high in a window's centre, low at its edges), the standard cure for the
  seams of window-by-window inference. :func:`predict` combines both: chunks with a halo of
  ``overlap`` pixels, windows inside them, so the windows of neighbouring chunks overlap too.

Models run on CUDA when the worker has a GPU (mixed precision there), else on the CPU.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

__all__ = ["DEFAULT_CHUNK", "blend_weights", "predict", "sliding_window", "tiled"]

DEFAULT_CHUNK = 1024


def _as_bands(data: xr.DataArray) -> xr.DataArray:
    if "band" not in data.dims:
        data = data.expand_dims(band=[1])
    return data.transpose("band", "y", "x")


def tiled(data: xr.DataArray, function: Callable[[np.ndarray], np.ndarray], *, depth: int = 0,
          bands: int | None = None, dtype: Any = None, chunk: int = DEFAULT_CHUNK,
          band_coords: list[Any] | None = None) -> xr.DataArray:
    """Apply ``function`` chunk by chunk, each chunk with a halo of ``depth`` pixels.

    Args:
        data: a ``(band, y, x)`` (or ``(y, x)``) raster, lazy or in memory, with a CRS.
        function: ``(bands_in, h, w)`` array → ``(bands_out, h, w)`` array (same ``h, w``).
        depth: the halo: how far (pixels) the output at a pixel looks at its neighbours.
        bands: how many bands ``function`` returns (default: as many as it gets).
        dtype: the output type (default: the input's).
        chunk: the chunk size in pixels (the memory bound: about ``chunk² × bands × 8``
            bytes per chunk in flight, per thread).
        band_coords: the output's band labels (default 1…bands).

    Returns:
        A lazy DataArray on the input's grid (coordinates, CRS and transform kept).
    """
    data = _as_bands(data)
    bands = bands or data.sizes["band"]
    dtype = np.dtype(dtype or data.dtype)
    source = data.data if isinstance(data.data, da.Array) else da.from_array(
        data.data, chunks=(-1, chunk, chunk))
    _, height, width = source.shape

    def run(block: np.ndarray) -> np.ndarray:
        out = np.asarray(function(block))
        if out.ndim == 2:
            out = out[None]
        if out.shape[1:] != block.shape[1:] or out.shape[0] != bands:
            raise ValueError(f"the function returned {out.shape} for a block {block.shape}; "
                             f"expected ({bands}, {block.shape[1]}, {block.shape[2]})")
        return out.astype(dtype, copy=False)

    def one_block(_: np.ndarray, block_info: dict | None = None) -> np.ndarray:
        # Each output block reads its own window plus the halo from the source (a small
        # graph of its own), so no input chunk is kept for later neighbours: memory follows
        # the chunk, whatever the image's size.
        (_b0, _b1), (y0, y1), (x0, x1) = block_info[None]["array-location"]
        ya, yb = max(0, y0 - depth), min(height, y1 + depth)
        xa, xb = max(0, x0 - depth), min(width, x1 + depth)
        window = np.asarray(source[:, ya:yb, xa:xb].compute(scheduler="synchronous"))
        pad = ((0, 0), (depth - (y0 - ya), depth - (yb - y1)),
               (depth - (x0 - xa), depth - (xb - x1)))
        if any(p for pair in pad for p in pair):
            window = np.pad(window, pad, mode="symmetric")  # mirror with the edge pixel
        out = run(window)
        return out[:, depth:out.shape[1] - depth, depth:out.shape[2] - depth]

    rows, cols = _chunks(height, chunk), _chunks(width, chunk)
    layout = da.empty((1, height, width), chunks=((1,), rows, cols), dtype=bool)
    result = layout.map_blocks(one_block, dtype=dtype, chunks=((bands,), rows, cols),
                               meta=np.empty((0, 0, 0), dtype=dtype))
    coords = {"band": band_coords or list(range(1, bands + 1)), "y": data.y, "x": data.x}
    out = xr.DataArray(result, dims=("band", "y", "x"), coords=coords)
    for name, value in data.coords.items():
        if name not in out.coords and not set(data[name].dims) - {"y", "x"}:
            out.coords[name] = value  # spatial_ref and friends
    if data.rio.crs is not None:
        out = out.rio.write_crs(data.rio.crs).rio.write_transform(data.rio.transform())
    return out


def _chunks(size: int, chunk: int) -> tuple[int, ...]:
    full, rest = divmod(size, chunk)
    return (chunk,) * full + ((rest,) if rest else ())


def blend_weights(window: int, overlap: int) -> np.ndarray:
    """The blending weight of a ``window``² prediction.

    1 inside, a cosine ramp over the ``overlap`` pixels at each edge (never 0, so the image's
    own borders keep their predictions).
    """
    ramp = np.ones(window, dtype="float32")
    if overlap > 0:
        edge = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, overlap + 2, dtype="float32")[1:-1])
        ramp[:overlap] = edge
        ramp[-overlap:] = edge[::-1]
    return np.outer(ramp, ramp)


def _starts(size: int, window: int, stride: int) -> list[int]:
    if size <= window:
        return [0]
    starts = list(range(0, size - window, stride))
    return [*starts, size - window]


def sliding_window(block: np.ndarray, model: Callable[[np.ndarray], np.ndarray], *,
                   window: int, overlap: int, outputs: int, batch_size: int = 8,
                   progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Predict ``block`` (``(c, h, w)``) in overlapping windows, blended.

    Args:
        block: the input pixels, already normalised for the model.
        model: ``(n, c, window, window)`` float32 batch → ``(n, outputs, window, window)``
            (scores or probabilities: they are averaged where windows overlap).
        window: the window size the model takes (smaller blocks are padded by reflection).
        overlap: pixels shared by neighbouring windows.
        outputs: channels the model returns.
        batch_size: windows per call of ``model``.
        progress: called with the number of windows done after each batch.

    Returns:
        ``(outputs, h, w)`` float32: the blended predictions.
    """
    height, width = block.shape[1:]
    pad_h, pad_w = max(0, window - height), max(0, window - width)
    if pad_h or pad_w:
        mode = "reflect" if min(height, width) > 1 else "edge"
        block = np.pad(block, ((0, 0), (0, pad_h), (0, pad_w)), mode=mode)
    size_h, size_w = block.shape[1:]
    stride = max(1, window - overlap)
    weight = blend_weights(window, overlap)
    total = np.zeros((outputs, size_h, size_w), dtype="float32")
    norm = np.zeros((size_h, size_w), dtype="float32")
    corners = [(y, x) for y in _starts(size_h, window, stride)
               for x in _starts(size_w, window, stride)]
    done = 0
    for first in range(0, len(corners), batch_size):
        batch_corners = corners[first:first + batch_size]
        batch = np.stack([block[:, y:y + window, x:x + window] for y, x in batch_corners])
        predicted = np.asarray(model(batch.astype("float32", copy=False)), dtype="float32")
        for (y, x), scores in zip(batch_corners, predicted, strict=True):
            total[:, y:y + window, x:x + window] += scores * weight
            norm[y:y + window, x:x + window] += weight
        done += len(batch_corners)
        if progress is not None:
            progress(done)
    return (total / norm)[:, :height, :width]


def predict(data: xr.DataArray, model: Callable[[np.ndarray], np.ndarray], *, outputs: int,
            window: int = 256, overlap: int = 32, batch_size: int = 8,
            chunk: int = DEFAULT_CHUNK,
            prepare: Callable[[np.ndarray], np.ndarray] | None = None,
            finish: Callable[[np.ndarray], np.ndarray] | None = None,
            dtype: Any = "float32", bands: int | None = None) -> xr.DataArray:
    """Run ``model`` over a raster of any size: chunks with a halo, blended windows inside.

    Args:
        data: the input raster (lazy).
        model: see :func:`sliding_window`.
        outputs: channels the model returns.
        window: the model's window size.
        overlap: pixels shared by neighbouring windows (also the chunks' halo).
        batch_size: windows per batch on the device.
        chunk: the chunk size (memory bound).
        prepare: turns a chunk's pixels into the model's input (normalisation, NaN fill).
        finish: turns the blended scores into the output (argmax, threshold …).
        dtype: the output type.
        bands: the output's band count after ``finish`` (default ``outputs``).

    Returns:
        A lazy DataArray on the input's grid.
    """
    def run(block: np.ndarray) -> np.ndarray:
        values = prepare(block) if prepare is not None else block.astype("float32")
        scores = sliding_window(values, model, window=window, overlap=overlap,
                                outputs=outputs, batch_size=batch_size)
        return finish(scores) if finish is not None else scores

    return tiled(data, run, depth=overlap, bands=bands or outputs, dtype=dtype, chunk=chunk)
