"""STAC API sources against a local server replaying the real items; the source registry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box

from terralab.catalog.index import CatalogIndex
from terralab.catalog.pgstac import PgstacSource
from terralab.catalog.query import SearchQuery
from terralab.catalog.sources import EmbeddedSource, get_source, source_names
from terralab.catalog.stac_api import PlanetaryComputerSigner, StacApiSource, is_sar_collection
from tests.kernels_lib.test_catalog_index import LANDSAT, NEWEST_FIRST, S1, S2
from tests.stac_replay import CONFORMANCE, StacReplay, real_items

TERRALAB_IDS = {"sentinel-1-grd": "sentinel-1-rtc"}
ALL = ("landsat-c2-l2", "sentinel-2-l2a", "sentinel-1-grd")


@pytest.fixture(scope="module")
def items(real_data: Path) -> list[dict[str, Any]]:
    return real_items(real_data / "stac_items")


@pytest.fixture
def replay(items: list[dict[str, Any]]) -> Iterator[StacReplay]:
    with StacReplay(items, page_size=5, max_limit=5) as server:
        yield server


def source(replay: StacReplay, **options: Any) -> StacApiSource:
    return StacApiSource(replay.url, name="replay", collection_ids=TERRALAB_IDS, **options)


def ids(found: list[dict[str, Any]]) -> list[str]:
    return [entry["id"] for entry in found]


def test_search_returns_real_items_with_real_cloud_cover(replay: StacReplay) -> None:
    found = source(replay).search(SearchQuery(collections=ALL, max_cloud=30))
    assert ids(found) == S2 + S1 + LANDSAT[2:]
    clouds = {e["id"]: e["properties"].get("eo:cloud_cover") for e in found}
    assert clouds[S2[0]] == 0.126773 and clouds[S2[3]] == 0.219774
    assert clouds[LANDSAT[2]] == 25.53 and clouds[LANDSAT[3]] == 25.41
    assert {e["collection"] for e in found if e["id"] in S1} == {"sentinel-1-grd"}
    # the optical collections got a server-side CQL2 filter, the SAR one none
    by_group = {tuple(s["collections"]): s for s in replay.searches if "token" not in s}
    optical = by_group[("landsat-c2-l2", "sentinel-2-l2a")]
    assert optical["filter"] == {"op": "<=", "args": [{"property": "eo:cloud_cover"}, 30]}
    assert "filter" not in by_group[("sentinel-1-rtc",)]


def test_query_extension_when_the_api_lacks_filter(items: list[dict[str, Any]]) -> None:
    conformance = [c for c in CONFORMANCE if "filter" not in c and "cql2" not in c]
    with StacReplay(items, conformance=conformance) as replay:
        found = source(replay).search(SearchQuery(collections=ALL[:2], max_cloud=43))
        assert ids(found) == S2 + LANDSAT[1:]
        assert replay.searches[0]["query"] == {"eo:cloud_cover": {"lte": 43}}


def test_client_side_cloud_filter_without_collections(replay: StacReplay) -> None:
    found = source(replay).search(SearchQuery(max_cloud=0.5))
    assert ids(found) == [S2[0], S2[3], *S1]
    assert all("filter" not in s and "query" not in s for s in replay.searches)


def test_paging_follows_next_links(replay: StacReplay) -> None:
    api = source(replay)
    pages = [ids(api.search(SearchQuery(limit=4, offset=offset))) for offset in (0, 4, 8, 12)]
    assert [name for page in pages for name in page] == NEWEST_FIRST and pages[-1] == []
    assert any("token" in s for s in replay.searches)  # the 12 items span several pages


def test_area_and_dates(replay: StacReplay) -> None:
    api = source(replay)
    tasmania = SearchQuery(geometry=box(148, -44, 151, -40), max_cloud=50,
                           collections=("landsat-c2-l2",))
    assert ids(api.search(tasmania)) == LANDSAT[1:3]
    start = datetime(2024, 4, 19, 4, 59, 14, tzinfo=UTC)
    inside_interval = SearchQuery(start=start, end=start.replace(second=15))
    assert ids(api.search(inside_interval)) == S1[:1]
    assert api.search(SearchQuery(end=datetime(2024, 4, 1, tzinfo=UTC))) == []


def test_get_item_and_collections(replay: StacReplay) -> None:
    api = source(replay)
    found = api.get_item(S1[1], collection="sentinel-1-grd")
    assert found["id"] == S1[1] and found["collection"] == "sentinel-1-grd"
    assert api.get_item("missing") is None
    assert sorted(c["id"] for c in api.collections()) == list(sorted(ALL))


def test_asset_keys_renamed(replay: StacReplay) -> None:
    api = source(replay, asset_keys={"sentinel-2-l2a": {"B04": "red", "B08": "nir"}})
    found = api.search(SearchQuery(collections=("sentinel-2-l2a",), limit=1))[0]
    assert "red" in found["assets"] and "nir" in found["assets"] and "B04" not in found["assets"]
    assert found["assets"]["red"]["href"].endswith("_B04_10m.tif")


def test_planetary_computer_signing(replay: StacReplay) -> None:
    token_url = replay.url + "/token/{collection}"
    api = source(replay, signing="planetary-computer", token_url=token_url)
    found = api.search(SearchQuery(collections=("landsat-c2-l2",), limit=2))
    red = found[0]["assets"]["red"]["href"]
    assert red.startswith("https://landsateuwest.blob.core.windows.net/")
    assert red.endswith(".TIF?se=2099&sp=rl&sig=fake-landsat-c2-l2-1")
    assert "sig=" not in found[0]["assets"]["rendered_preview"]["href"]  # not on blob storage
    api.search(SearchQuery(collections=ALL))
    assert replay.token_hits == {"landsat-c2-l2": 1, "sentinel-2-l2a": 1, "sentinel-1-rtc": 1}
    s1 = api.get_item(S1[0])
    assert s1["assets"]["vv"]["href"].endswith("?se=2099&sp=rl&sig=fake-sentinel-1-rtc-1")


def test_signer_renews_expired_tokens(replay: StacReplay) -> None:
    signer = PlanetaryComputerSigner(replay.url + "/token/{collection}", margin_s=7200)
    first = signer.sign_href("https://acct.blob.core.windows.net/c/x.tif", "demo")
    second = signer.sign_href("https://acct.blob.core.windows.net/c/x.tif?a=1", "demo")
    assert first.endswith("?se=2099&sp=rl&sig=fake-demo-1")
    assert second.endswith("?a=1&se=2099&sp=rl&sig=fake-demo-2")  # renewed: within the margin
    assert signer.sign_href(first, "demo") == first  # already signed
    bad = PlanetaryComputerSigner(replay.url + "/nothing/{collection}")
    with pytest.raises(RuntimeError, match=r"no SAS token for 'demo'.*HTTP 404"):
        bad.token("demo")


def test_sar_names() -> None:
    assert is_sar_collection("sentinel-1-grd") and is_sar_collection("sentinel-1-rtc")
    assert is_sar_collection("gf3-sar") and not is_sar_collection("sentinel-2-l2a")


def test_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                  replay: StacReplay) -> None:
    embedded = get_source(home=tmp_path)
    assert isinstance(embedded, EmbeddedSource) and embedded.name == "embedded"
    assert embedded.index.path == tmp_path / "catalog" / "index.sqlite"
    embedded.index.close()
    pc = get_source("planetary-computer", home=tmp_path)
    assert isinstance(pc, StacApiSource) and isinstance(pc.signer, PlanetaryComputerSigner)
    assert pc.signer.token_url.startswith("https://planetarycomputer.microsoft.com/api/sas/")
    es = get_source("earth-search", home=tmp_path)
    assert es.url == "https://earth-search.aws.element84.com/v1" and es.signer is None
    assert es.asset_keys["sentinel-2-l2a"]["red"] == "B04"
    with pytest.raises(ValueError, match="unknown catalog source 'nope'; known sources: "
                                         "earth-search, embedded, planetary-computer"):
        get_source("nope", home=tmp_path)
    config = tmp_path / "catalog" / "sources.json"
    config.write_text(json.dumps({
        "mystac": {"type": "stac-api", "url": replay.url, "signing": None,
                   "collection_ids": TERRALAB_IDS},
        "pg": {"type": "pgstac", "dsn": "postgresql://nobody@127.0.0.1:1/none"},
        "broken": {"type": "ftp"}}))
    assert source_names(home=tmp_path) == ["broken", "earth-search", "embedded", "mystac", "pg",
                                           "planetary-computer"]
    monkeypatch.setenv("TERRALAB_CATALOG_SOURCE", "mystac")
    mystac = get_source(home=tmp_path)
    assert mystac.name == "mystac"
    assert ids(mystac.search(SearchQuery(collections=("sentinel-1-grd",)))) == S1
    assert isinstance(get_source("pg", home=tmp_path), PgstacSource)
    with pytest.raises(ValueError, match="'broken' has an unknown type 'ftp'"):
        get_source("broken", home=tmp_path)
    config.write_text("{not json")
    with pytest.raises(ValueError, match=r"sources\.json is not valid JSON"):
        get_source(home=tmp_path)


def test_embedded_source_owner(tmp_path: Path, items: list[dict[str, Any]]) -> None:
    index = CatalogIndex(tmp_path / "index.sqlite")
    index.add_items(items[:1], owner="alice")
    assert EmbeddedSource(index).get_item(LANDSAT[0]) is None
    alice = EmbeddedSource(index, owner="alice")
    assert alice.get_item(LANDSAT[0])["id"] == LANDSAT[0]
    assert [c["id"] for c in alice.collections()] == ["landsat-c2-l2"]
    assert ids(alice.search(SearchQuery(owner="alice"))) == [LANDSAT[0]]
    index.close()
