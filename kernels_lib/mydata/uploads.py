"""Uploads: a user's file in, checked, published and listed in my data — or nothing at all.

An upload goes through three steps, the same for the hub service (which streams the HTTP
body to disk) and for the in-process platform (``tl.upload`` without a hub):

1. :func:`start_upload` checks the file type and declared size, **reserves** the size in the
   user's storage quota and opens a private staging folder under ``<home>/staging/`` (not in
   the user's own folder, so a user cannot swap files under the converter).
2. The caller writes the file into :attr:`PendingUpload.source`; :func:`check_upload` runs
   the quick checks (header, size, type, CRS, dimensions, layers) without reading pixels —
   the hub service answers a refusal at once, then queues the publishing for the workers
   (:mod:`terralab.mydata.upload_jobs`).
3. :func:`finish_upload` publishes it (a raster becomes a COG with overviews, statistics and
   a thumbnail; a vector a GeoPackage with a preview), moves the result to
   ``users/<name>/uploads/<id>/``, adds the private STAC item to the catalog index and charges
   the bytes on disk. Any failure on the way removes everything and releases the reservation
   (:func:`abort_upload`): a failed upload leaves nothing behind and charges no quota.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any

from terralab.home import terralab_home, user_dir
from terralab.mydata import store
from terralab.mydata.errors import UploadError
from terralab.mydata.items import build_item
from terralab.mydata.limits import UploadLimits
from terralab.quotas.policy import StoragePolicy
from terralab.sizes import format_size

__all__ = ["RASTER_SUFFIXES", "VECTOR_SUFFIXES", "PendingUpload", "abort_upload",
           "check_upload", "data_type_of", "finish_upload", "start_upload", "upload_file"]

RASTER_SUFFIXES = (".tif", ".tiff", ".img")
VECTOR_SUFFIXES = (".zip", ".geojson", ".json", ".gpkg")
_NAME_MAX = 255


def data_type_of(name: str) -> str:
    """Return ``"raster"`` or ``"vector"`` for an upload's file name.

    Raises:
        UploadError: ``rule="type"`` for any other kind of file.
    """
    suffix = PurePath(name).suffix.lower()
    if suffix in RASTER_SUFFIXES:
        return "raster"
    if suffix in VECTOR_SUFFIXES:
        return "vector"
    raise UploadError(
        f"{name}: terralab does not take {suffix or 'files without an extension'!r} uploads; "
        "upload rasters as GeoTIFF (.tif) or Erdas Imagine (.img), vectors as a zipped "
        "shapefile (.zip), GeoJSON (.geojson) or GeoPackage (.gpkg)", rule="type")


def _clean_name(name: str) -> str:
    """The file name part of what the user sent, checked to be a plain name."""
    base = PurePath(str(name).replace("\\", "/")).name
    if not base or base in {".", ".."} or "\x00" in base or len(base) > _NAME_MAX:
        raise UploadError(f"not a usable file name: {name!r}", rule="type")
    return base


def new_item_id(name: str) -> str:
    """An id for a new item: a readable ASCII slug of ``name`` and a random suffix."""
    stem = unicodedata.normalize("NFKD", PurePath(name).stem)
    slug = re.sub(r"[^a-z0-9]+", "-", stem.encode("ascii", "ignore").decode().lower()).strip("-")
    return f"{slug[:40] or 'upload'}-{uuid.uuid4().hex[:10]}"


@dataclass
class PendingUpload:
    """An upload being received: its reservation and its private staging folder.

    Attributes:
        owner: the user.
        item_id: the id the item will have.
        name: the uploaded file's name.
        data_type: ``"raster"`` or ``"vector"``.
        declared: the size reserved in the quota.
        staging: the private folder (removed when done).
        home: the terralab data folder.
        policy: the storage policy used for the reservation.
        groups: the user's groups (for group quotas).
        kind: ``"upload"``, or ``"result"`` for a tool's output (:mod:`terralab.mydata.results`).
    """

    owner: str
    item_id: str
    name: str
    data_type: str
    declared: int
    staging: Path
    home: Path
    policy: StoragePolicy
    groups: tuple[str, ...] = ()
    kind: str = "upload"
    _open: bool = field(default=True, repr=False)

    @property
    def folder(self) -> str:
        """The item's folder, relative to the user's folder (``uploads/<id>``)."""
        return f"{self.kind}s/{self.item_id}"

    @property
    def source(self) -> Path:
        """Where the uploaded bytes go."""
        return self.staging / f"source{PurePath(self.name).suffix.lower()}"


def _staging_root(home: Path) -> Path:
    return home / "staging"


def _clean_stale_staging(home: Path) -> None:
    """Remove staging folders left by a server that died mid-upload."""
    root = _staging_root(home)
    if not root.is_dir():
        return
    cutoff = time.time() - store.STALE_SECONDS
    for folder in root.iterdir():
        with contextlib.suppress(OSError):
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)


def start_upload(owner: str, name: str, size: int, *, limits: UploadLimits | None = None,
                 policy: StoragePolicy | None = None, groups: Iterable[str] = (),
                 home: Path | None = None, kind: str = "upload",
                 item_id: str | None = None) -> PendingUpload:
    """Check an upload's name and size, reserve its size in the quota, open its staging.

    Args:
        owner: the user.
        name: the file's name (only its last part is used).
        size: its size in bytes (declared by the client, checked again when received).
        limits: the upload rules (default from the environment).
        policy: the storage quota policy (default from the environment).
        groups: the user's groups.
        home: the terralab data folder.
        kind: ``"upload"`` or ``"result"``.
        item_id: the item's id (a queued job's result is named after the job, so a retry
            replaces it); default a new one from the name.

    Raises:
        UploadError: ``rule="type"``, ``"size"`` or ``"quota"``; nothing is kept.
    """
    home = home or terralab_home()
    limits = limits or UploadLimits.from_env()
    policy = policy or StoragePolicy.from_env()
    user_dir(owner, home=home)  # checks the user name
    name = _clean_name(name)
    data_type = data_type_of(name)
    if size > limits.max_bytes:
        raise UploadError(f"{name} is {format_size(size)}, more than the "
                          f"{format_size(limits.max_bytes)} allowed for one upload", rule="size")
    _clean_stale_staging(home)
    item_id = item_id or new_item_id(name)
    if kind not in ("upload", "result"):
        raise ValueError(f"kind is upload or result, not {kind!r}")
    store.reserve(owner, item_id, size, kind=kind, data_type=data_type, title=name,
                  source_name=name, folder=f"{kind}s/{item_id}", policy=policy, groups=groups,
                  home=home)
    staging = _staging_root(home) / f"{owner}-{item_id}"
    try:
        staging.mkdir(parents=True, mode=0o700)
    except OSError:
        store.release(owner, item_id, home=home)
        raise
    return PendingUpload(owner=owner, item_id=item_id, name=name, data_type=data_type,
                         declared=size, staging=staging, home=home, policy=policy,
                         groups=tuple(groups), kind=kind)


def abort_upload(pending: PendingUpload) -> None:
    """Forget an upload: remove its staging folder and release its reservation."""
    shutil.rmtree(pending.staging, ignore_errors=True)
    store.release(pending.owner, pending.item_id, home=pending.home)
    pending._open = False


def _tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _give_to_owner(folder: Path, user_folder: Path) -> None:
    """When the service runs as root, hand the files to the owner of the user's folder."""
    if os.geteuid() != 0 or not user_folder.exists():
        return
    owner = user_folder.stat()
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, owner.st_uid, owner.st_gid, follow_symlinks=False)


