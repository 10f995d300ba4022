"""The platform database through SQLAlchemy: SQLite (WAL) by default, PostgreSQL by URL.

The job queue, the quota ledger, accounts and the worker table live here, so a deployment
chooses its database by configuration only:

- ``$TERRALAB_PLATFORM_DB_URL`` (set by the hub from ``c.TerralabHub.platform_db_url``), e.g.
  ``postgresql+psycopg://terralab@db/terralab`` (``postgresql://`` means psycopg 3 too);
- otherwise ``sqlite:///<TERRALAB_HOME>/platform.db``, the same file as
  :mod:`terralab.platform_db`.

On SQLite every transaction starts with ``BEGIN IMMEDIATE`` (it takes the write lock at once
and waits for it up to 30 s), so a read-then-write transaction of one process can never
deadlock with another's; on PostgreSQL the queue claims rows with ``FOR UPDATE SKIP LOCKED``.
Each feature declares its tables on :data:`metadata` and calls :func:`engine`, which creates
every declared table not yet created (features may be imported in any order).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from terralab.home import terralab_home

__all__ = ["dispose_engines", "engine", "is_postgres", "metadata", "platform_url"]

metadata = sa.MetaData()
_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def platform_url(home: Path | None = None) -> str:
    """Return the URL of the platform database.

    ``$TERRALAB_PLATFORM_DB_URL`` when set, else the SQLite file ``platform.db`` in ``home``.
    A bare ``postgresql://`` URL is read as psycopg 3 (``postgresql+psycopg://``).
    """
    url = os.environ.get("TERRALAB_PLATFORM_DB_URL", "").strip()
    if not url:
        path = (home or terralab_home()) / "platform.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_engine(url: str) -> Engine:
    """An SQLite engine in WAL mode whose transactions begin IMMEDIATE."""
    created = sa.create_engine(url, connect_args={"timeout": 30, "isolation_level": None},
                               poolclass=sa.pool.NullPool)

    @sa.event.listens_for(created, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(created, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return created


def engine(home: Path | None = None, *, url: str | None = None) -> Engine:
    """Return the (cached) engine of the platform database, its tables created.

    Args:
        home: the terralab data folder (for the SQLite default).
        url: a database URL, overriding :func:`platform_url`.
    """
    url = url or platform_url(home)
    with _lock:
        found = _engines.get(url)
        if found is not None and os.getpid() == found.info_pid:  # type: ignore[attr-defined]
            if found.info_tables != len(metadata.tables):  # type: ignore[attr-defined]
                metadata.create_all(found)  # a feature imported since declared more tables
                found.info_tables = len(metadata.tables)  # type: ignore[attr-defined]
            return found
        if url.startswith("sqlite"):
            created = _sqlite_engine(url)
        else:
            created = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
        created.info_pid = os.getpid()  # type: ignore[attr-defined]
        metadata.create_all(created)
        created.info_tables = len(metadata.tables)  # type: ignore[attr-defined]
        _engines[url] = created
        return created


def is_postgres(bind: Engine | sa.Connection) -> bool:
    """Return True when ``bind`` talks to PostgreSQL."""
    return bind.dialect.name == "postgresql"


def dispose_engines() -> None:
    """Close every cached engine (tests; after ``fork``)."""
    with _lock:
        for created in _engines.values():
            created.dispose()
        _engines.clear()
