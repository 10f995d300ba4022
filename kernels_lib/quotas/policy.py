"""The quota limits: AI analysis time, download bytes and storage bytes per user (PRODUCT.md §6).

One type, :class:`Limit`, holds each quota's limits: a default and per-user and per-group
values. The rule is the same for all three: a user's own value wins, else the largest value
of the user's groups, else the default. :class:`StoragePolicy` is the storage quota's
:class:`Limit` (300 GB by default), which my data checks before keeping bytes.

A deployment sets them as traitlets of the hub (``c.TerralabHub.ai_quota``,
``storage_quota`` …, see :mod:`terralab.hub.quota_settings` and :mod:`terralab.hub.settings`),
which the hub passes to its service and workers as environment variables; without a hub the
same variables configure the in-process platform:

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
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from terralab.sizes import parse_size

__all__ = [
    "DEFAULT_AI_SECONDS",
    "DEFAULT_DOWNLOAD_BYTES",
    "DEFAULT_STORAGE_QUOTA",
    "Limit",
    "QuotaLimits",
    "QuotaPolicy",
    "StoragePolicy",
    "env_limits",
    "format_duration",
    "parse_duration",
]

DEFAULT_AI_SECONDS = 10 * 3600
DEFAULT_DOWNLOAD_BYTES = 100 * 1024**3
DEFAULT_STORAGE_QUOTA = 300 * 1024**3

_SECONDS = {"": 1, "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
            "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
            "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
            "d": 86400, "day": 86400, "days": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*")


def parse_duration(value: str | int | float) -> int:
    """Return a duration in seconds from ``"10h"``, ``"90min"``, ``"1h 30min"`` or seconds.

    Units: ``s``, ``min`` (also ``m``), ``h``, ``d`` and their long names; a bare number is
    seconds.

    Raises:
        ValueError: for text that is not a duration.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"a duration cannot be negative: {value!r}")
        return int(value)
    text = str(value).strip()
    total, position = 0.0, 0
    while position < len(text):
        match = _PART.match(text, position)
        unit = match.group(2).lower() if match else ""
        if not match or unit not in _SECONDS or (not unit and match.end() < len(text)):
            raise ValueError(f"not a duration: {value!r} (examples: 10h, 90min, 1h30min, "
                             "3600 for seconds)")
        total += float(match.group(1)) * _SECONDS[unit]
        position = match.end()
    if not text:
        raise ValueError("not a duration: an empty text (examples: 10h, 90min, 3600)")
    return round(total)


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

    @classmethod
    def read_env(cls, env: Mapping[str, str], name: str, default: int,
                 parse: Callable[[Any], int] = parse_size, example: str = '"1TB"') -> Self:
        """Read the default from variable ``name``, the others from ``name_USERS|_GROUPS``.

        Args:
            env: the environment.
            name: the quota's variable, e.g. ``TERRALAB_AI_QUOTA``.
            default: the default when ``name`` is unset or empty.
            parse: turns one value into a number (sizes by default; durations for AI time).
            example: a value for the error messages.

        Raises:
            ValueError: naming the variable that holds a bad value.
        """
        text = env.get(name, "").strip()
        if text:
            try:
                default = parse(text)
            except ValueError as error:
                raise ValueError(f"${name}: {error}") from None
        return cls(default=default, users=env_limits(env, f"{name}_USERS", parse, example),
                   groups=env_limits(env, f"{name}_GROUPS", parse, example))

    def env(self, name: str) -> dict[str, str]:
        """Return the variables ``name``, ``name_USERS`` and ``name_GROUPS`` of this limit.

        :meth:`read_env` reads them back.
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
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StoragePolicy:
        """Read the policy from the ``TERRALAB_STORAGE_QUOTA*`` variables.

        Raises:
            ValueError: naming the variable that holds a bad value.
        """
        return cls.read_env(os.environ if environ is None else environ,
                            "TERRALAB_STORAGE_QUOTA", DEFAULT_STORAGE_QUOTA)

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
    def from_env(cls, environ: Mapping[str, str] | None = None) -> QuotaPolicy:
        """Read the policy from the ``TERRALAB_*_QUOTA*`` variables.

        Raises:
            ValueError: naming the variable that holds a bad value.
        """
        env = os.environ if environ is None else environ
        return cls(ai=Limit.read_env(env, "TERRALAB_AI_QUOTA", DEFAULT_AI_SECONDS,
                                     parse_duration, '"20h"'),
                   download=Limit.read_env(env, "TERRALAB_DOWNLOAD_QUOTA",
                                           DEFAULT_DOWNLOAD_BYTES),
                   storage=StoragePolicy.from_env(env))

    def to_env(self) -> dict[str, str]:
        """Return the environment variables that :meth:`from_env` reads back."""
        return (self.ai.env("TERRALAB_AI_QUOTA") | self.download.env("TERRALAB_DOWNLOAD_QUOTA")
                | self.storage.to_env())



def env_limits(env: Mapping[str, str], name: str, parse: Callable[[Any], int] = parse_size,
               example: str = '"1TB"') -> dict[str, int]:
    """Parse a JSON object of per-user or per-group limits from variable ``name``.

    Args:
        env: the environment.
        name: the variable, e.g. ``TERRALAB_STORAGE_QUOTA_USERS``.
        parse: turns one value into a number (sizes by default; durations for AI time).
        example: a value for the error message.

    Raises:
        ValueError: naming the variable, with an example of the expected form.
    """
    text = env.get(name, "").strip()
    if not text:
        return {}
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return {str(key): parse(value) for key, value in data.items()}
    except ValueError as error:
        raise ValueError(f'${name} must be a JSON object like {{"alice": {example}}}: '
                         f"{error}") from None
