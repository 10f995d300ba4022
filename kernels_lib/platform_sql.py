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

Schema changes stay additive, so an existing ``platform.db`` (or PostgreSQL database) of an
earlier release upgrades itself when :func:`engine` opens it (:func:`upgrade_tables`): a
column declared since then is added (new columns are nullable), an index declared since then
is created, and an integer column now declared as a float (the quota ledger's amounts, exact
seconds since) is widened on PostgreSQL (SQLite stores the fractions as they are).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from terralab.home import terralab_home

__all__ = ["dispose_engines", "engine", "is_postgres", "metadata", "platform_url",
           "upgrade_tables"]

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


def upgrade_tables(bind: Engine) -> None:
    """Add the columns and indexes declared since an existing database was made.

    Runs in one transaction (on SQLite under the write lock, so two processes opening the
    database at once upgrade it once; on PostgreSQL with ``IF NOT EXISTS``).

    Raises:
        RuntimeError: a declared column is missing and cannot be added (not nullable).
    """
    postgres = is_postgres(bind)
    quote = bind.dialect.identifier_preparer.quote
    with bind.begin() as db:
        inspector = sa.inspect(db)
        present = set(inspector.get_table_names())
        for table in metadata.sorted_tables:
            if table.name not in present:
                continue
            found = {column["name"]: column for column in inspector.get_columns(table.name)}
            for column in table.columns:
                kind = column.type.compile(dialect=bind.dialect)
                where = f"ALTER TABLE {quote(table.name)}"
                if column.name not in found:
                    if not column.nullable:
                        raise RuntimeError(f"table {table.name}: cannot add the required "
                                           f"column {column.name} to an existing database")
                    exists = "IF NOT EXISTS " if postgres else ""
                    db.exec_driver_sql(f"{where} ADD COLUMN {exists}{quote(column.name)} {kind}")
                elif (postgres and isinstance(column.type, sa.Float)
                      and isinstance(found[column.name]["type"], sa.Integer)):
                    db.exec_driver_sql(f"{where} ALTER COLUMN {quote(column.name)} TYPE {kind}")
            for index in table.indexes:
                index.create(db, checkfirst=True)


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
                upgrade_tables(found)
                found.info_tables = len(metadata.tables)  # type: ignore[attr-defined]
            return found
        if url.startswith("sqlite"):
            created = _sqlite_engine(url)
        else:
            created = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
        created.info_pid = os.getpid()  # type: ignore[attr-defined]
        metadata.create_all(created)
        upgrade_tables(created)
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
