"""The quota month: it runs from the user's registration day, not the calendar month.

A user registered on the 3rd has cycles 3 March → 3 April → 3 May…; one registered on the
31st has cycles that start on the last day of shorter months (28/29 February, 30 April) and
on the 31st again where the month has one. A cycle starts at 00:00 UTC of its day, so every
user, worker and server agrees on it whatever their time zone.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

__all__ = ["as_utc", "cycle_day", "quota_cycle"]


def as_utc(moment: datetime) -> datetime:
    """Return ``moment`` in UTC (a naive time is read as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def cycle_day(year: int, month: int, day: int) -> datetime:
    """Return 00:00 UTC of ``day`` in ``year``-``month``, clamped to the month's last day."""
    last = calendar.monthrange(year, month)[1]
    return datetime(year, month, min(day, last), tzinfo=UTC)


def _shift(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def quota_cycle(registered: datetime, now: datetime | None = None) -> tuple[datetime, datetime]:
    """Return the quota month that holds ``now``: ``(start, reset)``, both UTC.

    ``start`` is inclusive and ``reset`` (the next cycle's start) exclusive: a charge made
    exactly at ``reset`` belongs to the next month.

    Args:
        registered: when the user registered (its UTC day of month anchors the cycles).
        now: the moment to place (default: now).
    """
    day = as_utc(registered).day
    now = as_utc(now or datetime.now(UTC))
    start = cycle_day(now.year, now.month, day)
    if now < start:
        start = cycle_day(*_shift(now.year, now.month, -1), day)
    reset = cycle_day(*_shift(start.year, start.month, 1), day)
    return start, reset
