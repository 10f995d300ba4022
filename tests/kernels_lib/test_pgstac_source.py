"""The pgstac source against a real throwaway PostgreSQL cluster with the pgstac schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box

from terralab.catalog.query import SearchQuery
from terralab.catalog.sources import get_source
from tests.kernels_lib.test_catalog_index import LANDSAT, NEWEST_FIRST, S1, S2
from tests.postgres_server import PostgresServer
from tests.stac_replay import real_items

psycopg = pytest.importorskip("psycopg", reason="psycopg is missing: pip install -e '.[pgstac]'")
pytest.importorskip("pypgstac", reason="pypgstac is missing: pip install -e '.[pgstac]'")

from terralab.catalog.pgstac import PgstacSource, load_items, search_body  # noqa: E402


@pytest.fixture(scope="module")
def dsn(postgres_server: PostgresServer) -> str:
    """A fresh database on the session's PostgreSQL server, with pgstac migrated."""
    url = postgres_server.create_database("pgstac")
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT 1 FROM pg_available_extensions "
                        "WHERE name = 'postgis'").fetchone() is None:
            pytest.skip("PostGIS is not installed for this PostgreSQL: run `make postgres`")
    from pypgstac.db import PgstacDB
    from pypgstac.migrate import Migrate

    database = PgstacDB(dsn=url)
    Migrate(database).run_migration()
    database.close()
    return url


@pytest.fixture(scope="module")
def loaded(dsn: str, real_data: Path) -> PgstacSource:
    assert load_items(dsn, real_items(real_data / "stac_items")) == 12
    return PgstacSource(dsn)


def ids(found: list[dict[str, Any]]) -> list[str]:
    return [entry["id"] for entry in found]


def test_search_body() -> None:
    query = SearchQuery(geometry=box(0, 0, 1, 1), start=datetime(2024, 1, 1, tzinfo=UTC),
                        collections=("landsat-c2-l2",), max_cloud=20, limit=10, offset=5)
    body = search_body(query)
    assert body["limit"] == 15 and body["datetime"] == "2024-01-01T00:00:00Z/.."
    assert body["collections"] == ["landsat-c2-l2"]
    assert body["filter"]["args"][1] == {"op": "isNull",
                                         "args": [{"property": "eo:cloud_cover"}]}


def test_all_items_newest_first(loaded: PgstacSource) -> None:
    assert ids(loaded.search(SearchQuery())) == NEWEST_FIRST
    assert sorted(c["id"] for c in loaded.collections()) == [
        "landsat-c2-l2", "sentinel-1-rtc", "sentinel-2-l2a"]


def test_cloud_filter_keeps_sar(loaded: PgstacSource) -> None:
    found = loaded.search(SearchQuery(max_cloud=30))
    assert ids(found) == S2 + S1 + LANDSAT[2:]
    clouds = {e["id"]: e["properties"].get("eo:cloud_cover") for e in found}
    assert clouds[LANDSAT[2]] == 25.53 and clouds[S2[0]] == 0.126773
    assert all(clouds[name] is None for name in S1)


def test_area_dates_collections_paging(loaded: PgstacSource) -> None:
    tasmania = SearchQuery(geometry=box(148, -44, 151, -40), max_cloud=50)
    assert ids(loaded.search(tasmania)) == LANDSAT[1:3]
    start = datetime(2024, 4, 19, 4, 59, 14, tzinfo=UTC)
    assert ids(loaded.search(SearchQuery(start=start, end=start.replace(second=15)))) == S1[:1]
    assert ids(loaded.search(SearchQuery(collections=("landsat-c2-l2",)))) == LANDSAT
    pages = [ids(loaded.search(SearchQuery(limit=5, offset=n))) for n in (0, 5, 10)]
    assert [name for page in pages for name in page] == NEWEST_FIRST


def test_get_item_upsert_and_registry(loaded: PgstacSource, dsn: str, real_data: Path,
                                      tmp_path: Path) -> None:
    assert loaded.get_item(S1[2])["properties"]["sar:polarizations"] == ["VV", "VH"]
    assert loaded.get_item(S1[2], collection="landsat-c2-l2") is None
    changed = [e for e in real_items(real_data / "stac_items") if e["id"] == LANDSAT[0]]
    changed[0]["properties"]["eo:cloud_cover"] = 12.5
    assert load_items(dsn, changed) == 1
    assert LANDSAT[0] in ids(loaded.search(SearchQuery(max_cloud=20)))
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "sources.json").write_text(json.dumps(
        {"pg": {"type": "pgstac", "dsn": dsn}}))
    source = get_source("pg", home=tmp_path)
    assert source.name == "pg"
    assert ids(source.search(SearchQuery(collections=("sentinel-2-l2a",), limit=2))) == S2[:2]
    with pytest.raises(ValueError, match="has no collection"):
        load_items(dsn, [{**changed[0], "collection": None}])
