"""``GET mydata/items/{item_id}/statistics`` through the real hub service: the route, the
handler, the client call and the OpenAPI entry all come from its one declaration; the
owner gets what the in-process call answers, everyone else a 404 like an unknown id."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import requests
from rasterio.transform import from_origin

from terralab.mydata.store import MyDataRecord
from terralab.mydata.uploads import upload_file
from terralab.service.error_table import NotFound
from terralab.service.http_client import ServiceClient
from terralab.service.local import LocalService

pytestmark = pytest.mark.hub

OWNER, OTHER = "statsowner", "statsother"  # plain users of this module only
PATH = "/mydata/items/{item_id}/statistics"


def api(hub, path: str) -> str:
    return f"{hub.url}/services/terralab/{path}"


def auth(hub, user: str) -> dict[str, str]:
    return {"Authorization": f"token {hub.token(user)}"}


def client(hub, user: str) -> ServiceClient:
    return ServiceClient(f"{hub.url}/services/terralab/", hub.token(user))


def statistics(hub, user: str, item_id: str, **params) -> requests.Response:
    return requests.get(api(hub, f"mydata/items/{item_id}/statistics"), params=params,
                        headers=auth(hub, user), timeout=60)


@pytest.fixture(scope="module")
def item(hub, tmp_path_factory: pytest.TempPathFactory) -> MyDataRecord:
    """OWNER's upload in the hub's home: 1024×1024, 3 bands of uint8, nodata 0 on top."""
    hub.token(OWNER)  # the hub knows the user
    data = np.random.default_rng(61).integers(1, 256, size=(3, 1024, 1024), dtype="uint8")
    data[:, :64] = 0
    path = tmp_path_factory.mktemp("stats-src") / "plot.tif"
    with rasterio.open(path, "w", driver="GTiff", width=1024, height=1024, count=3,
                       dtype="uint8", crs="EPSG:32651", nodata=0, tiled=True,
                       transform=from_origin(220_000, 3_400_000, 0.5, 0.5)) as dst:
        dst.write(data)
    return upload_file(path, owner=OWNER, title="Plot", home=hub.home)


def test_the_openapi_document_lists_it(hub):
    document = requests.get(api(hub, "openapi.json"), timeout=30).json()
    operation = document["paths"][PATH]["get"]
    assert operation["operationId"] == "mydata.statistics"
    assert [p["name"] for p in operation["parameters"]] == ["item_id", "bands", "bins"]
    assert {"200", "400", "401", "404"} <= set(operation["responses"])
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/ItemStatistics")
    assert "BandStatistics" in document["components"]["schemas"]


def test_the_owner_gets_the_in_process_answer(hub, item):
    response = statistics(hub, OWNER, item.id, bands=[3, 1], bins=8)
    assert response.status_code == 200, response.text
    answer = response.json()
    local = LocalService(home=hub.home, user=OWNER)
    assert answer == local.request("mydata.statistics", item_id=item.id, bands=[3, 1], bins=8)
    assert [band["band"] for band in answer["bands"]] == [3, 1]
    assert answer["approximate"] is False
    with rasterio.open(hub.home / "users" / OWNER / item.folder / "data.tif") as cog:
        first = cog.read(1)
    valid = first[first != 0]
    found = answer["bands"][1]
    assert found["count"] == valid.size == 1024 * 960  # nodata left out
    assert found["histogram"]["counts"] == np.histogram(valid, bins=8)[0].tolist()
    assert found["mean"] == pytest.approx(float(valid.mean()), rel=1e-9)
    # the HTTP client's call, from the same declaration
    assert client(hub, OWNER).request("mydata.statistics", item_id=item.id, bands=[2]) == \
        local.request("mydata.statistics", item_id=item.id, bands=[2])


def test_another_user_gets_404_like_an_unknown_id(hub, item):
    for user in (OTHER, "admin"):
        theirs = statistics(hub, user, item.id)
        unknown = statistics(hub, user, "no-such-item")
        assert theirs.status_code == unknown.status_code == 404, theirs.text
        assert theirs.json()["error"] == unknown.json()["error"] == "not_found"
        assert set(theirs.json()) == set(unknown.json())
        with pytest.raises(NotFound):
            client(hub, user).request("mydata.statistics", item_id=item.id)


def test_refusals_and_the_item_route_beside_it(hub, item):
    too_few = statistics(hub, OWNER, item.id, bins=1)
    assert too_few.status_code == 400 and too_few.json()["error"] == "bad_request"
    no_band = statistics(hub, OWNER, item.id, bands=9)
    assert no_band.status_code == 400 and no_band.json()["error"] == "mydata_refused"
    anonymous = requests.get(api(hub, f"mydata/items/{item.id}/statistics"), timeout=30)
    assert anonymous.status_code in (401, 403)
    # the hand-written route of the item itself still answers the item, not its statistics
    record = requests.get(api(hub, f"mydata/items/{item.id}"), headers=auth(hub, OWNER),
                          timeout=30)
    assert record.status_code == 200 and record.json()["id"] == item.id
    assert "bands" not in record.json()

