"""A chunk size that suits a halo: no chunk thinner than the halo.

:func:`terralab.ai.engine.tiled` reads a halo of ``depth`` pixels from the neighbouring
chunks; dask refuses (or rechunks behind the engine's back) when the last chunk along an axis
is thinner than the halo. :func:`chunk_for` picks the smallest size at or above the one asked
for whose last chunk is either full or at least ``depth`` pixels, on both axes.
"""

from __future__ import annotations

__all__ = ["chunk_for"]


def chunk_for(height: int, width: int, chunk: int, depth: int) -> int:
    """The chunk size to use for a ``height × width`` raster and a halo of ``depth``.

    Args:
        height: the raster's rows.
        width: the raster's columns.
        chunk: the size asked for.
        depth: the halo.
    """
    if depth <= 0:
        return chunk

    def fits(size: int, candidate: int) -> bool:
        rest = size % candidate
        return candidate >= size or rest == 0 or rest >= depth

    for candidate in range(max(chunk, depth), 2 * max(chunk, depth) + 1):
        if fits(height, candidate) and fits(width, candidate):
            return candidate
    return max(height, width)
