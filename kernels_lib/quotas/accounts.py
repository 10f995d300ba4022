"""When each user registered: the day their quota month starts (:mod:`terralab.quotas.cycle`).

The ``accounts`` table of the platform database keeps one row per user: the registration
time (UNIX seconds) and whether it came from the hub. Inside a hub the service passes the
JupyterHub user's ``created`` time, which is the registration; without a hub (or when the
hub did not say) the first time terralab sees the user is recorded instead, and a later
``created`` from the hub replaces that guess once. After that the value never changes, so a
user's month does not move.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from terralab.platform_sql import engine, insert_once, metadata
from terralab.quotas.cycle import as_utc

__all__ = ["accounts", "parse_time", "registered_on", "stored_registration"]

accounts = sa.Table(
    "accounts", metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("registered", sa.Float, nullable=False),  # UNIX seconds
    sa.Column("from_hub", sa.Boolean, nullable=False, default=False),
)


def parse_time(value: datetime | str | float | None) -> datetime | None:
    """Return a UTC time from a datetime, an ISO 8601 text (JupyterHub's) or UNIX seconds.

    Raises:
        ValueError: for text that is not an ISO 8601 time.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return as_utc(datetime.fromisoformat(str(value).strip()))


def stored_registration(user: str, *, home: Path | None = None) -> datetime | None:
    """Return the registration time kept for ``user``, or None for a user not seen yet."""
    with engine(home).connect() as db:
        found = db.execute(sa.select(accounts.c.registered)
                           .where(accounts.c.name == user)).scalar()
    return None if found is None else datetime.fromtimestamp(found, UTC)


def registered_on(user: str, *, created: datetime | str | None = None,
                  home: Path | None = None, connection: sa.Connection | None = None
                  ) -> datetime:
    """Return when ``user`` registered, recording it for a user not seen before.

    Args:
        user: the user name.
        created: the hub's ``created`` time of the user (datetime or ISO text), if known;
            without it a new user's registration is now (first seen).
        home: the terralab data folder (SQLite default of the platform database).
        connection: do it in this open transaction (e.g. a worker's claim) instead of one
            of its own.

    Returns:
        The registration time, UTC.
    """
    if connection is None:
        with engine(home).begin() as db:
            return registered_on(user, created=created, connection=db)
    from_hub = parse_time(created)
    moment = from_hub or datetime.now(UTC)
    inserted = insert_once(connection, accounts, {"name": user, "registered": moment.timestamp(),
                                                  "from_hub": from_hub is not None})
    if not inserted and from_hub is not None:  # the hub's time replaces a first-seen one
        connection.execute(accounts.update()
                           .where(accounts.c.name == user, accounts.c.from_hub.is_(False))
                           .values(registered=from_hub.timestamp(), from_hub=True))
    found = connection.execute(sa.select(accounts.c.registered)
                               .where(accounts.c.name == user)).scalar_one()
    return datetime.fromtimestamp(found, UTC)
