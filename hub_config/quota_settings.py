"""The monthly quota settings of a terralab hub, as traitlets: AI analysis time and downloads.

:class:`QuotaSettings` is mixed into :class:`terralab.hub.settings.TerralabHub`, so a site
sets ``c.TerralabHub.ai_quota = "20h"`` and the others like any JupyterHub option. The
storage quota (not monthly) has its own traits there. Each value is checked when set, so a
typo stops the hub at start-up with the trait's name rather than at the first job.
:meth:`QuotaSettings.quota_settings` gives the ``quotas`` of the settings document
(:mod:`terralab.settings`) that the hub service, the workers and users' servers read back with
:meth:`terralab.quotas.policy.QuotaPolicy.from_env`.
"""

from __future__ import annotations

from typing import Any

from traitlets import Dict, HasTraits, TraitError, Unicode, validate

from terralab.quotas.policy import parse_duration
from terralab.sizes import parse_size

__all__ = ["QuotaSettings"]

_PARSERS = {"ai_quota": parse_duration, "download_quota": parse_size}


class QuotaSettings(HasTraits):
    """Monthly quotas per user: a default, per-user and per-group values.

    A user's own value wins, else the largest value of the user's groups, else the default.
    The month starts on the user's registration day; a quota used up refuses new AI jobs
    (or downloads) until then, with the reset date in the message, and lets running ones
    finish.
    """

    ai_quota = Unicode(
        "10h",
        config=True,
        help="""AI analysis time per user and month, e.g. "10h", "90min", "1h30min" or a
        number of seconds. Only the run time of successful AI jobs counts (never the time
        in the queue, never a failed job). ai_quota_users and ai_quota_groups override it.""",
    )

    ai_quota_users = Dict(
        config=True, help='AI analysis time of single users per month, e.g. {"alice": "20h"}.'
    )

    ai_quota_groups = Dict(
        config=True, help='AI analysis time of groups per month, e.g. {"lab": "40h"}.'
    )

    download_quota = Unicode(
        "100GB",
        config=True,
        help="""Download volume per user and month, e.g. "100GB", "500 MB" or a number of
        bytes (binary units: 1 GB = 1024³ bytes). download_quota_users and
        download_quota_groups override it.""",
    )

    download_quota_users = Dict(
        config=True, help='Download volume of single users per month, e.g. {"alice": "1TB"}.'
    )

    download_quota_groups = Dict(
        config=True, help='Download volume of groups per month, e.g. {"lab": "2TB"}.'
    )

    @validate("ai_quota", "download_quota")
    def _check_default(self, proposal: dict[str, Any]) -> Any:
        name = proposal["trait"].name
        try:
            _PARSERS[name](proposal["value"])
        except ValueError as error:
            raise TraitError(f"{name}: {error}") from None
        return proposal["value"]

    @validate("ai_quota_users", "ai_quota_groups", "download_quota_users",
              "download_quota_groups")
    def _check_overrides(self, proposal: dict[str, Any]) -> Any:
        name = proposal["trait"].name
        parse = _PARSERS[name.rsplit("_", 1)[0]]
        for key, value in proposal["value"].items():
            try:
                parse(value)
            except ValueError as error:
                raise TraitError(f"{name}[{key!r}]: {error}") from None
        return proposal["value"]

    def quota_settings(self) -> dict[str, Any]:
        """These quotas as the settings document's ``quotas``, in seconds and bytes."""
        values: dict[str, Any] = {}
        for name, parse in _PARSERS.items():
            key = name.removesuffix("_quota")
            values[key] = parse(getattr(self, name))
            for suffix in ("users", "groups"):
                values[f"{key}_{suffix}"] = {
                    str(user): parse(value)
                    for user, value in getattr(self, f"{name}_{suffix}").items()}
        return values
