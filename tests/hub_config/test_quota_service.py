"""The quota endpoint and the download-quota gate of the hub service, behind the real hub."""

from __future__ import annotations

from datetime import datetime

import pytest
import requests

from terralab.client.quotas import QuotaService
from terralab.quotas import DOWNLOAD_BYTES, QuotaReport, charge
from terralab.quotas.downloads import downloaded_bytes
from terralab.service.http_client import ServiceClient

pytestmark = pytest.mark.hub

USER = "quinn"  # a plain user of this module only: its download quota gets used up here

def token(hub, user: str) -> str:
    """A token of ``user`` (a plain user the admin creates, unless admin or demo)."""
    return hub.token(user)


def quota(hub, caller: str, user: str | None = None) -> requests.Response:
    """``GET quota[?user=]`` as ``caller``."""
    response = requests.get(f"{hub.url}/services/terralab/quota",
                            params={"user": user} if user else None, timeout=60,
                            headers={"Authorization": f"token {token(hub, caller)}"})
    if response.status_code == 404 and "no user" not in response.text:
        pytest.fail("GET quota is not routed: add quota_routes to make_app (service.py)")
    return response


def test_quota_of_the_caller(hub) -> None:
    response = quota(hub, "admin")
    assert response.status_code == 200, response.text
    report = QuotaReport.from_dict(response.json())
    assert report.user == "admin"
    assert report.ai_seconds_limit == 10 * 3600 and report.download_bytes_limit == 100 * 1024**3
    assert report.storage_bytes_limit == 10 * 1024**2  # c.TerralabHub.storage_quota_users
    assert report.cycle_start <= datetime.now(report.resets.tzinfo) < report.resets
    # the hub's own creation time of the user is the registration
    model = requests.get(f"{hub.url}/hub/api/users/admin", timeout=30,
                         headers={"Authorization": f"token {hub.token('admin')}"}).json()
    assert report.registered == datetime.fromisoformat(model["created"])
    client = ServiceClient(f"{hub.url}/services/terralab/", token(hub, USER))
    assert QuotaService(client).quota().user == USER


def test_only_admins_see_another_users_quota(hub) -> None:
    assert quota(hub, USER).status_code == 200
    refused = quota(hub, USER, user="admin")
    assert refused.status_code == 403
    assert "only admins" in refused.json()["message"]
    client = ServiceClient(f"{hub.url}/services/terralab/", token(hub, USER))
    with pytest.raises(PermissionError, match="only admins"):
        QuotaService(client).quota("admin")
    allowed = quota(hub, "admin", user=USER)
    assert allowed.status_code == 200 and allowed.json()["user"] == USER
    assert quota(hub, "admin", user="nobody-of-this-hub").status_code == 404


def test_a_used_up_download_quota_refuses_before_the_first_byte(hub) -> None:
    auth = {"Authorization": f"token {token(hub, USER)}"}
    found = requests.post(f"{hub.url}/services/terralab/catalog/search", headers=auth,
                          timeout=60, json={"collections": ["sentinel-2-l2a"], "limit": 1})
    assert found.status_code == 200, found.text
    item = found.json()["features"][0]
    key = next(k for k, a in item["assets"].items() if a["href"].endswith(".tif"))
    url = f"{hub.url}/services/terralab/catalog/items/{item['id']}/download"
    assert requests.get(url, params={"asset": key}, headers=auth, timeout=60).status_code == 200
    used = downloaded_bytes(USER, home=hub.home)
    charge(None, kind=DOWNLOAD_BYTES, key="use-it-all-up", owner=USER,
           amount=100 * 1024**3 - used, home=hub.home)
    refused = requests.get(url, params={"asset": key}, headers=auth, timeout=60)
    assert refused.status_code == 429, refused.text
    body = refused.json()
    assert body["reason"] == "quota" and body["kind"] == DOWNLOAD_BYTES
    assert body["used"] == body["limit"] == 100 * 1024**3
    assert "download quota used up" in body["message"]
    assert f"resets on {body['resets'][:10]}" in body["message"]
    assert "Content-Disposition" not in refused.headers
    assert downloaded_bytes(USER, home=hub.home) == 100 * 1024**3
    # the client library raises the same error as in-process, with the reset date
    from terralab.client.catalog import CatalogClient as Client
    from terralab.quotas import QuotaExceeded

    client = Client(f"{hub.url}/services/terralab/", token(hub, USER))
    with pytest.raises(QuotaExceeded, match="download quota used up") as caught:
        client.download(item["id"], key, hub.home / "never")
    assert caught.value.kind == DOWNLOAD_BYTES and caught.value.resets is not None
    assert not (hub.home / "never").exists() or not any((hub.home / "never").iterdir())
