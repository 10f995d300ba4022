"""Quota holes: AI work a user's kernel could do without being charged."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.hub

USER = "qh-runner"


def _api(hub, path: str) -> str:
    return f"{hub.url}/services/terralab/{path}"


def _s1_item(hub) -> str:
    found = requests.post(_api(hub, "catalog/search"), timeout=60,
                          headers={"Authorization": f"token {hub.token('admin')}"},
                          json={"collections": ["sentinel-1-grd"], "limit": 1})
    found.raise_for_status()
    return found.json()["features"][0]["id"]


def test_tl_run_of_an_ai_tool_in_a_hub_kernel_is_queued_and_charged(hub, monkeypatch):
    """quota hole: ``tl.run`` of an AI tool in a hub kernel ran in-process, never charged.

    A kernel has the hub service's URL and the user's token in its environment (as the
    spawner sets them); there ``tl.run("sar_water", …)`` goes through the shared queue: a
    job of the user's appears, the result is in my data, and the AI seconds are charged.
    """
    import terralab as tl

    token = hub.token(USER)
    headers = {"Authorization": f"token {token}"}
    monkeypatch.setenv("TERRALAB_SERVICE_URL", f"{hub.url}/services/terralab/")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", token)
    monkeypatch.setenv("JUPYTERHUB_USER", USER)
    monkeypatch.setenv("TERRALAB_HOME", str(hub.home))  # as the spawner sets it
    before = requests.get(_api(hub, "quota"), headers=headers, timeout=30).json()
    assert before["ai_seconds_used"] == 0
    result = tl.run("sar_water", image=_s1_item(hub), title="hub water")
    jobs = requests.get(_api(hub, "jobs"), headers=headers, timeout=30).json()["jobs"]
    assert [(j["tool"], j["status"]) for j in jobs] == [("sar_water", "succeeded")], jobs
    assert result.record is not None and result.record.id in jobs[0]["results"]
    assert result.record.title == "hub water"
    after = requests.get(_api(hub, "quota"), headers=headers, timeout=30).json()
    assert 0 < after["ai_seconds_used"] <= jobs[0]["finished"] - jobs[0]["started"] + 1e-6
