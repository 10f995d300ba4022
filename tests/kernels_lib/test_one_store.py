"""One store: with the platform database on PostgreSQL, no platform state stays in SQLite.

The acceptance test of the one store: with ``$TERRALAB_PLATFORM_DB_URL`` on PostgreSQL, a
user uploads a GeoTIFF, finds it in my data and in the catalog, marks a public item as a
favourite, downloads it, and reads the quota report; afterwards no ``platform.db`` exists
and no SQLite file under TERRALAB_HOME holds a platform table. In-process: the hub service's
handlers call the same store functions.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import numpy as np
import pytest
import rasterio
import sqlalchemy as sa
from rasterio.transform import from_origin
from shapely.geometry import box

from terralab.catalog.favourites import add_favourite, list_favourites
from terralab.catalog.index import CatalogIndex, default_index_path
from terralab.catalog.search import search
from terralab.catalog.user_items import catalog_user_items
from terralab.mydata.library import list_items
from terralab.mydata.store import storage_usage
from terralab.mydata.uploads import upload_file
from terralab.platform_migrate import platform_tables
from terralab.platform_sql import dispose_engines, engine
from terralab.quotas.downloads import download
from terralab.quotas.report import quota_report

SQLITE_HEADER = b"SQLite format 3\x00"
ALLOWED_SQLITE = ("catalog/index.sqlite",)
"""SQLite files that may exist under the home: the public catalog index (and GeoPackages of
vector data, which this test does not make)."""


def write_geotiff(path: Path, *, west: float = 220_000, north: float = 3_400_000) -> Path:
    """A 1024×1024 RGB image in UTM 51N that compresses to a few KB."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ramp = (np.arange(1024) // 256).astype("uint8") * 60 + 10
    data = np.stack([np.broadcast_to(ramp, (1024, 1024)),
                     np.broadcast_to(ramp[:, None], (1024, 1024)),
                     np.full((1024, 1024), 90, "uint8")])
    with rasterio.open(path, "w", driver="GTiff", width=1024, height=1024, count=3,
                       dtype="uint8", compress="deflate", tiled=True, crs="EPSG:32651",
                       transform=from_origin(west, north, 0.5, 0.5)) as dst:
        dst.write(data)
    return path


def sqlite_files(home: Path) -> dict[str, set[str]]:
    """Every SQLite file under ``home`` (by its header) and the tables it holds."""
    found = {}
    for path in sorted(home.rglob("*")):
        if not path.is_file():
            continue
        with path.open("rb") as handle:
            if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                continue
        bind = sa.create_engine(f"sqlite:///{path}?mode=ro", poolclass=sa.pool.NullPool)
        try:
            found[path.relative_to(home).as_posix()] = set(sa.inspect(bind).get_table_names())
        finally:
            bind.dispose()
    return found


