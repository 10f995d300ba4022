"""How many jobs a user may have in the queues at once (waiting and running, every kind).

One user's flood must not fill the queue: past the limit a new job is refused at once
(:class:`terralab.queue.errors.JobLimitReached`, answered 429 by the hub service) until one
of the user's jobs ends. The limit counts every job of the user in every queue, whatever its
kind (AI and processing tools, publishing an upload …). A user's own value wins, else the
largest value of the user's groups, else the default (the rule of the quotas).

A deployment sets ``c.TerralabHub.job_limit`` (default 100), ``job_limit_users`` and
``job_limit_groups`` (:mod:`terralab.hub.queue_settings`); the hub passes them to its service
and workers as ``TERRALAB_JOB_LIMIT`` and ``TERRALAB_JOB_LIMIT_USERS`` / ``_GROUPS`` (JSON
objects ``{"alice": 500}``), which also configure the in-process platform without a hub.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from terralab.quotas.policy import Limit

__all__ = ["DEFAULT_JOB_LIMIT", "job_limits", "job_limits_env"]

DEFAULT_JOB_LIMIT = 100


def _count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"${name}: give a whole number of jobs ≥ 0, not {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"${name}: give a whole number of jobs ≥ 0, not {value!r}") from None
    if number < 0:
        raise ValueError(f"${name}: give a whole number of jobs ≥ 0, not {value!r}")
    return number


def _counts(env: Mapping[str, str], name: str) -> dict[str, int]:
    text = env.get(name, "").strip()
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ValueError(f'${name} must be a JSON object like {{"alice": 500}}: {error}'
                         ) from None
    if not isinstance(data, dict):
        raise ValueError(f'${name} must be a JSON object like {{"alice": 500}}')
    return {str(key): _count(name, value) for key, value in data.items()}


def job_limits(environ: Mapping[str, str] | None = None) -> Limit:
    """Read the job limits from ``TERRALAB_JOB_LIMIT`` and its ``_USERS`` / ``_GROUPS``.

    Raises:
        ValueError: naming the variable that holds a bad value.
    """
    env = os.environ if environ is None else environ
    text = env.get("TERRALAB_JOB_LIMIT", "").strip()
    default = _count("TERRALAB_JOB_LIMIT", text) if text else DEFAULT_JOB_LIMIT
    return Limit(default, _counts(env, "TERRALAB_JOB_LIMIT_USERS"),
                 _counts(env, "TERRALAB_JOB_LIMIT_GROUPS"))


def job_limits_env(limit: Limit) -> dict[str, str]:
    """The environment variables :func:`job_limits` reads back."""
    return {"TERRALAB_JOB_LIMIT": str(limit.default),
            "TERRALAB_JOB_LIMIT_USERS": json.dumps(dict(limit.users)),
            "TERRALAB_JOB_LIMIT_GROUPS": json.dumps(dict(limit.groups))}
