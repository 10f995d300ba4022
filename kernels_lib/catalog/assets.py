"""Where an item's assets live, and who may read them.

Public catalog items may point at files under the catalog's data roots or at http(s) URLs on
the allowed hosts (:mod:`terralab.catalog.asset_policy`, configured by the hub), checked
here every time an asset is served, whatever the index holds. A user's own items may only
point at files inside that user's folder: no URL (the trusted service would otherwise fetch
internal addresses for the user) and no file elsewhere. The check is made on the file
actually opened (its real path, read back from the open descriptor), so swapping a folder
for a symbolic link between check and read gains nothing.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlparse

from terralab.catalog.asset_policy import AssetPolicy, HrefRefusedError
from terralab.home import terralab_home, user_dir

__all__ = ["AssetAccessError", "AssetMissingError", "asset_href", "asset_policy",
           "local_asset_path", "open_local_asset"]

_FETCHED = {"http", "https"}
_REMOTE = {"http", "https", "s3", "gs", "az", "ftp"}


class AssetAccessError(PermissionError):
    """An asset that does not exist on the item or may not be read by the caller."""


class AssetMissingError(AssetAccessError):
    """An asset whose file is not on disk (a 404 rather than a refusal)."""


def asset_href(item: dict[str, Any], key: str) -> str:
    """Return the href of asset ``key`` of ``item``.

    Raises:
        AssetAccessError: if the item has no such asset (the message lists the assets).
    """
    assets = item.get("assets") or {}
    if key not in assets:
        raise AssetAccessError(
            f"item {item.get('id')!r} has no asset {key!r}; its assets: {', '.join(assets)}")
    return assets[key]["href"]


def local_asset_path(item: dict[str, Any], key: str, *, owner: str | None = None,
                     home: Path | None = None) -> Path | None:
    """Return the local file of asset ``key``, or None for a public item's http(s) asset.

    Args:
        item: the STAC item dict (hrefs absolute, as the catalog index stores them).
        key: the asset key.
        owner: the user who owns the item, None for a public catalog item.
        home: the terralab data folder.

    Raises:
        AssetAccessError: if the asset is missing, the file does not exist, a user's own
            item points at a URL or outside that user's folder, a public item's file lies
            outside the data roots or its URL is not on an allowed host, or the URL scheme
            is not one terralab fetches.
    """
    href = asset_href(item, key)
    parsed = urlparse(href)
    label = f"asset {key!r} of {item.get('id')!r}"
    if parsed.scheme in _REMOTE:
        if owner is not None:
            raise AssetAccessError(f"{label} points outside the folder of {owner} (a user's "
                                   "items hold files, not URLs)")
        if parsed.scheme not in _FETCHED:
            raise AssetAccessError(f"{label} is at a {parsed.scheme}:// address, which "
                                   "terralab does not fetch")
        try:
            asset_policy(home).check_url(href, label)
        except HrefRefusedError as error:
            raise AssetAccessError(str(error)) from None
        return None
    path = Path(unquote(parsed.path) if parsed.scheme == "file" else href).resolve()
    if owner is not None and not path.is_relative_to(_root(owner, home)):
        raise AssetAccessError(f"{label} points outside the folder of {owner}")
    if owner is None:
        _check_public(path, label, home)
    if not path.is_file():
        raise AssetMissingError(f"asset {key!r} of {item.get('id')!r} is missing on disk")
    return path


def asset_policy(home: Path | None = None) -> AssetPolicy:
    """The data roots and allowed hosts of public items, as the hub configured them."""
    return AssetPolicy.from_env(home or terralab_home())


def _check_public(path: Path, label: str, home: Path | None) -> None:
    """Refuse a public item's file outside the data roots (as an AssetAccessError)."""
    try:
        asset_policy(home).check_path(path, label)
    except HrefRefusedError as error:
        raise AssetAccessError(str(error)) from None


def _root(owner: str, home: Path | None) -> Path:
    """The folder a user's own items may point into."""
    return user_dir(owner, home=home or terralab_home())


@contextmanager
def open_local_asset(item: dict[str, Any], key: str, *, owner: str | None = None,
                     home: Path | None = None) -> Iterator[tuple[BinaryIO, str]]:
    """Open the local file of asset ``key`` and check the file that was really opened.

    Yields:
        The open binary file and a path GDAL can open for the same file
        (``/proc/self/fd/N`` on Linux, which names the open file, not the path again).

    Raises:
        AssetAccessError: as :func:`local_asset_path`, and for a remote asset.
    """
    path = local_asset_path(item, key, owner=owner, home=home)
    if path is None:
        raise AssetAccessError(f"asset {key!r} of {item.get('id')!r} is not a local file")
    try:
        # non-blocking, so a FIFO swapped in after the check cannot hang the reader
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        raise AssetAccessError(f"asset {key!r} of {item.get('id')!r} cannot be read: "
                               f"{error.strerror}") from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise AssetAccessError(f"asset {key!r} of {item.get('id')!r} is not a regular file")
    os.set_blocking(descriptor, True)
    handle = os.fdopen(descriptor, "rb")
    try:
        through_fd = f"/proc/self/fd/{handle.fileno()}"
        real = Path(os.readlink(through_fd)) if os.path.exists(through_fd) else path.resolve()
        if owner is not None and not real.is_relative_to(_root(owner, home)):
            raise AssetAccessError(
                f"asset {key!r} of {item.get('id')!r} points outside the folder of {owner}")
        if owner is None:
            _check_public(real, f"asset {key!r} of {item.get('id')!r}", home)
        yield handle, through_fd if os.path.exists(through_fd) else str(path)
    finally:
        handle.close()
