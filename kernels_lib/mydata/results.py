"""Results: what a tool run writes becomes an item of the user's data (PRODUCT.md §2, §5).

A tool (or the worker running it) hands its output file to :func:`publish_result`; it goes
through the same publishing as an upload — a raster becomes a COG with overviews, statistics
and a thumbnail, a vector a GeoPackage with a preview — into ``users/<name>/results/<id>/``,
gets a private ``my-data`` STAC item with ``terralab:kind = "result"`` and the tool's name,
and counts in the user's storage quota. The upload rules on size, bands and sample type do
not apply (a tool may write one float32 band of any size); the file must be georeferenced.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from terralab.mydata.limits import UploadLimits
from terralab.mydata.quota import StoragePolicy
from terralab.mydata.store import MyDataRecord
from terralab.mydata.uploads import abort_upload, finish_upload, start_upload

__all__ = ["RESULT_LIMITS", "publish_result"]

RESULT_LIMITS = UploadLimits(
    max_bytes=2**62, min_side=1, max_side=2**31 - 1, band_counts=tuple(range(1, 257)),
    dtypes=("uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"),
    crs="any", zip_max_unpacked=2**62)
"""What a result may be: any size, band count and sample type, any georeferenced CRS."""


def publish_result(owner: str, path: str | Path, *, tool: str, title: str | None = None,
                   bands: list[str] | None = None, policy: StoragePolicy | None = None,
                   groups: Iterable[str] = (), home: Path | None = None,
                   move: bool = False) -> MyDataRecord:
    """Publish a tool's output file as a result in ``owner``'s data.

    Args:
        owner: the user who ran the tool.
        path: the output (GeoTIFF, GeoPackage, GeoJSON or zipped shapefile).
        tool: the tool's registered name (shown as the item's source).
        title: the name to show (default: the file name).
        bands: the raster's band names (default: from the file).
        policy: the storage quota policy (default from the environment).
        groups: the user's groups.
        home: the terralab data folder.
        move: move ``path`` into the staging folder instead of copying it (a tool's own
            scratch output on the same disk: no second copy of a large file).

    Raises:
        UploadError: ``rule="quota"`` when the result does not fit the user's storage, or a
            rule a result must still meet (a georeferenced, readable file).
    """
    path = Path(path)
    pending = start_upload(owner, path.name, path.stat().st_size, limits=RESULT_LIMITS,
                           policy=policy, groups=groups, home=home, kind="result")
    try:
        if move:
            shutil.move(path, pending.source)
        else:
            shutil.copyfile(path, pending.source)
    except BaseException:
        abort_upload(pending)
        raise
    return finish_upload(pending, title=title, bands=bands, limits=RESULT_LIMITS,
                         source_name=tool)
