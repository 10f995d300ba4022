"""The one allow-list of raster formats that terralab opens on a user's behalf, and how.

The workers and the hub service read rasters that users name (tool inputs, map tiles,
thumbnails, downloads). GDAL can open hundreds of formats, and many of them read *other*
files: a VRT (an XML file) names any file on the machine, even as raw bytes
(``VRTRawRasterBand`` over ``/etc/shadow``); an Erdas Imagine ``.img`` keeps its pixels in
an external ``.ige`` spill file and its overviews in an ``.rrd`` whose names its header
gives; a GeoTIFF's ``GDAL_METADATA`` tag may name an overview file anywhere
(``OVERVIEW_FILE`` in the ``OVERVIEWS`` domain, read by every decimated read), and GDAL looks
for ``.ovr``, ``.msk`` and ``.aux.xml`` files next to it. So every such open goes through
:func:`open_checked`:

- only the drivers of :data:`ALLOWED_DRIVERS` are tried (GeoTIFF, which covers Cloud-Optimized
  GeoTIFFs, and Erdas Imagine, the formats the upload rules accept), one at a time;
- GDAL is told the file's folder is empty and keeps no ``.aux.xml`` files
  (:data:`SAFE_GDAL_OPTIONS`), so no sidecar a user puts next to the file is read;
- the open dataset is checked (:func:`check_dataset`): a file that names another file (an
  ``OVERVIEWS`` metadata domain, a spill or dependent file, anything GDAL lists among the
  dataset's files besides the file itself) or holds subdatasets is refused before a pixel is
  read.

Refusals are :class:`RasterRefusedError` (a ``ValueError``) with a message for the user; callers
turn it into their own error (a tool's ``InputError``, a tile's 403). A user's own kernel is
not a security boundary, but the same rules apply there, so a tool behaves alike in both.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import rasterio
from rasterio.errors import RasterioError, RasterioIOError

from terralab.raster_budget import apply_raster_budget

__all__ = ["ALLOWED_DRIVERS", "FORMAT_NAMES", "SAFE_GDAL_OPTIONS", "RasterRefusedError",
           "check_dataset", "open_checked", "open_dataset"]

ALLOWED_DRIVERS: tuple[str, ...] = ("GTiff", "HFA")
"""The GDAL drivers terralab opens users' rasters with (GeoTIFF/COG, Erdas Imagine)."""

FORMAT_NAMES = {"GTiff": "a GeoTIFF", "HFA": "an Erdas Imagine (.img) file"}
"""How messages name each allowed format."""

SAFE_GDAL_OPTIONS = {"GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR", "GDAL_PAM_ENABLED": "NO"}
"""GDAL settings for every such open: no sidecar files looked for, no ``.aux.xml`` read or
written."""


class RasterRefusedError(RasterioError, ValueError):
    """A raster terralab will not open for a user; the message says why.

    A ``ValueError`` (a bad input) and a ``RasterioError``, so code that already turns
    GDAL's refusals into its own errors treats it alike.
    """


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def check_dataset(dataset: Any, label: str) -> Any:
    """Refuse an open dataset that is not of an allowed format or reads another file.

    Overviews and the mask are looked up first (that is when GDAL finds the files they
    name), then GDAL's list of the dataset's files must hold the file alone.

    Args:
        dataset: an open rasterio dataset.
        label: how messages name the file.

    Returns:
        ``dataset``, checked.

    Raises:
        RasterRefusedError: for another driver, subdatasets, an ``OVERVIEWS`` metadata
            domain, or any file besides the dataset's own.
    """
    if dataset.driver not in ALLOWED_DRIVERS:
        raise RasterRefusedError(f"{label} is no GeoTIFF or Erdas Imagine file "
                                 f"(it is read by GDAL's {dataset.driver} driver)")
    if dataset.subdatasets:
        raise RasterRefusedError(f"{label} holds subdatasets; terralab reads single rasters "
                                 "only")
    if dataset.tags(ns="OVERVIEWS"):
        raise RasterRefusedError(f"{label} names an external overview file in its metadata "
                                 "(OVERVIEW_FILE); terralab reads self-contained files only")
    if dataset.count:
        dataset.overviews(1)
        dataset.mask_flag_enums  # noqa: B018 (looks the mask up, with any file it names)
    others = [f for f in dataset.files if not _same_file(f, dataset.name)]
    if others:
        names = ", ".join(Path(f).name for f in others[:3])
        raise RasterRefusedError(f"{label} refers to other files ({names}: a spill, "
                                 "overview, mask or side file); terralab reads "
                                 "self-contained files only (save it as one GeoTIFF)")
    return dataset


def open_dataset(path: str | Path, label: str) -> Any:
    """Open ``path`` with the first allowed driver that reads it, unchecked.

    Call it inside ``rasterio.Env(**SAFE_GDAL_OPTIONS)`` and check the dataset
    (:func:`open_checked` does both).

    Raises:
        RasterRefusedError: if no allowed driver reads it.
    """
    for driver in ALLOWED_DRIVERS:
        try:
            return rasterio.open(path, driver=driver, sharing=False)
        except RasterioIOError:
            continue
    raise RasterRefusedError(f"{label} is not a GeoTIFF or Erdas Imagine (.img) file; "
                             "terralab reads those formats only (a VRT or another format "
                             "that can name other files is refused, whatever its name)")


@contextmanager
def open_checked(path: str | Path, label: str) -> Iterator[Any]:
    """Open a user's raster with the allow-list, no sidecars, and :func:`check_dataset`.

    Args:
        path: the file (or a ``/proc/self/fd/N`` path naming an open descriptor).
        label: how messages name the file (never another user's path).

    Yields:
        The open rasterio dataset, inside ``rasterio.Env(**SAFE_GDAL_OPTIONS)``.

    Raises:
        RasterRefusedError: as :func:`open_dataset` and :func:`check_dataset`.
    """
    apply_raster_budget()
    with rasterio.Env(**SAFE_GDAL_OPTIONS):
        dataset = open_dataset(path, label)
        with dataset:
            check_dataset(dataset, label)
            yield dataset