def check_upload(pending: PendingUpload, *, limits: UploadLimits | None = None,
                 layer: str | None = None, bands: Sequence[str] | None = None) -> None:
    """The quick checks of a received upload, reading no pixels and no features.

    Raises:
        UploadError: for a file that breaks a rule the header shows (type, size, bands,
            sample type, CRS, dimensions, zip limits, layers); the caller aborts it.
    """
    limits = limits or UploadLimits.from_env()
    received = pending.source.stat().st_size if pending.source.is_file() else 0
    if received > limits.max_bytes:
        raise UploadError(f"{pending.name} is {format_size(received)}, more than the "
                          f"{format_size(limits.max_bytes)} allowed for one upload",
                          rule="size")
    if pending.data_type == "raster":
        from terralab.mydata.raster_publish import check_raster

        check_raster(pending.source, limits, name=pending.name, band_names=bands)
    else:
        from terralab.mydata.vector_publish import check_vector

        check_vector(pending.source, limits, layer=layer, name=pending.name)


def _publish(pending: PendingUpload, out: Path, limits: UploadLimits, layer: str | None,
             bands: Sequence[str] | None, progress: Callable[[float, str], None] | None
             ) -> tuple[Any, tuple[str, ...]]:
    """Publish the staged file into ``out``; return what was published and its flags."""
    if pending.data_type == "raster":
        from terralab.mydata.raster_publish import publish_raster

        return publish_raster(pending.source, out, limits, name=pending.name,
                              band_names=bands, progress=progress), ()
    from terralab.mydata.vector_publish import publish_vector

    published = publish_vector(pending.source, out, limits, layer=layer, name=pending.name)
    return published, tuple(published.flags)