@pytest.fixture
def pg_home(tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home whose platform database is the session's PostgreSQL."""
    pytest.importorskip("psycopg", reason="psycopg is missing: pip install -e '.[pgstac]'")
    home = tmp_path / "home"
    (home / "users").mkdir(parents=True)
    monkeypatch.setenv("TERRALAB_HOME", str(home))
    monkeypatch.setenv("TERRALAB_PLATFORM_DB_URL", postgres_url)
    for name in ("TERRALAB_SERVICE_URL", "JUPYTERHUB_API_TOKEN", "JUPYTERHUB_USER",
                 "TERRALAB_STORAGE_QUOTA", "TERRALAB_DOWNLOAD_QUOTA", "TERRALAB_CATALOG_SOURCE"):
        monkeypatch.delenv(name, raising=False)
    yield home
    dispose_engines()


def test_all_platform_state_goes_to_postgresql(pg_home: Path, tmp_path: Path) -> None:
    home, user = pg_home, f"one-{uuid.uuid4().hex[:8]}"
    assert engine().dialect.name == "postgresql"
    scene = write_geotiff(home / "catalog" / "scenes" / "scene.tif", west=221_000)
    public = {"type": "Feature", "stac_version": "1.0.0", "id": "scene-1",
              "collection": "demo-optical",
              "geometry": box(120.0, 30.0, 120.01, 30.01).__geo_interface__,
              "bbox": [120.0, 30.0, 120.01, 30.01],
              "properties": {"datetime": "2024-05-01T00:00:00Z"}, "links": [],
              "assets": {"data": {"href": str(scene), "roles": ["data"],
                                  "type": "image/tiff; application=geotiff"}}}
    with CatalogIndex(default_index_path(home)) as index:
        index.add_items([public])

    record = upload_file(write_geotiff(tmp_path / "field.tif"), owner=user, title="Field",
                         home=home)
    assert [(r.id, r.title) for r in list_items(user, home=home)] == [(record.id, "Field")]
    found = search(user=user, home=home)
    assert sorted(item.id for item in found) == sorted([record.id, "scene-1"])
    assert [item.id for item in search(user="someone-else", home=home)] == ["scene-1"]

    assert add_favourite(user, public, home=home) is True
    assert [item["id"] for item in list_favourites(user, home=home)] == ["scene-1"]
    assert [r.id for r in list_items(user, kind="favourite", home=home)] == ["scene-1"]
    files = download(public, tmp_path / "downloads", user=user, home=home)
    assert [path.name for path in files] == ["scene.tif"]

    report = quota_report(user, home=home, storage_used=storage_usage(user, home=home).used)
    assert report.storage_bytes_used == record.bytes > 0
    assert report.download_bytes_used == files[0].stat().st_size > 0

    with engine().connect() as db:  # the user's catalog item is a PostgreSQL row
        owners = db.execute(sa.select(catalog_user_items.c.owner)
                            .where(catalog_user_items.c.id == record.id)).scalars().all()
    assert owners == [user]

    assert not (home / "platform.db").exists()
    platform = {table.name for table in platform_tables()}
    files_found = sqlite_files(home)
    assert set(files_found) <= set(ALLOWED_SQLITE), files_found
    assert "catalog/index.sqlite" in files_found  # the walk finds SQLite files
    for name, tables in files_found.items():
        assert not tables & platform, f"{name} holds platform tables {tables & platform}"
    with CatalogIndex(default_index_path(home)) as index:  # and no user's row in the index
        columns = {row[1] for row in index._conn.execute("PRAGMA table_info(items)")}
        assert "owner" not in columns  # schema 2: the file holds public items only
        assert index._conn.execute("SELECT count(*) FROM items WHERE id = ?",
                                   (record.id,)).fetchone() == (0,)
        assert index.get(record.id) is None and index.get(record.id, owner=user) is not None


def test_storage_reservations_race_free_on_postgresql(pg_home: Path) -> None:
    """Eight uploads of 3 MB announced at once against 10 MB: exactly three are accepted."""
    from terralab.mydata import store, upload_jobs
    from terralab.mydata.errors import UploadError
    from terralab.mydata.limits import UploadLimits
    from terralab.mydata.uploads import abort_upload, start_upload
    from terralab.quotas.policy import StoragePolicy

    user, mb = f"race-{uuid.uuid4().hex[:8]}", 1024**2
    policy = StoragePolicy(default=10 * mb)
    results: list = []
    barrier = threading.Barrier(8)

    def announce(index: int) -> None:
        barrier.wait()
        try:
            results.append(start_upload(user, f"c{index}.tif", 3 * mb, policy=policy,
                                        home=pg_home))
        except UploadError as error:
            results.append(error)

    threads = [threading.Thread(target=announce, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted = [r for r in results if not isinstance(r, UploadError)]
    assert len(accepted) == 3 and len(results) == 8
    assert all(r.rule == "quota" for r in results if isinstance(r, UploadError))
    assert store.storage_usage(user, policy=policy, home=pg_home).used == 9 * mb

    waiting = upload_jobs.announce(accepted[0], UploadLimits())
    taken: list = []
    takers = [threading.Thread(target=lambda: taken.append(upload_jobs.take_for_body(
        user, waiting.pending.item_id, home=pg_home))) for _ in range(4)]
    for thread in takers:
        thread.start()
    for thread in takers:
        thread.join()
    assert sum(found is not None for found in taken) == 1  # one request gets the body
    upload_jobs.drop(waiting)
    for pending in accepted[1:]:
        abort_upload(pending)
    assert store.storage_usage(user, policy=policy, home=pg_home).used == 0


def test_readers_do_not_wait_for_a_writer_on_sqlite(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """My data, favourites and a user's search read a snapshot while a writer holds the lock."""
    from terralab.catalog.query import SearchQuery
    from terralab.mydata import store

    monkeypatch.delenv("TERRALAB_PLATFORM_DB_URL", raising=False)
    home = tmp_path / "home"
    index = CatalogIndex(default_index_path(home))
    index.add_items([{"type": "Feature", "stac_version": "1.0.0", "id": "mine",
                      "collection": "my-data", "geometry": box(0, 0, 1, 1).__geo_interface__,
                      "bbox": [0, 0, 1, 1], "properties": {"datetime": "2024-05-01T00:00:00Z"},
                      "links": [], "assets": {}}], owner="alice")
    try:
        with engine(home).begin() as writer:  # holds SQLite's write lock (BEGIN IMMEDIATE)
            writer.execute(sa.text("SELECT 1"))
            assert store.list_records("alice", home=home) == []
            assert store.storage_usage("alice", home=home).used == 0
            assert list_favourites("alice", home=home) == []
            assert [e["id"] for e in index.search(SearchQuery(owner="alice"))] == ["mine"]
    finally:
        index.close()
        dispose_engines()
