"""The quota ledger: every charge against a user's quota, once per key.

One row per charge in the ``quota_ledger`` table of the platform database, keyed by
``(kind, key)``: an AI job is charged under its job id, so a job that is retried, or whose
success is reported twice, is charged once. Kinds:

- :data:`AI_SECONDS` (``"ai_seconds"``): the run time of a successful AI job, in seconds
  (charged by the worker in the same transaction that marks the job succeeded; queue time
  and failed jobs are never charged);
- :data:`DOWNLOAD_BYTES` (``"download_bytes"``): bytes sent to the user, one row per
  download under a fresh key (:func:`terralab.quotas.downloads.record_download`).

AI seconds are charged exactly (a 0.3 s job costs 0.3 s, to the microsecond; rounding to
whole seconds once let every job under 0.5 s run for free); bytes are whole numbers. ``at``
is the time of the charge in UNIX seconds, which places it in a quota month
(:mod:`terralab.quotas.cycle`).
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from terralab.platform_sql import engine, insert_once, metadata

__all__ = ["AI_SECONDS", "DOWNLOAD_BYTES", "KINDS", "charge", "quota_ledger", "used"]

AI_SECONDS = "ai_seconds"
DOWNLOAD_BYTES = "download_bytes"
KINDS = (AI_SECONDS, DOWNLOAD_BYTES)

quota_ledger = sa.Table(
    "quota_ledger", metadata,
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("key", sa.String(80), primary_key=True),
    sa.Column("owner", sa.String(255), nullable=False),
    sa.Column("amount", sa.Float, nullable=False),  # seconds (exact) or bytes (whole)
    sa.Column("at", sa.Float, nullable=False),  # UNIX seconds
    sa.Column("note", sa.Text),  # what was charged, e.g. "collection/item/asset"
    sa.Index("quota_ledger_owner_kind_at", "owner", "kind", "at"),
)


def _timestamp(moment: datetime | float | None) -> float | None:
    if moment is None or isinstance(moment, int | float):
        return moment
    if moment.tzinfo is None:
        raise ValueError(f"give a timezone-aware time, not {moment!r}")
    return moment.timestamp()


def _amount(kind: str, amount: float) -> float:
    """Seconds to the microsecond, bytes whole; never negative."""
    if kind == DOWNLOAD_BYTES:
        return max(0, round(amount))
    return max(0.0, round(float(amount), 6))


def charge(connection: sa.Connection | None, *, kind: str, key: str, owner: str,
           amount: float, at: datetime | float | None = None, note: str | None = None,
           home: Path | None = None) -> bool:
    """Charge ``amount`` to ``owner``'s quota ``kind`` under ``key``, once.

    Args:
        connection: an open connection of the platform database whose transaction the
            charge joins (e.g. the one that marks a job succeeded), or None for a
            transaction of its own.
        kind: :data:`AI_SECONDS` or :data:`DOWNLOAD_BYTES`.
        key: what is charged (a job id; a fresh uuid per download).
        owner: the user charged.
        amount: seconds (kept exactly) or bytes (rounded to a whole number); negative
            counts as 0.
        at: when (timezone-aware datetime or UNIX seconds; default now).
        note: what was charged, for people reading the ledger.
        home: the terralab data folder (SQLite default of the platform database).

    Returns:
        True when charged now, False when ``(kind, key)`` was charged before.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown quota kind {kind!r}; one of {', '.join(KINDS)}")
    values = {"kind": kind, "key": str(key), "owner": owner,
              "amount": _amount(kind, amount), "note": note,
              "at": _timestamp(at) if at is not None else time.time()}
    if connection is not None:
        # the caller's engine may predate this module's import: make sure of the table, on
        # the caller's own connection (another one would wait for the caller's write lock)
        quota_ledger.create(connection, checkfirst=True)
        return insert_once(connection, quota_ledger, values)
    with engine(home).begin() as db:
        return insert_once(db, quota_ledger, values)


def used(owner: str, kind: str, since: datetime | float | None = None,
         until: datetime | float | None = None, *, home: Path | None = None,
         connection: sa.Connection | None = None) -> float:
    """Return the total ``owner`` was charged for ``kind`` in ``[since, until)``.

    AI seconds come back exactly (a float); bytes as a whole number.

    Args:
        owner: the user.
        kind: :data:`AI_SECONDS` or :data:`DOWNLOAD_BYTES`.
        since: from this time on (inclusive; timezone-aware or UNIX seconds); None = ever.
        until: before this time (exclusive); None = up to now and later.
        home: the terralab data folder.
        connection: read through this open connection instead of a new one.
    """
    query = sa.select(sa.func.coalesce(sa.func.sum(quota_ledger.c.amount), 0)).where(
        quota_ledger.c.owner == owner, quota_ledger.c.kind == kind)
    if since is not None:
        query = query.where(quota_ledger.c.at >= _timestamp(since))
    if until is not None:
        query = query.where(quota_ledger.c.at < _timestamp(until))
    if connection is not None:
        total = connection.execute(query).scalar_one()
    else:
        with engine(home).connect() as db:
            total = db.execute(query).scalar_one()
    return round(float(total), 6) if kind == AI_SECONDS else round(total)
