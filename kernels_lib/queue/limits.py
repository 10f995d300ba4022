"""How many jobs a user may have in the queues at once (waiting and running, every kind).

One user's flood must not fill the queue: past the limit a new job is refused at once
(:class:`terralab.queue.errors.JobLimitReached`, answered 429 by the hub service) until one
of the user's jobs ends. The limit counts every job of the user in every queue, whatever its
kind (AI and processing tools, publishing an upload …). A user's own value wins, else the
largest value of the user's groups, else the default (the rule of the quotas).

A deployment sets ``c.TerralabHub.job_limit`` (default 100), ``job_limit_users`` and
``job_limit_groups`` (:mod:`terralab.hub.queue_settings`), which reach its service and workers
in the settings document (:mod:`terralab.settings`); without a hub ``TERRALAB_JOB_LIMIT`` and
``TERRALAB_JOB_LIMIT_USERS`` / ``_GROUPS`` (JSON objects ``{"alice": 500}``) set them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from terralab.quotas.policy import Limit
from terralab.settings import QueueSettings, settings_of

__all__ = ["DEFAULT_JOB_LIMIT", "job_limits", "job_limits_env"]

DEFAULT_JOB_LIMIT = QueueSettings().job_limit


def job_limits(environ: Mapping[str, str] | None = None) -> Limit:
    """The job limits configured: the settings' ``queue.job_limit``, ``_users``, ``_groups``.

    Without a hub ``$TERRALAB_JOB_LIMIT`` … set them; ``environ``: another process's.

    Raises:
        terralab.settings.SettingsError: naming the variable that holds a bad value.
    """
    queue = settings_of(environ).queue
    return Limit(queue.job_limit, dict(queue.job_limit_users), dict(queue.job_limit_groups))


def job_limits_env(limit: Limit) -> dict[str, str]:
    """The environment variables :func:`job_limits` reads back."""
    return {"TERRALAB_JOB_LIMIT": str(limit.default),
            "TERRALAB_JOB_LIMIT_USERS": json.dumps(dict(limit.users)),
            "TERRALAB_JOB_LIMIT_GROUPS": json.dumps(dict(limit.groups))}
