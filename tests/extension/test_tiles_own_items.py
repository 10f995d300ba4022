"""Tiles of a user's own items when the server cannot read the platform database.

On a deployment with PostgreSQL, the users' items are rows of the platform database, which a
user's Jupyter server is not given: its tile endpoint finds the public items in the catalog
index and asks the hub service for the user's own (``GET mydata/items/{id}``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from terralab.catalog.index import CatalogIndex
from terralab.extension.tiles import TileState
from terralab.mydata.uploads import upload_file
from terralab.service.local import LocalService
from terralab.tiles import TileNotFound, resolve_tile_source

OWNER = "tiles-owner"


def _upload(home: Path, folder: Path) -> str:
    data = np.random.default_rng(7).integers(1, 256, size=(3, 1024, 1024), dtype="uint8")
    path = folder / "field.tif"
    with rasterio.open(path, "w", driver="GTiff", width=1024, height=1024, count=3,
                       dtype="uint8", crs="EPSG:32651", tiled=True,
                       transform=from_origin(220_000, 3_400_000, 0.5, 0.5)) as dst:
        dst.write(data)
    return upload_file(path, owner=OWNER, title="Field", home=home).id


def _blind_index(tmp_path: Path) -> CatalogIndex:
    """An index whose platform database holds no user's items (what the server can read)."""
    other = tmp_path / "server-view"
    return CatalogIndex(other / "catalog" / "index.sqlite", home=other)


def test_an_own_item_the_index_cannot_see_is_found_through_the_service(tmp_path):
    home = tmp_path / "home"
    item_id = _upload(home, tmp_path)
    index = _blind_index(tmp_path)
    with pytest.raises(TileNotFound):
        resolve_tile_source(OWNER, item=item_id, home=home, index=index)
    service = LocalService(home=home, user=OWNER)

    def find_own(found_id: str, collection: str | None) -> tuple[dict, str]:
        record = service.request("mydata.get", item_id=found_id)
        return record["item"], record["owner"]

    source = resolve_tile_source(OWNER, item=item_id, home=home, index=index,
                                 find_own=find_own)
    assert source.owner == OWNER and len(source.bands) == 3
    assert all(band.path.is_relative_to(home / "users" / OWNER) for band in source.bands)
    # an answer naming another owner is not taken
    with pytest.raises(TileNotFound):
        resolve_tile_source("someone-else", item=item_id, home=home, index=index,
                            find_own=find_own)


def test_a_servers_tile_state_asks_the_hub_service(hub, tmp_path, monkeypatch):
    hub.token(OWNER)  # the hub knows the user
    item_id = _upload(hub.home, tmp_path)
    monkeypatch.setenv("TERRALAB_SERVICE_URL", f"{hub.url}/services/terralab/")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", hub.token(OWNER))
    state = TileState(home=tmp_path / "server-view", user=OWNER)
    item, owner = state.find_own(item_id, None)
    assert owner == OWNER and item["id"] == item_id
    assert state.find_own("no-such-item", None) is None
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", hub.token("tiles-other"))
    assert state.find_own(item_id, None) is None  # another user's item: not found
