"""Uploads through the real hub (JupyterHub, configurable-http-proxy, the hub service):
a refused PUT does not poison the proxy (issue failure 10)."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.hub

MB = 1024**2


def _url(hub, path: str) -> str:
    return f"{hub.url}/services/terralab/{path}"


def _auth(hub, user: str) -> dict[str, str]:
    return {"Authorization": f"token {hub.token(user)}"}


def test_a_refused_put_does_not_break_other_users_requests(hub):
    """issue failure 10: a PUT refused before its body was read reset the proxy's
    connection (ECONNRESET) and other users' next requests got 503. Each refused PUT now
    gets its own answer and the requests right after it answer normally."""
    body = b"\0" * (8 * MB)
    others = [f"bystander{i}" for i in range(3)]
    for user in others:
        hub.token(user)
    announced = requests.post(_url(hub, "mydata/uploads"), headers=_auth(hub, "refused10"),
                              json={"name": "small.tif", "size": 1000}, timeout=30)
    assert announced.status_code == 201, announced.text
    refusals = [
        (announced.json()["put"], 400),            # more bytes than announced
        ("mydata/uploads/no-such-upload", 404),    # an id nobody announced
        (announced.json()["put"], 404),            # the refused upload is gone
    ]
    for path, status in refusals:
        with requests.Session() as session:
            response = session.put(_url(hub, path), data=body, timeout=60,
                                   headers=_auth(hub, "refused10"))
            assert response.status_code == status, (path, response.status_code,
                                                    response.text[:200])
        for _ in range(2):
            for user in others:
                answer = requests.get(_url(hub, "mydata/storage"), headers=_auth(hub, user),
                                      timeout=30)
                assert answer.status_code == 200, (path, user, answer.status_code,
                                                   answer.text[:200])
    storage = requests.get(_url(hub, "mydata/storage"), headers=_auth(hub, "refused10"),
                           timeout=30).json()
    assert storage["used"] == 0  # the refused upload's reservation is released
