"""Analysis projects through the real hub service: the HTTP transport of ``tl.projects``
saves every change in the caller's own folder, and nobody else reaches a project."""

from __future__ import annotations

import json

import pytest
import requests

import terralab.client.projects as projects
from terralab.client.projects import ProjectsService
from terralab.projects import Project, ProjectError, ProjectNotFound
from terralab.service.http_client import ServiceClient

pytestmark = pytest.mark.hub


def token(hub, user: str) -> str:
    """A token of ``user`` (a plain user the admin creates, unless admin or demo)."""
    return hub.token(user)


def service(hub, user: str) -> ProjectsService:
    return ProjectsService(ServiceClient(f"{hub.url}/services/terralab/", token(hub, user)))


def api(hub, path: str) -> str:
    return f"{hub.url}/services/terralab/{path}"


def auth(hub, user: str) -> dict[str, str]:
    return {"Authorization": f"token {token(hub, user)}"}


def on_disk(hub, user: str, project_id: str) -> dict:
    path = hub.home / "users" / user / "projects" / project_id / "project.json"
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def scenes(hub) -> list[str]:
    """Two public items of the hub's demo catalog."""
    found = requests.post(api(hub, "catalog/search"), headers=auth(hub, "admin"), timeout=30,
                          json={"limit": 50}).json()["features"]
    ids = list(dict.fromkeys(item["id"] for item in found))
    assert len(ids) >= 2
    return ids[:2]


def test_projects_over_http_are_saved_at_once(hub, scenes):
    admin = service(hub, "admin")
    project = admin.create("Hub project")
    assert isinstance(project, Project) and on_disk(hub, "admin", project.id)["layers"] == []
    project.add_layer(scenes[0]).add_layer(scenes[1], opacity=0.4)
    assert [layer.ref for layer in project.layers] == scenes
    assert [layer["ref"] for layer in on_disk(hub, "admin", project.id)["layers"]] == scenes
    project.set_layer(scenes[1], visible=False, style={"colormap": "viridis"})
    project.move_layer(1, 0).set_view((30.55, 119.97), 11).set_basemap("osm")
    saved = on_disk(hub, "admin", project.id)
    assert [(layer["ref"], layer["visible"]) for layer in saved["layers"]] == [
        (scenes[1], False), (scenes[0], True)]
    assert saved["layers"][0]["style"] == {"colormap": "viridis"}
    assert saved["view"] == {"center": [30.55, 119.97], "zoom": 11}
    assert project.rename("Hub project, renamed").name == "Hub project, renamed"
    assert admin.open("hub project, RENAMED").to_dict() == project.to_dict()
    assert project.id in [p.id for p in admin.list()]
    project.remove_layer(scenes[1])
    assert [layer.ref for layer in project.layers] == [scenes[0]]
    assert project.history() == []
    with pytest.raises(ProjectError, match="no item 'nope'"):
        project.add_layer("nope")
    with pytest.raises(ProjectError, match="already have a project"):
        admin.create("HUB PROJECT, renamed")
    with pytest.raises(ProjectError, match="opacity"):  # the service checks too
        admin.change_layer(project.id, {"index": 0}, {"opacity": 3})
    project.delete()
    assert not (hub.home / "users" / "admin" / "projects" / project.id).exists()
    with pytest.raises(ProjectNotFound):
        admin.open(project.id)


def test_tl_projects_goes_through_the_service_inside_a_hub(hub, scenes, monkeypatch):
    monkeypatch.setenv("TERRALAB_SERVICE_URL", f"{hub.url}/services/terralab/")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", token(hub, "demo"))
    monkeypatch.setenv("TERRALAB_HOME", "/nonexistent/terralab-home")  # never touched
    project = projects.create("Demo's project").add_layer(scenes[0], title="Scene")
    assert on_disk(hub, "demo", project.id)["layers"][0]["title"] == "Scene"
    assert projects.rename(project.id, "Demo's").name == "Demo's"
    assert [p.name for p in projects.list()] == ["Demo's"]
    projects.delete(project.id)
    assert projects.list() == []


def test_bob_cannot_reach_admins_project(hub, scenes):
    project = service(hub, "admin").create("Admin only")
    base = f"projects/{project.id}"
    bob = auth(hub, "bob")
    calls = [("GET", base, None), ("GET", "projects/Admin only", None),
             ("PATCH", base, {"name": "Bob's now"}), ("DELETE", base, None),
             ("POST", base + "/layers", {"ref": scenes[0]}),
             ("PATCH", base + "/layers/0", {"visible": False}),
             ("DELETE", base + "/layers/0", None), ("GET", base + "/runs", None)]
    for method, path, body in calls:
        response = requests.request(method, api(hub, path), headers=bob, json=body, timeout=30)
        assert response.status_code == 404, (method, path, response.status_code)
    listing = requests.get(api(hub, "projects"), headers=bob, timeout=30)
    assert project.id not in [p["id"] for p in listing.json()["projects"]]
    with pytest.raises(ProjectNotFound):
        service(hub, "bob").open(project.id)
    anonymous = requests.get(api(hub, "projects"), timeout=30)
    assert anonymous.status_code == 401
    assert on_disk(hub, "admin", project.id)["name"] == "Admin only"
    project.delete()
