"""A home written by the previous release: opened in place on SQLite, migrated to PostgreSQL.

``data/home_previous_release.zip`` is a home the release before the one store wrote
(``data/make_previous_home.py``, run at /tmp/terralab-prev-home): alice's raster upload in my
data (and so her own catalog item, then in ``catalog/index.sqlite``), a public catalog item
that she marked as a favourite, an upload of hers announced and waiting for its body (its
reservation and its ``upload_waiting`` row), and a download charged to her.
"""

from __future__ import annotations

import re
import sqlite3
import time
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from terralab.catalog import index as index_module
from terralab.catalog.favourites import list_favourites
from terralab.catalog.index import CatalogIndex, default_index_path
from terralab.catalog.query import SearchQuery
from terralab.cli import cli
from terralab.mydata import store
from terralab.mydata.tables import my_data
from terralab.mydata.upload_jobs import upload_status
from terralab.platform_migrate import TABLE_MODULES, migrate, platform_tables
from terralab.platform_sql import dispose_engines, engine, metadata
from terralab.quotas.ledger import DOWNLOAD_BYTES, used

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "data" / "home_previous_release.zip"
UPLOAD = "small-2ba116d1af"  # what the previous release wrote
WAITING = "waiting-2e2eaf8470"
UPLOAD_BYTES = 13076


@pytest.fixture
def old_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The previous release's home, unpacked; TERRALAB_HOME points at it (SQLite default)."""
    home = tmp_path / "home"
    with zipfile.ZipFile(FIXTURE) as archive:
        archive.extractall(home)
    monkeypatch.setenv("TERRALAB_HOME", str(home))
    for name in ("TERRALAB_PLATFORM_DB_URL", "TERRALAB_SERVICE_URL", "JUPYTERHUB_API_TOKEN",
                 "TERRALAB_STORAGE_QUOTA", "TERRALAB_STORAGE_QUOTA_USERS"):
        monkeypatch.delenv(name, raising=False)
    yield home
    dispose_engines()


def users_rows_in_index(home: Path) -> int:
    """Users' rows in the index file (schema 2, which the file is upgraded to, has none)."""
    with sqlite3.connect(default_index_path(home)) as db:
        if db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] == 2:
            return 0
        return db.execute("SELECT count(*) FROM items WHERE owner != ''").fetchone()[0]


def assert_previous_state(home: Path) -> None:
    """Everything the previous release wrote is there, read through today's functions."""
    records = store.list_records("alice", home=home)
    assert [(r.id, r.title, r.bytes) for r in records] == [(UPLOAD, "Old field", UPLOAD_BYTES)]
    assert store.get_record("alice", UPLOAD, home=home).item["id"] == UPLOAD
    with engine(home).connect() as db:
        rows = {row.id: row for row in db.execute(sa.select(my_data))}
    assert (rows[UPLOAD].status, rows[WAITING].status) == ("ready", "uploading")
    assert rows[WAITING].bytes == 1234  # the waiting upload's reservation, until it is stale
    live = rows[WAITING].touched > time.time() - store.STALE_SECONDS
    assert store.storage_usage("alice", home=home).used == UPLOAD_BYTES + 1234 * live
    assert [item["id"] for item in list_favourites("alice", home=home)] == ["public-scene"]
    waiting = upload_status("alice", WAITING, home=home)
    assert (waiting["state"], waiting["name"]) == ("announced", "waiting.tif")
    assert used("alice", DOWNLOAD_BYTES, home=home) == 4321
    with CatalogIndex(default_index_path(home)) as index:
        assert [e["id"] for e in index.search(SearchQuery(owner="alice"))] == \
            [UPLOAD, "public-scene"]  # newest first
        assert index.count(SearchQuery(owner="alice", collections=("my-data",))) == 1
        assert [e["id"] for e in index.search(SearchQuery())] == ["public-scene"]
        assert [e["id"] for e in index.search(SearchQuery(owner="bob"))] == ["public-scene"]
        assert index.lookup(UPLOAD, owner="alice")[1] == "alice"
        assert index.get(UPLOAD) is None and index.get(UPLOAD, owner="bob") is None
        assert {c["id"]: c["count"] for c in index.collections(owner="alice")} == \
            {"demo-optical": 1, "my-data": 1}
        assert index.remove(UPLOAD, owner="bob") == 0


