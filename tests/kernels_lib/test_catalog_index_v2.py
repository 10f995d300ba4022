"""The compact catalog index (schema 2): an index of the previous schema is upgraded on open,
its searches give the same pages, every item comes back as the very text it was added as.

The fixture ``data/catalog_index_v1.zip`` was written by the release before (see
``data/make_index_v1.py``): 12 real items, 600 of the benchmark's synthetic archive and a few
awkward ones, with the ids of each page of a list of searches.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from terralab.catalog import _compact_rows as compact_rows
from terralab.catalog import index as index_module
from terralab.catalog.index import CatalogIndex
from tests.kernels_lib.data.make_index_v1 import query

FIXTURE = Path(__file__).parent / "data" / "catalog_index_v1.zip"


@pytest.fixture
def v1(tmp_path: Path) -> tuple[Path, list[dict[str, Any]], dict[str, str]]:
    """The schema-1 index unpacked; its recorded pages; each item's text as it holds it."""
    with zipfile.ZipFile(FIXTURE) as archive:
        archive.extractall(tmp_path / "catalog")
    path = tmp_path / "catalog" / "index.sqlite"
    with sqlite3.connect(path) as db:
        texts = dict(db.execute("SELECT i.id, b.body FROM items i JOIN bodies b "
                                "ON b.rowid = i.rowid"))
    db.close()
    pages = json.loads((tmp_path / "catalog" / "pages.json").read_text())
    return path, pages, texts


def assert_same_pages(index: CatalogIndex, pages: list[dict[str, Any]],
                      texts: dict[str, str]) -> None:
    for page in pages:
        found = index.search_json(query(page["search"]))
        assert [json.loads(text)["id"] for text in found] == page["ids"], page["search"]
        assert found == [texts[name] for name in page["ids"]]  # byte for byte
        assert index.count(query(page["search"])) == page["count"]


def schema(path: Path) -> tuple[int, set[str]]:
    with sqlite3.connect(path) as db:
        version = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0]
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master "
                                                  "WHERE type = 'table'")}
    db.close()
    return version, tables


def test_an_index_of_the_previous_schema_is_upgraded_on_open(v1) -> None:
    path, pages, texts = v1
    before = path.stat().st_size
    with CatalogIndex(path) as index:
        assert len(index) == len(texts) == 617
        assert_same_pages(index, pages, texts)
        for name, text in texts.items():
            assert index.get(name) == json.loads(text)
        assert {c["id"]: c["count"] for c in index.collections()} == \
            Counter(json.loads(text)["collection"] for text in texts.values())
    version, tables = schema(path)
    assert version == 2 and "bodies" not in tables and "items_v1" not in tables
    assert path.stat().st_size < before / 2
    with CatalogIndex(path) as index:  # opened again: nothing to do
        assert_same_pages(index, pages, texts)


def test_a_new_index_of_the_same_items_gives_the_same_pages(
        v1, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, pages, texts = v1
    with CatalogIndex(tmp_path / "fresh" / "index.sqlite") as index:
        index.add_items(json.loads(text) for text in texts.values())
        assert_same_pages(index, pages, texts)
        monkeypatch.setattr(index_module, "_PROBE", 1)  # the time index's scan, every time
        assert_same_pages(index, pages, texts)
        monkeypatch.undo()
        # added again (an upsert): still one row each, the same texts
        index.add_items(json.loads(text) for text in texts.values())
        assert len(index) == 617
        assert_same_pages(index, pages, texts)


def test_a_read_only_process_reads_an_upgraded_copy(v1,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path, pages, texts = v1
    monkeypatch.setattr(index_module.os, "access", lambda path, mode: False)
    with CatalogIndex(path) as index:
        assert_same_pages(index, pages, texts)
        copy = index._file
        assert copy != path and copy.exists()
    assert not copy.exists()
    assert schema(path)[0] == 1  # the file itself is left for a process that may write it


def test_removing_keeps_the_other_items_and_the_counts(v1) -> None:
    path, _, texts = v1
    with CatalogIndex(path) as index:
        assert index.remove(collection="sentinel-2-l2a") == 489
        assert index.remove("whole-numbers") == 1
        assert index.remove("whole-numbers") == 0
        left = {name for name, text in texts.items()
                if json.loads(text)["collection"] != "sentinel-2-l2a"} - {"whole-numbers"}
        assert {item["id"] for item in index.search(index_module.SearchQuery(limit=1000))} \
            == left
        counts = {c["id"]: c["count"] for c in index.collections()}
        assert "sentinel-2-l2a" not in counts and counts["awkward"] == 4
        for name in left:
            assert index.get(name) == json.loads(texts[name])


def test_two_processes_opening_it_at_once_upgrade_it_once(v1) -> None:
    """The second waits for the first's upgrade (one write transaction) and finds it done."""
    path, pages, texts = v1
    opened: list[CatalogIndex] = []
    errors: list[BaseException] = []

    def open_index() -> None:
        try:
            opened.append(CatalogIndex(path))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=open_index) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(opened) == 2
    for index in opened:
        assert_same_pages(index, pages, texts)
        index.close()
    assert schema(path)[0] == 2


def test_more_footprints_than_a_connection_keeps_decoded(v1, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The decoded footprints are dropped when there are too many; searches still work."""
    _, pages, texts = v1
    monkeypatch.setattr(compact_rows, "_CACHE", 7)
    with CatalogIndex(tmp_path / "small-cache" / "index.sqlite") as index:
        index.add_items(json.loads(text) for text in texts.values())
        assert_same_pages(index, pages, texts)
