"""Refusing new work when a monthly quota is used up: :func:`check_ai`, :func:`check_download`.

A check runs before a job is queued or before the first byte of a download is sent, and
again when a worker claims a queued AI job (:func:`terralab.queue.store.claim`, in the claim's
own transaction): jobs queued while time was left fail there, never started and never
charged, once the quota is used up. Work already under way is never stopped: a running AI
job finishes and is charged in full, and a download that has started is charged for what was
sent, even when that goes past the limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from terralab.quotas.accounts import registered_on
from terralab.quotas.cycle import quota_cycle
from terralab.quotas.ledger import AI_SECONDS, DOWNLOAD_BYTES, used
from terralab.quotas.policy import QuotaPolicy, format_duration
from terralab.sizes import format_size

__all__ = ["QuotaExceeded", "check_ai", "check_download", "month_usage"]


class QuotaExceeded(Exception):  # noqa: N818 (the name says what happened)
    """A monthly quota is used up (or would be by this request).

    Attributes:
        kind: the quota (:data:`~terralab.quotas.ledger.AI_SECONDS` or
            :data:`~terralab.quotas.ledger.DOWNLOAD_BYTES`).
        resets: when the quota starts again (UTC).
        used: what was used this month.
        limit: the monthly limit.
    """

    def __init__(self, message: str, *, kind: str, resets: datetime, used: float,
                 limit: int) -> None:
        super().__init__(message)
        self.kind = kind
        self.resets = resets
        self.used = used
        self.limit = limit

    @classmethod
    def from_body(cls, body: dict) -> QuotaExceeded:
        """The refusal a hub service answered (429 ``{"reason": "quota", …}``)."""
        from terralab.quotas.accounts import parse_time

        return cls(str(body.get("message", "quota used up")),
                   kind=str(body.get("kind", AI_SECONDS)),
                   resets=parse_time(body.get("resets")),  # type: ignore[arg-type]
                   used=float(body.get("used") or 0), limit=int(body.get("limit") or 0))


def month_usage(user: str, kind: str, *, home: Path | None = None,
                now: datetime | None = None, connection: sa.Connection | None = None
                ) -> tuple[float, datetime]:
    """Return what ``user`` used of ``kind`` in the month holding ``now``, and its reset.

    ``connection``: read (and record a first-seen registration) in this open transaction.
    """
    registered = registered_on(user, home=home, connection=connection)
    start, reset = quota_cycle(registered, now)
    return used(user, kind, start, reset, home=home, connection=connection), reset


def check_ai(user: str, groups: Iterable[str] = (), *, home: Path | None = None,
             now: datetime | None = None, policy: QuotaPolicy | None = None,
             connection: sa.Connection | None = None) -> float:
    """Refuse a new AI job when ``user``'s AI time of this month is used up.

    Args:
        user: the user.
        groups: the user's groups (group quotas).
        home: the terralab data folder.
        now: the moment of the check (default: now).
        policy: the limits (default: :meth:`QuotaPolicy.from_env`).
        connection: check in this open transaction (a worker's claim) instead of new ones.

    Returns:
        The AI seconds left this month.

    Raises:
        QuotaExceeded: when the time used is at or over the limit; its message gives the
            reset date.
    """
    policy = policy or QuotaPolicy.from_env()
    limit = policy.ai.limit_for(user, tuple(groups))
    spent, reset = month_usage(user, AI_SECONDS, home=home, now=now, connection=connection)
    if spent >= limit:
        raise QuotaExceeded(
            f"AI analysis quota used up: {format_duration(spent)} of {format_duration(limit)} "
            f"this month; it resets on {reset.date()}", kind=AI_SECONDS, resets=reset,
            used=spent, limit=limit)
    return limit - spent


def check_download(user: str, groups: Iterable[str] = (), nbytes: int = 0, *,
                   home: Path | None = None, now: datetime | None = None,
                   policy: QuotaPolicy | None = None) -> int:
    """Refuse a download of ``nbytes`` that does not fit in ``user``'s download quota.

    Args:
        user: the user.
        groups: the user's groups.
        nbytes: the size of the download, when known (0 = only check that some is left).
        home: the terralab data folder.
        now: the moment of the download (default: now).
        policy: the limits (default: :meth:`QuotaPolicy.from_env`).

    Returns:
        The download bytes left this month before this download.

    Raises:
        QuotaExceeded: when nothing is left or ``used + nbytes`` is over the limit; its
            message gives the reset date.
    """
    policy = policy or QuotaPolicy.from_env()
    limit = policy.download.limit_for(user, tuple(groups))
    spent, reset = month_usage(user, DOWNLOAD_BYTES, home=home, now=now)
    if spent >= limit:
        message = (f"download quota used up: {format_size(spent)} of {format_size(limit)} "
                   f"this month; it resets on {reset.date()}")
    elif spent + nbytes > limit:
        message = (f"this download ({format_size(nbytes)}) is more than the "
                   f"{format_size(limit - spent)} left of your download quota "
                   f"({format_size(spent)} of {format_size(limit)} used this month); "
                   f"it resets on {reset.date()}")
    else:
        return limit - spent
    raise QuotaExceeded(message, kind=DOWNLOAD_BYTES, resets=reset, used=spent, limit=limit)