def finish_upload(pending: PendingUpload, *, title: str | None = None, layer: str | None = None,
                  bands: Sequence[str] | None = None, limits: UploadLimits | None = None,
                  source_name: str | None = None,
                  progress: Callable[[float, str], None] | None = None) -> store.MyDataRecord:
    """Publish a received upload and add it to the user's data; on failure remove everything.

    Args:
        pending: from :func:`start_upload`, with the file written to ``pending.source``.
        title: the name to show (default: the file name).
        layer: the layer of a GeoPackage with several.
        bands: a raster's band names when the file does not say them (``["red", "green",
            "blue", "nir"]``); by default from its colour interpretation, else RGB for 3
            bands and blue, green, red, NIR for 4.
        limits: the upload rules.
        source_name: what made it, for a result (the tool); default the file name.
        progress: ``progress(percent, message)`` (a publish job's; it may raise to stop).

    Returns:
        The new item of the user's data.

    Raises:
        UploadError: for a file that breaks a rule (nothing is kept, no quota is charged).
    """
    from terralab.catalog.index import CatalogIndex, default_index_path

    limits = limits or UploadLimits.from_env()
    home, owner = pending.home, pending.owner
    final = user_dir(owner, home=home) / pending.folder
    indexed = False
    try:
        received = pending.source.stat().st_size if pending.source.is_file() else 0
        if received > limits.max_bytes:
            raise UploadError(f"{pending.name} is {format_size(received)}, more than the "
                              f"{format_size(limits.max_bytes)} allowed for one upload",
                              rule="size")
        out = pending.staging / "out"
        shutil.rmtree(out, ignore_errors=True)  # an earlier attempt's (a worker that died)
        out.mkdir()
        published, flags = _publish(pending, out, limits, layer, bands, progress)
        size = _tree_bytes(out)
        created = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        item = build_item(pending.item_id, published=published, folder=final,
                          data_type=pending.data_type, title=title or pending.name,
                          kind=pending.kind, source_name=source_name or pending.name,
                          created=created,
                          size=size, flags=flags)
        final.parent.mkdir(parents=True, exist_ok=True)
        out.rename(final)
        _give_to_owner(final, final.parent.parent)
        if item["geometry"] is not None:
            with CatalogIndex(default_index_path(home)) as index:
                index.add_items([item], owner=owner)
            indexed = True
        return store.commit(owner, pending.item_id, size, item, flags=flags,
                            policy=pending.policy, groups=pending.groups, home=home)
    except BaseException:
        if indexed:
            with CatalogIndex(default_index_path(home)) as index:
                index.remove(pending.item_id, collection=item["collection"], owner=owner)
        shutil.rmtree(final, ignore_errors=True)
        raise
    finally:
        abort_upload(pending)


def upload_file(path: str | Path, *, owner: str, name: str | None = None,
                title: str | None = None, layer: str | None = None,
                bands: Sequence[str] | None = None,
                limits: UploadLimits | None = None, policy: StoragePolicy | None = None,
                groups: Iterable[str] = (), home: Path | None = None) -> store.MyDataRecord:
    """Upload a local file into ``owner``'s data, in this process.

    Args:
        path: the file.
        owner: the user.
        name: the name to record (default: the file's name).
        title: the name to show (default: the file name).
        layer: the layer of a GeoPackage with several.
        bands: a raster's band names (see :func:`finish_upload`).
        limits: the upload rules (default from the environment).
        policy: the storage quota policy (default from the environment).
        groups: the user's groups (group quotas).
        home: the terralab data folder.

    Raises:
        UploadError: for a file that breaks a rule; nothing is kept, no quota is charged.
        FileNotFoundError: if ``path`` is not a file.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    limits = limits or UploadLimits.from_env()
    pending = start_upload(owner, name or path.name, path.stat().st_size, limits=limits,
                           policy=policy, groups=groups, home=home)
    try:
        shutil.copyfile(path, pending.source)
    except BaseException:
        abort_upload(pending)
        raise
    return finish_upload(pending, title=title, layer=layer, bands=bands, limits=limits)
