"""Projects on disk, in this process: create, list, open, change, delete.

The in-process transport of ``tl.projects`` and what the hub service and the job system
call. Every change is one locked read-change-write of the project's file (see
:mod:`terralab.projects._files`), so it is saved at once and concurrent writers never lose
an update. For the job system:

- :func:`get_project` (raises :class:`ProjectNotFound`),
- :func:`add_run` when a job is submitted in a project (idempotent),
- :func:`add_results` when it finished: the job's result items, each also added as a layer
  on top (a result is saved in the project that ran it; idempotent per job).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from terralab.projects._files import (
    delete_folder,
    is_project_id,
    locked,
    new_id,
    project_folder,
    projects_root,
    read_document,
    write_document,
)
from terralab.projects.errors import ProjectError, ProjectNotFound
from terralab.projects.model import (
    ANY_ASSET,
    MY_DATA,
    check_basemap,
    check_job_id,
    check_layer_changes,
    check_name,
    check_view,
    layer_index,
    new_project,
    now,
    position,
)
from terralab.projects.project import Project
from terralab.projects.refs import checked_layer, missing_refs

__all__ = ["LocalBackend", "ProjectError", "ProjectNotFound", "add_layer", "add_results",
           "add_run", "change_layer", "create_project", "delete_project", "find_project",
           "get_project", "list_projects", "project_history", "remove_layer", "rename_project",
           "update_project"]

_log = logging.getLogger(__name__)


def _answer(owner: str, data: dict[str, Any], home: Path | None,
            gone: set[str] | None = None) -> Project:
    """Return the stored document as a Project, its my-data layers marked when missing.

    ``gone``: the my-data ids already known to be missing (else looked up).
    """
    if gone is None:
        gone = missing_refs(owner, data["layers"], home=home)
    data = {**data, "layers": [{**layer, "missing": layer["source"] == MY_DATA
                                and layer["ref"] in gone} for layer in data["layers"]]}
    return Project(data, LocalBackend(owner, home=home))


@contextmanager
def _changing(owner: str, project_id: str, home: Path | None) -> Iterator[dict[str, Any]]:
    """Lock the project, yield its document to change, then save it (if it changed)."""
    folder = project_folder(owner, project_id, home=home)
    with locked(folder):
        data = read_document(folder)
        before = json.dumps(data, sort_keys=True)
        yield data
        if json.dumps(data, sort_keys=True) != before:
            data["modified"] = now()
            write_document(folder, data)


def _documents(root: Path) -> Iterator[dict[str, Any]]:
    """Yield the documents of the projects under ``root`` (damaged ones are skipped)."""
    if not root.is_dir():
        return
    for folder in root.iterdir():
        if not is_project_id(folder.name) or folder.is_symlink() or not folder.is_dir():
            continue
        try:
            yield read_document(folder)
        except ProjectNotFound:
            continue  # being created or deleted
        except ProjectError as error:
            _log.warning("%s", error)


def _check_free(root: Path, name: str, *, other_than: str | None = None) -> None:
    """Refuse ``name`` when another project of the owner has it (ignoring case)."""
    key = name.casefold()
    for data in _documents(root):
        if data["id"] != other_than and str(data.get("name", "")).casefold() == key:
            raise ProjectError(f"you already have a project named {data['name']!r}")


def create_project(owner: str, name: str, *, home: Path | None = None) -> Project:
    """Create an empty project called ``name`` (unique among the owner's, ignoring case)."""
    name = check_name(name)
    root = projects_root(owner, home=home)
    root.mkdir(parents=True, exist_ok=True)
    with locked(root):
        _check_free(root, name)
        while True:
            project_id = new_id()
            try:
                (root / project_id).mkdir()
                break
            except FileExistsError:
                continue
        data = new_project(project_id, name, owner)
        write_document(root / project_id, data)
    return _answer(owner, data, home)


def list_projects(owner: str, *, home: Path | None = None) -> list[Project]:
    """Return the owner's projects, the most recently changed first."""
    documents = list(_documents(projects_root(owner, home=home)))
    documents.sort(key=lambda d: (d.get("modified", ""), d.get("created", ""), d["id"]),
                   reverse=True)
    gone = missing_refs(owner, [layer for data in documents for layer in data["layers"]],
                        home=home)
    return [_answer(owner, data, home, gone) for data in documents]


def get_project(owner: str, project_id: str, *, home: Path | None = None) -> Project:
    """Return ``owner``'s project ``project_id``.

    Raises:
        ProjectNotFound: when the owner has no such project.
    """
    return _answer(owner, read_document(project_folder(owner, project_id, home=home)), home)


def find_project(owner: str, id_or_name: str, *, home: Path | None = None) -> Project:
    """Return the owner's project with this id, else the one with this name (any case).

    Raises:
        ProjectNotFound: when neither matches.
    """
    if is_project_id(id_or_name):
        try:
            return get_project(owner, id_or_name, home=home)
        except ProjectNotFound:
            pass
    key = id_or_name.strip().casefold() if isinstance(id_or_name, str) else None
    for data in _documents(projects_root(owner, home=home)):
        if str(data.get("name", "")).casefold() == key:
            return _answer(owner, data, home)
    raise ProjectNotFound(f"you have no project {id_or_name!r}")


def update_project(owner: str, project_id: str, changes: dict[str, Any], *,
                   home: Path | None = None) -> Project:
    """Set the project's ``name``, ``view`` and/or ``basemap`` (the keys given).

    Raises:
        ProjectError: for an unknown key, a bad value or a name already taken.
        ProjectNotFound: when the owner has no such project.
    """
    unknown = set(changes) - {"name", "view", "basemap"}
    if unknown:
        raise ProjectError(f"a project's name, view and basemap can be set, not "
                           f"{', '.join(sorted(unknown))}")
    settings: dict[str, Any] = {}
    if "view" in changes:
        settings["view"] = check_view(changes["view"])
    if "basemap" in changes:
        settings["basemap"] = check_basemap(changes["basemap"])
    if "name" not in changes:
        with _changing(owner, project_id, home) as data:
            data.update(settings)
        return _answer(owner, data, home)
    settings["name"] = check_name(changes["name"])
    root = projects_root(owner, home=home)
    project_folder(owner, project_id, home=home)  # a bad id is not found, before any lock
    if not root.is_dir():
        raise ProjectNotFound(f"you have no project {project_id!r}")
    with locked(root):
        _check_free(root, settings["name"], other_than=project_id)
        with _changing(owner, project_id, home) as data:
            data.update(settings)
    return _answer(owner, data, home)


def rename_project(owner: str, project_id: str, name: str, *,
                   home: Path | None = None) -> Project:
    """Give the project a new name (unique among the owner's, ignoring case)."""
    return update_project(owner, project_id, {"name": name}, home=home)


def delete_project(owner: str, project_id: str, *, home: Path | None = None) -> None:
    """Delete the project's folder; the items of its layers and results are kept.

    Raises:
        ProjectNotFound: when the owner has no such project.
    """
    delete_folder(project_folder(owner, project_id, home=home))


def add_layer(owner: str, project_id: str, ref: str, *, source: str | None = None,
              collection: str | None = None, asset: str | None = None,
              title: str | None = None, visible: bool | None = None,
              opacity: float | None = None, style: dict[str, Any] | None = None,
              index: int | None = None, home: Path | None = None) -> Project:
    """Add a layer (checked: see :func:`terralab.projects.refs.checked_layer`).

    It goes on top, or at ``index`` as ``list.insert`` does. Adding an item (and asset)
    that is already a layer changes nothing, so a notebook cell can run again.
    """
    if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
        raise ProjectError(f"a layer index is an integer, not {index!r}")
    layer = checked_layer(owner, ref, source=source, collection=collection, asset=asset,
                          title=title, visible=visible, opacity=opacity, style=style, home=home)
    with _changing(owner, project_id, home) as data:
        layers = data["layers"]
        if not any(old["ref"] == layer["ref"] and old.get("asset") == layer["asset"]
                   for old in layers):
            layers.insert(len(layers) if index is None else index, layer)
    return _answer(owner, data, home)


def change_layer(owner: str, project_id: str, *, index: int | None = None,
                 ref: str | None = None, asset: Any = ANY_ASSET, changes: dict[str, Any],
                 home: Path | None = None) -> Project:
    """Change one layer (by ``index``, ``ref`` or both, see :func:`layer_index`).

    Args:
        owner: the owner.
        project_id: the project.
        index: the layer's position.
        ref: the layer's item id (with ``index``: a guard against a shifted list).
        asset: the layer's asset, when several layers show the same item.
        changes: any of ``title``, ``visible``, ``opacity``, ``style``, and ``index`` to
            move the layer to that position (0 = bottom, -1 = top).
        home: the terralab data folder.
    """
    unknown = set(changes) - {"title", "visible", "opacity", "style", "index"}
    if unknown:
        raise ProjectError(f"a layer's title, visible, opacity, style and index can be "
                           f"changed, not {', '.join(sorted(unknown))}")
    settings = check_layer_changes(**{k: v for k, v in changes.items() if k != "index"})
    target = changes.get("index")
    with _changing(owner, project_id, home) as data:
        layers = data["layers"]
        at = layer_index(layers, index=index, ref=ref, asset=asset)
        layers[at].update(settings)
        if target is not None:
            layers.insert(position(target, len(layers)), layers.pop(at))
    return _answer(owner, data, home)


def remove_layer(owner: str, project_id: str, *, index: int | None = None,
                 ref: str | None = None, asset: Any = ANY_ASSET,
                 home: Path | None = None) -> Project:
    """Remove one layer (by ``index``, ``ref`` and ``asset``, as :func:`change_layer`)."""
    with _changing(owner, project_id, home) as data:
        data["layers"].pop(layer_index(data["layers"], index=index, ref=ref, asset=asset))
    return _answer(owner, data, home)


def add_run(owner: str, project_id: str, job_id: str, *, home: Path | None = None) -> None:
    """Record that job ``job_id`` runs in the project (once, in submission order).

    Raises:
        ProjectNotFound: when the owner has no such project.
    """
    check_job_id(job_id)
    with _changing(owner, project_id, home) as data:
        if job_id not in data["runs"]:
            data["runs"].append(job_id)


def add_results(owner: str, project_id: str, job_id: str, item_ids: list[str], *,
                home: Path | None = None) -> None:
    """Record job ``job_id``'s result items and add each as a layer on top.

    Calling it again for the same job replaces that job's entry; items already among the
    layers are not added twice.

    Raises:
        ProjectNotFound: when the owner has no such project.
    """
    check_job_id(job_id)
    if not isinstance(item_ids, list | tuple) or not all(isinstance(i, str) and i
                                                         for i in item_ids):
        raise ProjectError("a job's results are a list of my-data ids")
    from terralab.mydata.store import get_record

    titles = {}
    for item_id in item_ids:
        record = get_record(owner, item_id, home=home)
        titles[item_id] = record.title if record is not None else item_id
    with _changing(owner, project_id, home) as data:
        if job_id not in data["runs"]:
            data["runs"].append(job_id)
        entry = {"job": job_id, "items": list(item_ids)}
        jobs = [result["job"] for result in data["results"]]
        if job_id in jobs:
            data["results"][jobs.index(job_id)] = entry
        else:
            data["results"].append(entry)
        present = {layer["ref"] for layer in data["layers"]}
        for item_id in dict.fromkeys(item_ids):
            if item_id not in present:
                data["layers"].append({"ref": item_id, "source": MY_DATA, "collection": MY_DATA,
                                       "asset": None, "title": titles[item_id], "visible": True,
                                       "opacity": 1.0, "style": {}})


def project_history(owner: str, project_id: str, *,
                    home: Path | None = None) -> list[dict[str, Any]]:
    """Return the summaries of the project's jobs, in submission order (from the queue)."""
    runs = read_document(project_folder(owner, project_id, home=home))["runs"]
    if not runs:
        return []
    from terralab.queue.store import get_jobs

    return get_jobs(owner, list(runs), home=home)


class LocalBackend:
    """The in-process transport of a :class:`Project`: reads and writes its file."""

    def __init__(self, owner: str, *, home: Path | None = None) -> None:
        self.owner = owner
        self.home = home

    def get(self, project_id: str) -> dict[str, Any]:
        """Return the project."""
        return get_project(self.owner, project_id, home=self.home).to_dict()

    def update(self, project_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Set name, view and/or basemap."""
        return update_project(self.owner, project_id, changes, home=self.home).to_dict()

    def add_layer(self, project_id: str, spec: dict[str, Any]) -> dict[str, Any]:
        """Add a layer."""
        return add_layer(self.owner, project_id, **spec, home=self.home).to_dict()

    def change_layer(self, project_id: str, which: dict[str, Any],
                     changes: dict[str, Any]) -> dict[str, Any]:
        """Change or move a layer."""
        return change_layer(self.owner, project_id, **which, changes=changes,
                            home=self.home).to_dict()

    def remove_layer(self, project_id: str, which: dict[str, Any]) -> dict[str, Any]:
        """Remove a layer."""
        return remove_layer(self.owner, project_id, **which, home=self.home).to_dict()

    def delete(self, project_id: str) -> None:
        """Delete the project."""
        delete_project(self.owner, project_id, home=self.home)

    def history(self, project_id: str) -> list[dict[str, Any]]:
        """Return the project's jobs."""
        return project_history(self.owner, project_id, home=self.home)
