"""The download quota of the callers of downloads: checked before, charged after.

A catalog download (:func:`terralab.catalog.downloads.download`) knows nothing of quotas: it
takes a meter (:class:`~terralab.catalog.downloads.DownloadMeter`) and asks it before each
asset whether the bytes fit, and tells it what each asset took. :class:`DownloadQuota` is
the meter of one user's monthly download quota (:func:`terralab.quotas.checks.check_download`
before, a charge to the quota ledger after, :func:`record_download`); the callers that hand
bytes to a user pass it: :func:`download` here (the in-process ``tl.download``), my data's
downloads and exports, and the hub service, which charges what it really sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from shapely.geometry.base import BaseGeometry

from terralab.catalog.downloads import download as download_assets
from terralab.identity import current_user
from terralab.quotas.checks import check_download
from terralab.quotas.ledger import DOWNLOAD_BYTES, charge, used

__all__ = ["DownloadQuota", "download", "downloaded_bytes", "record_download"]


def record_download(user: str, item: dict[str, Any], asset: str, nbytes: int, *,
                    home: Path | None = None) -> None:
    """Charge ``nbytes`` downloaded by ``user`` to the quota ledger (a fresh key each time)."""
    charge(None, kind=DOWNLOAD_BYTES, key=uuid.uuid4().hex, owner=user, amount=int(nbytes),
           note=f"{item.get('collection') or ''}/{item['id']}/{asset}", home=home)


def downloaded_bytes(user: str, *, since: datetime | None = None,
                     home: Path | None = None) -> int:
    """Return the bytes ``user`` downloaded (since ``since``, a timezone-aware time)."""
    return int(used(user, DOWNLOAD_BYTES, since, home=home))


@dataclass(frozen=True)
class DownloadQuota:
    """One user's download quota, as the meter of a download.

    Attributes:
        user: the user charged for the bytes.
        groups: the user's groups (group quotas).
        home: the terralab data folder.
    """

    user: str
    groups: tuple[str, ...] = ()
    home: Path | None = None

    def check(self, nbytes: int) -> None:
        """Refuse ``nbytes`` more (0: refuse when nothing is left).

        Raises:
            terralab.quotas.QuotaExceeded: with the reset date.
        """
        check_download(self.user, self.groups, nbytes, home=self.home)

    def charge(self, item: dict[str, Any], asset: str, nbytes: int) -> None:
        """Charge the ``nbytes`` an asset of ``item`` took."""
        record_download(self.user, item, asset, nbytes, home=self.home)


def download(item: dict[str, Any], dest: str | Path, *, assets: list[str] | None = None,
             geometry: BaseGeometry | None = None, user: str | None = None,
             owner: str | None = None, groups: Iterable[str] = (),
             home: Path | None = None) -> list[Path]:
    """Download assets of ``item`` into ``dest``, within ``user``'s download quota.

    Args:
        item: the STAC item dict.
        dest: the folder to write into (created if missing).
        assets: the asset keys; None = every asset with the role ``data`` (else all assets).
        geometry: clip rasters to this area (EPSG:4326).
        user: the user charged for the bytes (default :func:`terralab.identity.current_user`).
        owner: the owner of a user's own item.
        groups: the user's groups (group quotas).
        home: the terralab data folder.

    Returns:
        The files written.

    Raises:
        terralab.quotas.QuotaExceeded: before an asset's first byte is written, when the
            user's download quota of this month is used up or the asset (of known size)
            would not fit in it.
    """
    meter = DownloadQuota(user or current_user(), tuple(groups), home)
    return download_assets(item, dest, assets=assets, geometry=geometry, owner=owner,
                           home=home, meter=meter)
