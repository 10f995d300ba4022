"""The platform database through SQLAlchemy: SQLite (WAL) by default, PostgreSQL by URL.

All platform state lives here: the job queue and the workers, the quota ledger and accounts,
my data (``my_data``) and the uploads waiting to be published (``upload_waiting``),
favourites, and the catalog items users own (``catalog_user_items``; the public catalog
index stays a file of its own). So a deployment chooses its database by configuration only:

- the settings' ``platform_db_url`` (:mod:`terralab.settings`: the hub writes it from
  ``c.TerralabHub.platform_db_url``; ``$TERRALAB_PLATFORM_DB_URL`` without a hub), e.g.
  ``postgresql+psycopg://terralab@db/terralab`` (``postgresql://`` means psycopg 3 too);
- otherwise ``sqlite:///<TERRALAB_HOME>/platform.db``.

An existing ``platform.db`` moves to PostgreSQL with ``terralab db migrate --to URL``
(:mod:`terralab.platform_migrate`).

On SQLite every transaction starts with ``BEGIN IMMEDIATE`` (it takes the write lock at once
and waits for it up to 30 s), so a read-then-write transaction of one process can never
deadlock with another's (connections opened with :func:`reading` only read, and begin
DEFERRED); on PostgreSQL the queue claims rows with ``FOR UPDATE SKIP LOCKED``.
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
from terralab.settings import settings

__all__ = ["dispose_engines", "engine", "has_database", "insert_once", "is_postgres",
           "metadata", "normalise_url", "platform_url", "reading", "sqlite_path",
           "upgrade_tables"]

metadata = sa.MetaData()
_engines: dict[str, Engine] = {}
_READING = "terralab_reading"
_lock = threading.Lock()


def platform_url(home: Path | None = None) -> str:
    """Return the URL of the platform database.

    The settings' ``platform_db_url`` (``$TERRALAB_PLATFORM_DB_URL``) when set, else the
    SQLite file ``platform.db`` in ``home``.
    A bare ``postgresql://`` URL is read as psycopg 3 (``postgresql+psycopg://``).
    """
    url = (settings().platform_db_url or "").strip()
    if not url:
        path = sqlite_path(home)
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    return normalise_url(url)


def normalise_url(url: str) -> str:
    """Read a bare ``postgresql://`` (or ``postgres://``) URL as psycopg 3's."""
    url = url.strip()
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def sqlite_path(home: Path | None = None) -> Path:
    """Return the SQLite file of the embedded default: ``<home>/platform.db``."""
    return (home or terralab_home()) / "platform.db"


def has_database(home: Path | None = None) -> bool:
    """Return True when there is a platform database to read, without creating one.

    A database server (the settings' ``platform_db_url``) counts as there; the SQLite default
    only once its file exists. Readers that may find nothing use this to avoid leaving an
    empty ``platform.db`` behind.
    """
    if (settings().platform_db_url or "").strip():
        return True
    return sqlite_path(home).is_file()


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
        reads_only = connection.get_execution_options().get(_READING, False)
        connection.exec_driver_sql("BEGIN" if reads_only else "BEGIN IMMEDIATE")

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


def reading(bind: Engine) -> sa.Connection:
    """Open a connection of ``bind`` that only reads (use it in a ``with`` block).

    On SQLite its transactions begin DEFERRED: they read a WAL snapshot without taking the
    write lock, so readers (a catalog search, a my-data list) neither wait for nor hold up
    the writers. Never write through it (the write could fail with "database is locked").
    """
    return bind.connect().execution_options(**{_READING: True})


def is_postgres(bind: Engine | sa.Connection) -> bool:
    """Return True when ``bind`` talks to PostgreSQL."""
    return bind.dialect.name == "postgresql"


def insert_once(connection: sa.Connection, table: sa.Table, values: dict[str, Any]) -> bool:
    """Insert ``values`` into ``table`` unless a row with the same key exists.

    The check and the insert are one statement (``INSERT … ON CONFLICT DO NOTHING``), so two
    processes inserting the same key at once still leave one row.

    Returns:
        True when the row was inserted, False when the key was already there.
    """
    if is_postgres(connection):
        from sqlalchemy.dialects.postgresql import insert
    elif connection.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # another database: a savepoint keeps the caller's transaction usable
        try:
            with connection.begin_nested():
                connection.execute(table.insert().values(**values))
        except sa.exc.IntegrityError:
            return False
        return True
    # RETURNING tells what happened on every driver (psycopg 3 reports rowcount -1 here)
    key = next(iter(table.primary_key.columns))
    statement = insert(table).values(**values).on_conflict_do_nothing().returning(key)
    return connection.execute(statement).first() is not None


def dispose_engines() -> None:
    """Close every cached engine (tests; after ``fork``)."""
    with _lock:
        for created in _engines.values():
            created.dispose()
        _engines.clear()
