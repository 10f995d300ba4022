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

from terralab.home import terralab_home, user_dir
from terralab.mydata.limits import UploadLimits
from terralab.mydata.store import MyDataRecord
from terralab.mydata.store import delete_record as store_delete
from terralab.mydata.uploads import abort_upload, finish_upload, start_upload
from terralab.quotas.policy import StoragePolicy

__all__ = ["RESULT_LIMITS", "discard_result", "publish_result"]

RESULT_LIMITS = UploadLimits(
    max_bytes=2**62, min_side=1, max_side=2**31 - 1, band_counts=tuple(range(1, 257)),
    dtypes=("uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"),
    crs="any", zip_max_unpacked=2**62)
"""What a result may be: any size, band count and sample type, any georeferenced CRS."""


def publish_result(owner: str, path: str | Path, *, tool: str, title: str | None = None,
                   bands: list[str] | None = None, policy: StoragePolicy | None = None,
                   groups: Iterable[str] = (), home: Path | None = None,
                   move: bool = False, item_id: str | None = None) -> MyDataRecord:
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
        item_id: the result's id (a queued job names it after itself; see
            :func:`discard_result`); default a new one.

    Raises:
        UploadError: ``rule="quota"`` when the result does not fit the user's storage, or a
            rule a result must still meet (a georeferenced, readable file).
    """
    path = Path(path)
    pending = start_upload(owner, path.name, path.stat().st_size, limits=RESULT_LIMITS,
                           policy=policy, groups=groups, home=home, kind="result",
                           item_id=item_id)
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


def discard_result(owner: str, item_id: str, *, home: Path | None = None) -> bool:
    """Remove every trace of result ``item_id``: a published item, a reservation, staging.

    A queued job calls it before each attempt, so a job retried after its worker died
    leaves exactly one result, whatever the earlier attempt had written.

    Returns:
        True when something was removed.
    """
    from terralab.catalog.index import CatalogIndex, default_index_path
    from terralab.mydata.items import COLLECTION

    home = home or terralab_home()
    root = user_dir(owner, home=home)
    folder = (root / "results" / item_id).resolve()
    if not folder.is_relative_to(root / "results") or folder == root / "results":
        raise ValueError(f"not a result id: {item_id!r}")
    found = folder.exists()
    with CatalogIndex(default_index_path(home)) as index:
        index.remove(item_id, collection=COLLECTION, owner=owner)
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(home / "staging" / f"{owner}-{item_id}", ignore_errors=True)
    return store_delete(owner, item_id, home=home) > 0 or found
