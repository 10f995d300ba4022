"""The platform database: one SQLite file (WAL) under ``TERRALAB_HOME`` on the embedded default.

Each feature owns its tables and creates them on first use with :func:`ensure_tables`, so
the modules that hold favourites, download records, and (later) jobs and quotas stay apart.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from terralab.home import terralab_home

__all__ = ["connect", "ensure_tables", "platform_db_path"]

_created: set[tuple[str, str]] = set()
_lock = threading.Lock()


def platform_db_path(home: Path | None = None) -> Path:
    """Return the path of ``platform.db`` under ``home`` (``terralab_home()`` by default)."""
    return (home or terralab_home()) / "platform.db"


def connect(home: Path | None = None) -> sqlite3.Connection:
    """Open the platform database in WAL mode (created if missing).

    Args:
        home: the terralab data folder; ``terralab_home()`` when omitted.

    Returns:
        A connection usable from the calling thread; close it when done.
    """
    path = platform_db_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=30)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA foreign_keys=ON")
    return connection


def ensure_tables(connection: sqlite3.Connection, name: str, ddl: str) -> None:
    """Create the tables of feature ``name`` with ``ddl`` once per database file.

    Args:
        connection: an open platform database.
        name: the feature that owns the tables (for the once-only cache).
        ddl: ``CREATE TABLE IF NOT EXISTS …`` statements.
    """
    database = connection.execute("PRAGMA database_list").fetchone()[2]
    key = (database, name)
    with _lock:
        if key in _created:
            return
        connection.executescript(ddl)
        _created.add(key)
