"""Analysis projects in-process: create, list, open, rename, delete; layers checked against
my data and the catalog; every change saved at once; concurrent writers lose nothing."""

from __future__ import annotations

import json
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.transform import from_origin

import terralab.client.projects as projects
from terralab.catalog.index import CatalogIndex, default_index_path
from terralab.cli.projects import projects_group
from terralab.mydata.library import delete_item, get_item
from terralab.mydata.uploads import upload_file
from terralab.projects import Layer, Project, ProjectError, ProjectNotFound, store


def write_geotiff(path: Path, *, side: int = 1024, seed: int = 0) -> Path:
    """A small georeferenced RGB image in UTM 51N (Deqing), random but seeded."""
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 255, size=(3, side, side), dtype="uint8")
    profile = {"driver": "GTiff", "width": side, "height": side, "count": 3, "dtype": "uint8",
               "crs": "EPSG:32651", "transform": from_origin(220_000, 3_400_000, 0.5, 0.5),
               "compress": "deflate", "tiled": True, "blockxsize": 256, "blockysize": 256}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return path


def catalog_item(item_id: str, collection: str = "demo-s2") -> dict:
    return {"type": "Feature", "stac_version": "1.0.0", "id": item_id, "collection": collection,
            "geometry": {"type": "Polygon", "coordinates": [[[119.9, 30.5], [120.0, 30.5],
                                                             [120.0, 30.6], [119.9, 30.6],
                                                             [119.9, 30.5]]]},
            "bbox": [119.9, 30.5, 120.0, 30.6],
            "properties": {"datetime": "2024-06-01T02:50:00Z", "title": f"Scene {item_id}"},
            "assets": {"visual": {"href": "/nowhere/visual.tif", "type": "image/tiff"},
                       "B04": {"href": "/nowhere/B04.tif", "type": "image/tiff"}},
            "links": []}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty terralab home with two public catalog items; calls act for alice."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("TERRALAB_HOME", str(folder))
    monkeypatch.setenv("TERRALAB_USER", "alice")
    with CatalogIndex(default_index_path(folder)) as index:
        index.add_items([catalog_item("S2A_1"), catalog_item("S2B_2")])
        index.add_items([catalog_item("bob-private", "bobs")], owner="bob")
    return folder


@pytest.fixture
def upload(home: Path, tmp_path: Path):
    """alice's upload of a small GeoTIFF (a real my-data item)."""
    def make(title: str = "Field", seed: int = 0):
        path = write_geotiff(tmp_path / f"{title}.tif", seed=seed)
        return upload_file(path, owner="alice", title=title, home=home)
    return make


def on_disk(home: Path, project_id: str, owner: str = "alice") -> dict:
    path = home / "users" / owner / "projects" / project_id / "project.json"
    return json.loads(path.read_text())


def test_create_list_open_rename_delete(home: Path) -> None:
    first = projects.create("Flood study")
    second = projects.create("  Land cover 2024 ")
    assert isinstance(first, Project) and len(first.id) == 12
    assert second.name == "Land cover 2024"
    assert on_disk(home, first.id)["name"] == "Flood study"
    assert [p.id for p in projects.list()] == [second.id, first.id]   # newest change first
    first.set_basemap("osm")
    assert [p.id for p in projects.list_projects()] == [first.id, second.id]
    assert projects.open(first.id) == first
    assert projects.open("flood STUDY").id == first.id                # by name, any case
    renamed = projects.rename(first.id, "Flood study, June")
    assert renamed.name == "Flood study, June" == on_disk(home, first.id)["name"]
    projects.delete(first.id)
    assert not (home / "users" / "alice" / "projects" / first.id).exists()
    assert [p.id for p in projects.list()] == [second.id]
    with pytest.raises(ProjectNotFound, match="no project"):
        projects.open(first.id)
    with pytest.raises(KeyError):
        projects.delete(first.id)


