"""Insert a row once, on SQLite and PostgreSQL alike: a second insert of the same key is a no-op."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from terralab.platform_sql import is_postgres

__all__ = ["insert_once"]


def insert_once(connection: sa.Connection, table: sa.Table, values: dict[str, Any]) -> bool:
    """Insert ``values`` into ``table`` unless a row with the same primary key exists.

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
