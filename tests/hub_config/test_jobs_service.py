"""The queue through the real hub: the service queues, the hub's worker pool runs the job, the
user follows it; another user cannot see, cancel or read it."""

from __future__ import annotations

import time

import pytest
import requests

from terralab.client.queue import JobsService
from terralab.queue.handle import Job
from terralab.service.http_client import ServiceClient
from tests.hub_config.test_mydata_service import api, auth, token

pytestmark = pytest.mark.hub


def _s2_item(hub) -> str:
    found = requests.post(api(hub, "catalog/search"), headers=auth(hub, "admin"), timeout=60,
                          json={"collections": ["sentinel-2-l2a"], "limit": 1})
    found.raise_for_status()
    return found.json()["features"][0]["id"]


@pytest.fixture(scope="module")
def ndvi_job(hub) -> dict:
    """An NDVI job of carol's, submitted over HTTP and run by the hub's workers."""
    made = requests.post(api(hub, "jobs"), headers=auth(hub, "carol"), timeout=60,
                         json={"tool": "index", "params": {"image": _s2_item(hub),
                                                           "index": "ndvi"},
                               "title": "hub ndvi"})
    assert made.status_code == 201, made.text
    job = made.json()
    assert job["status"] == "queued" and job["owner"] == "carol"
    deadline = time.monotonic() + 180
    while job["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.5)
        job = requests.get(api(hub, f"jobs/{job['id']}"), headers=auth(hub, "carol"),
                           timeout=30).json()
    return job


def test_the_hub_workers_run_a_queued_job_into_my_data(hub, ndvi_job):
    assert ndvi_job["status"] == "succeeded", ndvi_job["log"]
    [result] = ndvi_job["results"]
    item = requests.get(api(hub, f"mydata/items/{result}"), headers=auth(hub, "carol"),
                        timeout=30)
    assert item.status_code == 200 and item.json()["title"] == "hub ndvi"
    mine = requests.get(api(hub, "jobs"), headers=auth(hub, "carol"), timeout=30).json()
    assert [j["id"] for j in mine["jobs"]] == [ndvi_job["id"]]
    everybody = requests.get(api(hub, "jobs?all=1"), headers=auth(hub, "admin"), timeout=30)
    assert ndvi_job["id"] in [j["id"] for j in everybody.json()["jobs"]]  # admins see all
    queue = requests.get(api(hub, "queue"), headers=auth(hub, "admin"), timeout=30).json()
    assert queue["queues"]["shared"]["workers"] >= 1 and "workers" in queue


def test_another_user_cannot_see_cancel_or_read_the_job(hub, ndvi_job):
    bob = auth(hub, "bob")
    job_id, [result] = ndvi_job["id"], ndvi_job["results"]
    assert requests.get(api(hub, f"jobs/{job_id}"), headers=bob, timeout=30).status_code == 404
    for method, path in (("POST", f"jobs/{job_id}/cancel"), ("DELETE", f"jobs/{job_id}")):
        assert requests.request(method, api(hub, path), headers=bob, timeout=30,
                                json={}).status_code == 404
    assert requests.get(api(hub, "jobs"), headers=bob, timeout=30).json()["jobs"] == []
    assert requests.get(api(hub, "jobs?all=1"), headers=bob, timeout=30).status_code == 403
    for path in (f"mydata/items/{result}", f"mydata/items/{result}/download"):
        assert requests.get(api(hub, path), headers=bob, timeout=30).status_code == 404
    queue = requests.get(api(hub, "queue"), headers=bob, timeout=30).json()
    assert queue["jobs"] == [] and "workers" not in queue
    assert requests.get(api(hub, "jobs"), timeout=30).status_code in (401, 403)


def test_tools_endpoint_and_refusals(hub):
    admin = auth(hub, "admin")
    tools = requests.get(api(hub, "tools"), headers=admin, timeout=30).json()["tools"]
    index = next(t for t in tools if t["name"] == "index")
    assert index["kind"] == "processing" and "index" in index["parameters"]["properties"]
    one = requests.get(api(hub, "tools/reproject"), headers=admin, timeout=30).json()
    assert one["name"] == "reproject" and "parameters" in one
    # the platform's internal publishing tool is neither listed, shown nor submittable
    assert "publish_upload" not in {t["name"] for t in tools}
    assert requests.get(api(hub, "tools/publish_upload"), headers=admin,
                        timeout=30).status_code == 404
    for body, status, text in (
            ({"tool": "nope", "params": {}}, 400, "no tool 'nope'"),
            ({"tool": "publish_upload", "params": {}}, 400, "no tool 'publish_upload'"),
            ({"tool": "index", "params": {"index": "ndvi"}}, 400, "image"),
            ({"tool": "index", "params": {"image": "x.tif"}, "queue": "gpu"}, 403,
             "no queue 'gpu'"),
            ({"tool": "index"}, 201, None)):
        if status == 201:
            continue
        answer = requests.post(api(hub, "jobs"), headers=admin, timeout=30, json=body)
        assert answer.status_code == status and text in answer.json()["message"], answer.text


def test_tl_submit_goes_through_the_service_in_a_hub(hub, monkeypatch):
    import terralab as tl

    monkeypatch.setenv("TERRALAB_SERVICE_URL", f"{hub.url}/services/terralab/")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", token(hub, "bob"))
    job = tl.submit("index", image="missing.tif", index="ndvi")  # checked by the worker
    assert isinstance(job, Job) and job.record.owner == "bob"
    with pytest.raises(tl.queue.JobFailed, match=r"no item or file 'missing\.tif'"):
        job.wait(120)
    assert [j.id for j in tl.jobs()] == [job.id]
    service = JobsService(ServiceClient(f"{hub.url}/services/terralab/", token(hub, "bob")))
    assert service.get(job.id).status == "failed"