def test_names_are_checked_and_unique_per_owner(home: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    project = projects.create("Crops")
    other = projects.create("Forest")
    for bad, message in (("", "needs a name"), ("   ", "needs a name"), ("x" * 121, "at most"),
                         ("a\nb", "control"), (42, "text")):
        with pytest.raises(ProjectError, match=message):
            projects.create(bad)
    with pytest.raises(ProjectError, match="already have a project named 'Crops'"):
        projects.create("CROPS")
    with pytest.raises(ProjectError, match="already have"):
        other.rename("crops")
    assert project.rename("CROPS").name == "CROPS"                   # its own name, new case
    assert projects.create("x" * 120).name == "x" * 120
    monkeypatch.setenv("TERRALAB_USER", "bob")                       # names are per owner
    assert projects.create("Crops").name == "Crops"


def test_every_change_is_saved_at_once(home: Path, upload) -> None:
    item = upload("Field")
    project = projects.create("Deqing")
    steps = [
        lambda p: p.add_layer("S2A_1", asset="visual"),
        lambda p: p.add_layer(item, opacity=0.5),
        lambda p: p.add_layer("S2B_2", collection="demo-s2", title="June", visible=False),
        lambda p: p.set_layer("S2B_2", visible=True, style={"bands": ["B04"], "rescale": [0, 1]}),
        lambda p: p.move_layer(item.id, 0),
        lambda p: p.set_view((30.55, 119.97), 12),
        lambda p: p.set_basemap("tianditu-img"),
        lambda p: p.remove_layer(-1),
        lambda p: p.rename("Deqing, June"),
    ]
    for step in steps:
        before = on_disk(home, project.id)
        assert step(project) is project
        saved = on_disk(home, project.id)
        assert saved != before and saved["modified"] > before["modified"]
        assert store.get_project("alice", project.id).to_dict() == project.to_dict()
    assert [(layer.ref, layer.source) for layer in project.layers] == [
        (item.id, "my-data"), ("S2A_1", "catalog")]
    field, scene = project.layers
    assert field.title == "Field" and field.opacity == 0.5 and field.collection == "my-data"
    assert scene.title == "Scene S2A_1" and scene.asset == "visual" and not scene.missing
    assert project.view == {"center": [30.55, 119.97], "zoom": 12}
    assert project.basemap == "tianditu-img" and project.name == "Deqing, June"
    assert "missing" not in on_disk(home, project.id)["layers"][0]   # only reported


def test_layer_refs_are_checked(home: Path, upload) -> None:
    project = projects.create("Checks")
    item = upload("Mine")
    with pytest.raises(ProjectError, match="no item 'nope' in my data or the catalog"):
        project.add_layer("nope")
    with pytest.raises(ProjectError, match="you have no item 'S2A_1' in my data"):
        project.add_layer("S2A_1", source="my-data")
    with pytest.raises(ProjectError, match="in the catalog"):
        project.add_layer(item.id, source="catalog", collection="demo-s2")
    with pytest.raises(ProjectError, match="no item 'bob-private'"):       # bob's own item
        project.add_layer("bob-private")
    with pytest.raises(ProjectError, match="no asset 'B99'; its assets: B04, visual"):
        project.add_layer("S2A_1", asset="B99")
    with pytest.raises(ProjectError, match="opacity"):
        project.add_layer("S2A_1", opacity=1.5)
    with pytest.raises(ProjectError, match="style"):
        project.add_layer("S2A_1", style={"f": object()})
    with pytest.raises(ProjectError, match="source"):
        project.add_layer("S2A_1", source="web")
    assert project.layers == [] and on_disk(home, project.id)["layers"] == []
    # items as tl returns them: a my-data record, a STAC dict / pystac item, a tool result
    project.add_layer(item).add_layer(catalog_item("S2A_1"))
    import pystac

    project.add_layer(pystac.Item.from_dict(catalog_item("S2B_2")), asset="B04")
    project.add_layer(type("Result", (), {"record": item})())              # already there
    assert [(layer.ref, layer.source) for layer in project.layers] == [
        (item.id, "my-data"), ("S2A_1", "catalog"), ("S2B_2", "catalog")]
    # the same scene with another asset is another layer; then the ref alone is ambiguous
    project.add_layer("S2B_2", asset="visual", index=0)
    assert [layer.asset for layer in project.layers] == ["visual", None, None, "B04"]
    with pytest.raises(ProjectError, match="2 layers of 'S2B_2'"):
        project.set_layer("S2B_2", opacity=0.3)
    project.set_layer(project.layers[3], opacity=0.3)
    assert project.layers[3].opacity == 0.3 and project.layers[0].opacity == 1.0


def test_layer_edits_by_index_ref_and_layer(home: Path) -> None:
    project = projects.create("Order")
    project.add_layer("S2A_1").add_layer("S2B_2")
    assert [layer.ref for layer in project.layers] == ["S2A_1", "S2B_2"]   # last on top
    project.move_layer("S2B_2", 0)
    assert [layer.ref for layer in project.layers] == ["S2B_2", "S2A_1"]
    project.move_layer(0, -1)
    assert [layer.ref for layer in project.layers] == ["S2A_1", "S2B_2"]
    with pytest.raises(ProjectError, match="no layer 5"):
        project.set_layer(5, visible=False)
    with pytest.raises(ProjectError, match="visible is true or false"):
        project.set_layer(0, visible="no")
    with pytest.raises(ProjectError, match="no layer of 'S2X'"):
        project.remove_layer("S2X")
    # another writer shifts the list: the stale handle's index is guarded by the ref
    other = projects.open(project.id)
    other.add_layer("S2B_2", asset="visual", index=0)
    project.set_layer(1, visible=False)                       # meant S2B_2, now at index 2
    saved = projects.open(project.id).layers
    assert [(layer.ref, layer.asset, layer.visible) for layer in saved] == [
        ("S2B_2", "visual", True), ("S2A_1", None, True), ("S2B_2", None, False)]
    project.remove_layer(project.layers[0])
    assert [layer.ref for layer in project.layers] == ["S2A_1", "S2B_2"]
    assert project.layer("S2A_1") == Layer("S2A_1", "catalog", "Scene S2A_1",
                                          collection="demo-s2")


def test_view_and_basemap_are_checked(home: Path) -> None:
    project = projects.create("View")
    with pytest.raises(ProjectError, match="latitude, longitude"):
        project.set_view((200, 30), 5)
    with pytest.raises(ProjectError, match="zoom"):
        project.set_view((30, 120), 99)
    with pytest.raises(ProjectError, match="basemap"):
        project.set_basemap("../../tiles")
    assert project.set_view((30, 120)).view == {"center": [30.0, 120.0], "zoom": None}
    assert project.set_view(None).view is None
    with pytest.raises(ProjectError, match="can be set"):
        store.update_project("alice", project.id, {"owner": "bob"})


def test_runs_and_results_for_the_job_system(home: Path, upload) -> None:
    project = projects.create("Runs")
    project.add_layer("S2A_1")
    store.add_run("alice", project.id, "job1")
    store.add_run("alice", project.id, "job2")
    store.add_run("alice", project.id, "job1")                             # idempotent
    assert project.runs == [] and project.refresh().runs == ["job1", "job2"]
    first, second = upload("NDVI", seed=1), upload("Water", seed=2)
    store.add_results("alice", project.id, "job1", [first.id])
    store.add_results("alice", project.id, "job1", [first.id, second.id])  # replaces
    store.add_results("alice", project.id, "job3", [second.id])            # run recorded too
    project.refresh()
    assert project.runs == ["job1", "job2", "job3"]
    assert project.results == [{"job": "job1", "items": [first.id, second.id]},
                               {"job": "job3", "items": [second.id]}]
    assert [(layer.ref, layer.title) for layer in project.layers] == [
        ("S2A_1", "Scene S2A_1"), (first.id, "NDVI"), (second.id, "Water")]  # results on top
    with pytest.raises(ProjectNotFound):
        store.add_run("alice", "0123456789ab", "job4")
    with pytest.raises(ProjectNotFound):
        store.add_results("bob", project.id, "job4", [first.id])
    with pytest.raises(ProjectError, match="job id"):
        store.add_run("alice", project.id, "../x")
    assert isinstance(store.get_project("alice", project.id), Project)


def _add_runs(home: str, project_id: str, prefix: str, count: int) -> None:
    for n in range(count):
        store.add_run("alice", project_id, f"{prefix}-{n}", home=Path(home))


def test_concurrent_writers_lose_nothing(home: Path) -> None:
    project = projects.create("Busy")
    threads = [threading.Thread(target=_add_runs, args=(str(home), project.id, f"t{i}", 15))
               for i in range(6)]
    layers = threading.Thread(target=lambda: [
        project.add_layer(ref).set_layer(ref, opacity=0.5).set_view((30, 120), z)
        for z, ref in enumerate(["S2A_1", "S2B_2"] * 5)])
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(3, mp_context=context) as pool:
        futures = [pool.submit(_add_runs, str(home), project.id, f"p{i}", 15) for i in range(3)]
        for thread in [*threads, layers]:
            thread.start()
        for thread in [*threads, layers]:
            thread.join()
        for future in futures:
            future.result()
    saved = on_disk(home, project.id)
    expected = {f"{kind}{i}-{n}" for kind, workers in (("t", 6), ("p", 3))
                for i in range(workers) for n in range(15)}
    assert len(saved["runs"]) == len(expected) and set(saved["runs"]) == expected
    assert sorted(layer["ref"] for layer in saved["layers"]) == ["S2A_1", "S2B_2"]
    assert not list((home / "users" / "alice" / "projects" / project.id).glob("*.tmp"))


def test_deleted_my_data_layer_is_marked_missing(home: Path, upload) -> None:
    item = upload("Gone soon")
    project = projects.create("Missing").add_layer(item).add_layer("S2A_1")
    delete_item("alice", item.id, home=home)
    reopened = projects.open(project.id)
    assert [(layer.ref, layer.missing) for layer in reopened.layers] == [
        (item.id, True), ("S2A_1", False)]
    assert [p.layers[0].missing for p in projects.list()] == [True]
    reopened.set_layer(item.id, visible=False).remove_layer(item.id)
    assert [layer.ref for layer in reopened.layers] == ["S2A_1"]


def test_deleting_a_project_keeps_my_data(home: Path, upload) -> None:
    item = upload("Keep me")
    project = projects.create("Temporary").add_layer(item)
    store.add_results("alice", project.id, "job1", [item.id])
    project.delete()
    assert get_item("alice", item.id, home=home).title == "Keep me"
    assert projects.list() == []


def test_another_users_project_is_not_reachable(home: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    mine = projects.create("Alice's")
    monkeypatch.setenv("TERRALAB_USER", "bob")
    assert projects.list() == []
    for call in (lambda: projects.open(mine.id), lambda: projects.open("Alice's"),
                 lambda: projects.rename(mine.id, "Bob's now"),
                 lambda: projects.delete(mine.id),
                 lambda: store.add_run("bob", mine.id, "job1")):
        with pytest.raises(ProjectNotFound):
            call()
    assert on_disk(home, mine.id)["name"] == "Alice's" and on_disk(home, mine.id)["runs"] == []


def test_paths_never_leave_the_users_folder(home: Path) -> None:
    project = projects.create("Safe")
    for bad_id in ("../../bob/projects/x", "..", "", "0123456789AB", project.id + "/.."):
        with pytest.raises(ProjectNotFound):
            store.get_project("alice", bad_id)
    for bad_owner in ("../alice", "", "a/b", ".."):
        with pytest.raises(ProjectError):
            store.list_projects(bad_owner)
    # a project folder that is a link into another user's projects is not followed
    bob = store.create_project("bob", "Bob's", home=home)
    link = home / "users" / "alice" / "projects" / "abcdefabcdef"
    link.symlink_to(home / "users" / "bob" / "projects" / bob.id)
    with pytest.raises(ProjectNotFound):
        store.get_project("alice", "abcdefabcdef")
    with pytest.raises(ProjectNotFound):
        store.add_run("alice", "abcdefabcdef", "job1")
    assert [p.id for p in projects.list()] == [project.id]
    assert on_disk(home, bob.id, owner="bob")["runs"] == []


def test_my_data_collection_name_matches() -> None:
    from terralab.mydata.items import COLLECTION
    from terralab.projects.model import MY_DATA

    assert MY_DATA == COLLECTION


def test_cli(home: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(projects_group, ["create", "From the shell"])
    assert made.exit_code == 0, made.output
    project_id = made.output.split()[-1]
    assert runner.invoke(projects_group, ["create", "from the SHELL"]).exit_code == 2
    listed = runner.invoke(projects_group, ["list"])
    assert project_id in listed.output and "From the shell" in listed.output
    renamed = runner.invoke(projects_group, ["rename", project_id, "Renamed"])
    assert renamed.exit_code == 0 and "Renamed" in renamed.output
    shown = runner.invoke(projects_group, ["show", "renamed"])
    assert json.loads(shown.output)["id"] == project_id
    as_json = json.loads(runner.invoke(projects_group, ["list", "--json"]).output)
    assert [p["name"] for p in as_json] == ["Renamed"]
    assert runner.invoke(projects_group, ["delete", "--yes", project_id]).exit_code == 0
    assert runner.invoke(projects_group, ["delete", "--yes", project_id]).exit_code == 2
    assert "no projects yet" in runner.invoke(projects_group, ["list"]).output
