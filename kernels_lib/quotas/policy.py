"""The quota limits: AI analysis time, download bytes and storage bytes per user (PRODUCT.md §6).

One type, :class:`Limit`, holds each quota's limits: a default and per-user and per-group
values. The rule is the same for all three: a user's own value wins, else the largest value
of the user's groups, else the default. :class:`StoragePolicy` is the storage quota's
:class:`Limit` (300 GB by default), which my data checks before keeping bytes.

A deployment sets them as traitlets of the hub (``c.TerralabHub.ai_quota``,
``storage_quota`` …, see :mod:`terralab.hub.quota_settings` and :mod:`terralab.hub.settings`),
which reach its service and workers in the settings document; without a hub the variables of
:class:`terralab.settings.QuotaSettings` configure the in-process platform:

- ``TERRALAB_AI_QUOTA``: AI analysis time per month, ``"10h"`` (default), ``"90min"``,
  ``"1h30min"`` or a number of seconds; ``TERRALAB_AI_QUOTA_USERS`` / ``_GROUPS``: JSON
  objects ``{"alice": "20h", …}``;
- ``TERRALAB_DOWNLOAD_QUOTA``: download bytes per month, ``"100GB"`` (default);
  ``TERRALAB_DOWNLOAD_QUOTA_USERS`` / ``_GROUPS`` likewise;
- ``TERRALAB_STORAGE_QUOTA``: bytes a user may keep in my data, ``"300GB"`` (default),
  ``"10 MB"`` or a number of bytes; ``TERRALAB_STORAGE_QUOTA_USERS`` / ``_GROUPS`` likewise.

Sizes use binary units (1 GB = 1024³ bytes; :mod:`terralab.sizes`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from terralab.settings import QuotaSettings, settings_of
from terralab.sizes import parse_duration  # here as before; the settings parse with it

__all__ = [
    "DEFAULT_AI_SECONDS",
    "DEFAULT_DOWNLOAD_BYTES",
    "DEFAULT_STORAGE_QUOTA",
    "Limit",
    "QuotaLimits",
    "QuotaPolicy",
    "StoragePolicy",
    "format_duration",
    "parse_duration",
]

_DEFAULTS = QuotaSettings()
DEFAULT_AI_SECONDS = _DEFAULTS.ai
DEFAULT_DOWNLOAD_BYTES = _DEFAULTS.download
DEFAULT_STORAGE_QUOTA = _DEFAULTS.storage


def format_duration(seconds: float) -> str:
    """``10 h``, ``9 h 59 min``, ``45 min`` or ``42 s``, for messages."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    hours, minutes = divmod(seconds // 60, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h" if not minutes else f"{hours} h {minutes} min"


@dataclass(frozen=True)
class Limit:
    """One quota's limits: a default and per-user / per-group values (seconds or bytes).

    Attributes:
        default: the limit of a user with no value of their own or of a group.
        users: limits by user name.
        groups: limits by group name; a user in several groups gets the largest.
    """

    default: int
    users: Mapping[str, int] = field(default_factory=dict)
    groups: Mapping[str, int] = field(default_factory=dict)

    def limit_for(self, user: str, groups: Iterable[str] = ()) -> int:
        """Return the limit of ``user`` (member of ``groups``)."""
        if user in self.users:
            return self.users[user]
        found = [self.groups[name] for name in groups if name in self.groups]
        return max(found) if found else self.default

    def env(self, name: str) -> dict[str, str]:
        """Return the variables ``name``, ``name_USERS`` and ``name_GROUPS`` of this limit.

        :class:`terralab.settings.Settings` reads them back.
        """
        return {name: str(self.default), f"{name}_USERS": json.dumps(dict(self.users)),
                f"{name}_GROUPS": json.dumps(dict(self.groups))}


@dataclass(frozen=True)
class StoragePolicy(Limit):
    """The storage quota: bytes a user may keep in my data (default 300 GB).

    Attributes:
        default: the limit of a user with no value of their own or of a group.
        users: limits by user name.
        groups: limits by group name; a user in several groups gets the largest.
    """

    default: int = DEFAULT_STORAGE_QUOTA

    @classmethod
    def from_settings(cls, quotas: QuotaSettings) -> StoragePolicy:
        """The storage quota of the settings' quotas."""
        return cls(quotas.storage, dict(quotas.storage_users), dict(quotas.storage_groups))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StoragePolicy:
        """The storage quota configured (:func:`terralab.settings.settings`), or ``environ``'s.

        Raises:
            terralab.settings.SettingsError: naming the variable that holds a bad value.
        """
        return cls.from_settings(settings_of(environ).quotas)

    def to_env(self) -> dict[str, str]:
        """Return the environment variables that :meth:`from_env` reads back."""
        return self.env("TERRALAB_STORAGE_QUOTA")


@dataclass(frozen=True)
class QuotaLimits:
    """The limits of one user: AI seconds and download bytes per month, storage bytes."""

    ai_seconds: int
    download_bytes: int
    storage_bytes: int


@dataclass(frozen=True)
class QuotaPolicy:
    """Every quota of the platform.

    Attributes:
        ai: AI analysis seconds per month (default 10 h).
        download: download bytes per month (default 100 GB).
        storage: bytes a user may keep in my data (default 300 GB), the upload policy.
    """

    ai: Limit = field(default_factory=lambda: Limit(DEFAULT_AI_SECONDS))
    download: Limit = field(default_factory=lambda: Limit(DEFAULT_DOWNLOAD_BYTES))
    storage: StoragePolicy = field(default_factory=StoragePolicy)

    def limits_for(self, user: str, groups: Iterable[str] = ()) -> QuotaLimits:
        """Return the limits of ``user`` (member of ``groups``)."""
        groups = tuple(groups)
        return QuotaLimits(ai_seconds=self.ai.limit_for(user, groups),
                           download_bytes=self.download.limit_for(user, groups),
                           storage_bytes=self.storage.limit_for(user, groups))

    @classmethod
    def from_settings(cls, quotas: QuotaSettings) -> QuotaPolicy:
        """The policy of the settings' quotas."""
        return cls(ai=Limit(quotas.ai, dict(quotas.ai_users), dict(quotas.ai_groups)),
                   download=Limit(quotas.download, dict(quotas.download_users),
                                  dict(quotas.download_groups)),
                   storage=StoragePolicy.from_settings(quotas))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> QuotaPolicy:
        """The policy configured (:func:`terralab.settings.settings`), or ``environ``'s.

        Raises:
            terralab.settings.SettingsError: naming the variable that holds a bad value.
        """
        return cls.from_settings(settings_of(environ).quotas)

    def to_env(self) -> dict[str, str]:
        """Return the environment variables that :meth:`from_env` reads back."""
        return (self.ai.env("TERRALAB_AI_QUOTA") | self.download.env("TERRALAB_DOWNLOAD_QUOTA")
                | self.storage.to_env())
