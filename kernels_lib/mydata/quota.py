"""The storage quota of my data: how many bytes each user may keep (PRODUCT.md §2, §6).

The limit is 300 GB by default and can be set per user and per group: a user's own value
wins, else the largest value of the user's groups, else the default. A deployment sets them
as traitlets of the hub (``c.TerralabHub.storage_quota``, ``storage_quota_users``,
``storage_quota_groups``), which the hub passes to its service as environment variables;
without a hub the same variables configure the in-process platform:

- ``TERRALAB_STORAGE_QUOTA``: the default, ``"300GB"``, ``"10 MB"`` or a number of bytes;
- ``TERRALAB_STORAGE_QUOTA_USERS`` / ``TERRALAB_STORAGE_QUOTA_GROUPS``: JSON objects
  ``{"name": "1TB", …}``.

Sizes use binary units (1 GB = 1024³ bytes; :mod:`terralab.sizes`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from terralab.sizes import format_size, parse_size

__all__ = ["DEFAULT_STORAGE_QUOTA", "StoragePolicy", "env_limits", "format_size", "parse_size"]

DEFAULT_STORAGE_QUOTA = 300 * 1024**3


@dataclass(frozen=True)
class StoragePolicy:
    """Storage limits: a default and per-user / per-group values, in bytes.

    Attributes:
        default: the limit of a user with no value of their own or of a group.
        users: limits by user name.
        groups: limits by group name; a user in several groups gets the largest.
    """

    default: int = DEFAULT_STORAGE_QUOTA
    users: Mapping[str, int] = field(default_factory=dict)
    groups: Mapping[str, int] = field(default_factory=dict)

    def limit_for(self, user: str, groups: Iterable[str] = ()) -> int:
        """Return the storage limit of ``user`` (member of ``groups``), in bytes."""
        if user in self.users:
            return self.users[user]
        found = [self.groups[name] for name in groups if name in self.groups]
        return max(found) if found else self.default

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StoragePolicy:
        """Read the policy from the ``TERRALAB_STORAGE_QUOTA*`` variables.

        Raises:
            ValueError: naming the variable that holds a bad value.
        """
        env = os.environ if environ is None else environ
        default = DEFAULT_STORAGE_QUOTA
        text = env.get("TERRALAB_STORAGE_QUOTA", "").strip()
        if text:
            try:
                default = parse_size(text)
            except ValueError as error:
                raise ValueError(f"$TERRALAB_STORAGE_QUOTA: {error}") from None
        return cls(default=default, users=env_limits(env, "TERRALAB_STORAGE_QUOTA_USERS"),
                   groups=env_limits(env, "TERRALAB_STORAGE_QUOTA_GROUPS"))

    def to_env(self) -> dict[str, str]:
        """Return the environment variables that :meth:`from_env` reads back."""
        return {"TERRALAB_STORAGE_QUOTA": str(self.default),
                "TERRALAB_STORAGE_QUOTA_USERS": json.dumps(dict(self.users)),
                "TERRALAB_STORAGE_QUOTA_GROUPS": json.dumps(dict(self.groups))}


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
