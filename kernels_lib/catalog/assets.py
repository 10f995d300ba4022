"""Where an item's assets live, and who may read them.

Public catalog items may point anywhere the administrator ingested them from; a user's own
items may only point inside that user's folder, so no endpoint can be turned into a reader
of another user's files by ingesting an item whose href points there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from terralab.home import terralab_home, user_dir

__all__ = ["AssetAccessError", "asset_href", "local_asset_path"]


class AssetAccessError(PermissionError):
    """An asset that does not exist on the item or may not be read by the caller."""


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
    """Return the local file of asset ``key``, or None when the asset is remote (http/s3).

    Args:
        item: the STAC item dict (hrefs absolute, as the catalog index stores them).
        key: the asset key.
        owner: the user who owns the item, None for a public catalog item.
        home: the terralab data folder.

    Raises:
        AssetAccessError: if the asset is missing, the file does not exist, or a user's own
            item points outside that user's folder.
    """
    href = asset_href(item, key)
    parsed = urlparse(href)
    if parsed.scheme in {"http", "https", "s3", "gs", "az"}:
        return None
    path = Path(unquote(parsed.path) if parsed.scheme == "file" else href).resolve()
    if owner is not None:
        root = user_dir(owner, home=home or terralab_home())
        if not path.is_relative_to(root):
            raise AssetAccessError(
                f"asset {key!r} of {item.get('id')!r} points outside the folder of {owner}")
    if not path.is_file():
        raise AssetAccessError(f"asset {key!r} of {item.get('id')!r} is missing on disk")
    return path
