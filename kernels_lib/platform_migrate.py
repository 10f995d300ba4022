"""Move the platform state of a home from its SQLite file to PostgreSQL: ``terralab db migrate``.

A home run on the embedded default keeps its platform state in ``<TERRALAB_HOME>/platform.db``
(and, before the one store, users' own catalog items in ``catalog/index.sqlite``). To run
the same home on PostgreSQL (``c.TerralabHub.platform_db_url``), stop the hub and run once::

    terralab db migrate --to postgresql://terralab@db/terralab --home /srv/terralab

Every platform table (:data:`TABLE_MODULES` declare them) is created in the target and the
SQLite rows are copied into it; a row whose key the target already holds is left as it is,
so running the command again copies nothing twice. Users' rows still in the catalog index
go straight to the target. The SQLite file is not changed beyond what opening it with this
release does (new tables and columns); keep it as a backup or remove it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

import click
import sqlalchemy as sa

from terralab.catalog.index import CatalogIndex, default_index_path
from terralab.home import terralab_home
from terralab.platform_sql import engine, is_postgres, metadata, normalise_url, sqlite_path

__all__ = ["TABLE_MODULES", "MigrationReport", "db_group", "migrate", "platform_tables"]

TABLE_MODULES = ("terralab.queue.tables", "terralab.quotas.ledger", "terralab.quotas.accounts",
                 "terralab.mydata.tables", "terralab.catalog.favourites",
                 "terralab.catalog.user_items")
"""The modules that declare platform tables on :data:`terralab.platform_sql.metadata`."""

_BATCH = 500


def platform_tables() -> list[sa.Table]:
    """Return every platform table (importing the modules that declare them)."""
    for name in TABLE_MODULES:
        importlib.import_module(name)
    return list(metadata.sorted_tables)


@dataclass
class MigrationReport:
    """What :func:`migrate` did.

    Attributes:
        source: the SQLite file read (None when the home had none).
        copied: rows copied, by table.
        kept: rows the target already held (same key), by table.
        moved_items: users' catalog items moved from the catalog index.
    """

    source: Path | None
    copied: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    moved_items: int = 0

    def __str__(self) -> str:
        if self.source is None and not self.moved_items:
            return "no platform.db and no users' catalog items: nothing to copy"
        lines = [f"copied from {self.source}:" if self.source else "copied:"]
        for name in sorted(set(self.copied) | set(self.kept)):
            lines.append(f"  {name}: {self.copied.get(name, 0)} copied, "
                         f"{self.kept.get(name, 0)} already there")
        if self.moved_items:
            lines.append(f"  users' catalog items moved from the catalog index: "
                         f"{self.moved_items}")
        return "\n".join(lines)


def _insert_ignoring_duplicates(target: sa.Engine, table: sa.Table) -> sa.Insert:
    if is_postgres(target):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing()


def _count(db: sa.Connection, table: sa.Table) -> int:
    return int(db.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _copy_table(source: sa.Engine, target: sa.Engine, table: sa.Table) -> tuple[int, int]:
    """Copy ``table``'s rows; returns (copied, already there)."""
    with source.connect() as read:
        present = {column["name"] for column in sa.inspect(read).get_columns(table.name)} \
            if sa.inspect(read).has_table(table.name) else set()
        if not present:
            return 0, 0
        columns = [column for column in table.columns if column.name in present]
        given = _count(read, table)
        statement = _insert_ignoring_duplicates(target, table)
        with target.begin() as write:
            before = _count(write, table)
            result = read.execution_options(yield_per=_BATCH).execute(sa.select(*columns))
            for rows in result.partitions(_BATCH):
                write.execute(statement, [dict(row._mapping) for row in rows])
            copied = _count(write, table) - before
            serial = table.autoincrement_column
            if is_postgres(target) and serial is not None and copied:
                # the next new row must not reuse a copied key
                write.execute(sa.text(
                    f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                    f"(SELECT max({serial.name}) FROM {table.name}))"),
                    {"table": table.name, "column": serial.name})
    return copied, given - copied


def migrate(to: str, *, home: Path | None = None) -> MigrationReport:
    """Copy the platform state of ``home`` (its SQLite file) into the database ``to``.

    Idempotent: rows the target already holds (by key) are kept as they are.

    Args:
        to: the target database URL (``postgresql://…``).
        home: the terralab data folder; ``terralab_home()`` when omitted.

    Returns:
        What was copied.

    Raises:
        ValueError: when ``to`` is the home's own SQLite file.
    """
    home = Path(home or terralab_home())
    path = sqlite_path(home)
    url = normalise_url(to)
    tables = platform_tables()
    if url.startswith("sqlite") and Path(sa.make_url(url).database or "").resolve() \
            == path.resolve():
        raise ValueError(f"{to} is the home's own platform database")
    target = engine(url=url)
    report = MigrationReport(source=path if path.is_file() else None)
    if report.source is not None:
        source = engine(url=f"sqlite:///{path}")
        for table in tables:
            report.copied[table.name], report.kept[table.name] = _copy_table(source, target,
                                                                              table)
    index_path = default_index_path(home)
    if index_path.is_file():
        with CatalogIndex(index_path, home=home, platform=target) as index:
            report.moved_items = index.moved
    return report


@click.group("db")
def db_group() -> None:
    """The platform database (queue, quotas, my data, favourites, users' catalog items)."""


@db_group.command("migrate")
@click.option("--to", "to", required=True, metavar="URL",
              help="the target database, e.g. postgresql://terralab@db/terralab")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="the terralab data folder (default: $TERRALAB_HOME)")
def migrate_command(to: str, home: Path | None) -> None:
    """Copy a home's SQLite platform state into PostgreSQL (safe to run again)."""
    try:
        report = migrate(to, home=home)
    except (ValueError, sa.exc.SQLAlchemyError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(str(report))
    if report.source is not None:
        click.echo(f"{report.source} is no longer read once platform_db_url is set; keep it "
                   "as a backup or remove it")