def test_the_previous_release_home_works_in_place(old_home: Path) -> None:
    assert users_rows_in_index(old_home) == 1
    with CatalogIndex(default_index_path(old_home)) as index:
        assert index.moved == 1  # alice's item went to the platform database
    assert users_rows_in_index(old_home) == 0
    with CatalogIndex(default_index_path(old_home)) as index:
        assert index.moved == 0
    assert_previous_state(old_home)
    with sqlite3.connect(old_home / "platform.db") as db:
        assert db.execute("SELECT owner, id FROM catalog_user_items").fetchall() == \
            [("alice", UPLOAD)]


def test_a_read_only_index_is_left_as_it_is(old_home: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that may not write the index (a user's server) moves nothing, sees the public."""
    monkeypatch.setattr(index_module.os, "access", lambda path, mode: False)
    with CatalogIndex(default_index_path(old_home)) as index:
        assert index.moved == 0
        assert [e["id"] for e in index.search(SearchQuery(owner="alice"))] == ["public-scene"]
    assert users_rows_in_index(old_home) == 1


def test_migrate_to_postgresql_copies_everything_once(
        old_home: Path, postgres_server, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("psycopg", reason="psycopg is missing: pip install -e '.[pgstac]'")
    from terralab.queue.tables import jobs

    url = postgres_server.create_database("migrate")
    job = {"id": "old-job", "owner": "alice", "tool": "ndvi", "kind": "processing",
           "params": "{}", "queue": "shared", "status": "succeeded", "submitted": 1.0}
    with engine(old_home).begin() as db:  # a job of the SQLite days
        db.execute(jobs.insert().values(seq=7, **job))
    report = migrate(url, home=old_home)
    assert report.source == old_home / "platform.db"
    assert report.moved_items == 1  # straight from the catalog index to PostgreSQL
    assert {name: count for name, count in report.copied.items() if count} == {
        "my_data": 2, "favourites": 1, "upload_waiting": 1, "quota_ledger": 1, "jobs": 1}
    assert users_rows_in_index(old_home) == 0
    assert "my_data: 2 copied, 0 already there" in str(report)

    again = migrate(url, home=old_home)
    assert not any(again.copied.values()) and again.moved_items == 0
    assert again.kept["my_data"] == 2

    (old_home / "platform.db").rename(old_home / "platform.db.bak")  # only PostgreSQL now
    monkeypatch.setenv("TERRALAB_PLATFORM_DB_URL", url)
    assert engine().dialect.name == "postgresql"
    assert_previous_state(old_home)
    with engine().begin() as db:  # the sequence goes on after the copied jobs
        db.execute(jobs.insert().values(**{**job, "id": "new-job"}))
        assert db.execute(sa.select(jobs.c.seq).where(jobs.c.id == "new-job")).scalar() > 7
    assert not (old_home / "platform.db").exists()


def test_the_migrate_command(old_home: Path, postgres_server) -> None:
    pytest.importorskip("psycopg", reason="psycopg is missing: pip install -e '.[pgstac]'")
    url = postgres_server.create_database("migrate_cli")
    result = CliRunner().invoke(cli, ["db", "migrate", "--to", url, "--home", str(old_home)])
    assert result.exit_code == 0, result.output
    assert "favourites: 1 copied" in result.output
    assert "users' catalog items moved from the catalog index: 1" in result.output
    refused = CliRunner().invoke(cli, ["db", "migrate", "--to",
                                       f"sqlite:///{old_home / 'platform.db'}",
                                       "--home", str(old_home)])
    assert refused.exit_code != 0 and "own platform database" in refused.output


def test_every_platform_table_is_migrated() -> None:
    declared = set()
    for path in (ROOT / "kernels_lib").rglob("*.py"):
        if re.search(r"sa\.Table\(", path.read_text()):
            name = ".".join(path.relative_to(ROOT / "kernels_lib").with_suffix("").parts)
            declared.add(f"terralab.{name}")
    assert declared - {"terralab.platform_sql"} <= set(TABLE_MODULES)
    names = {table.name for table in platform_tables()}
    assert {"my_data", "upload_waiting", "favourites", "catalog_user_items", "jobs",
            "quota_ledger"} <= names == set(metadata.tables)
