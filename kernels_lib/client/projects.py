"""The project calls of ``import terralab as tl`` (``tl.projects``), over either transport.

Inside a terralab hub every call goes to the hub service; without a hub (a plain notebook, a
script, the tests) the same declared operations (:mod:`terralab.service.endpoints.projects`)
run in this process against the local ``TERRALAB_HOME``, for the user
:func:`terralab.identity.current_user` names. Every call answers the whole project after the
change, so a :class:`~terralab.projects.Project` always shows what is saved.
"""

from __future__ import annotations

from typing import Any

from terralab.projects.errors import ProjectError, ProjectNotFound
from terralab.projects.model import Layer, check_name, layer_index
from terralab.projects.project import Project
from terralab.service.local import Transport, transport

__all__ = ["Layer", "Project", "ProjectError", "ProjectNotFound", "ProjectsService", "create",
           "delete", "list", "list_projects", "open", "rename"]


class ProjectsService:
    """The project calls over one transport (a :class:`~terralab.projects.ProjectBackend`).

    Args:
        service: the hub service's client, or :class:`terralab.service.local.LocalService`.
    """

    def __init__(self, service: Transport) -> None:
        self.service = service

    def project(self, data: dict[str, Any]) -> Project:
        """Wrap a project document."""
        return Project(data, self)

    def list(self) -> list[Project]:
        """The caller's projects, most recently changed first."""
        return [self.project(data)
                for data in self.service.request("projects.list")["projects"]]

    def create(self, name: str) -> Project:
        """Create an empty project."""
        return self.project(self.service.request("projects.create", name=name))

    def open(self, id_or_name: str) -> Project:
        """One project, by id or name."""
        return self.project(self.get(id_or_name))

    def get(self, project_id: str) -> dict[str, Any]:
        """The project document."""
        return self.service.request("projects.get", project_id=project_id)

    def update(self, project_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Set ``name``, ``view`` and/or ``basemap``."""
        return self.service.request("projects.update", project_id=project_id, **changes)

    def delete(self, project_id: str) -> None:
        """Delete the project."""
        self.service.request("projects.delete", project_id=project_id)

    def add_layer(self, project_id: str, spec: dict[str, Any]) -> dict[str, Any]:
        """Add a layer."""
        return self.service.request("projects.add_layer", project_id=project_id, **spec)

    def _target(self, project_id: str, which: dict[str, Any]) -> dict[str, Any]:
        """The layer's position and guard (``ref``, ``asset``: "" = the item's default)."""
        index = which.get("index")
        if index is None:  # only the ref is known: look it up on the saved project
            index = layer_index(self.get(project_id)["layers"], **which)
        target: dict[str, Any] = {"project_id": project_id, "layer": index}
        if which.get("ref") is not None:
            target["ref"] = which["ref"]
            if "asset" in which:
                target["asset"] = which["asset"] or ""
        return target

    def change_layer(self, project_id: str, which: dict[str, Any],
                     changes: dict[str, Any]) -> dict[str, Any]:
        """Change a layer's settings or move it."""
        return self.service.request("projects.change_layer",
                                    **self._target(project_id, which), **changes)

    def remove_layer(self, project_id: str, which: dict[str, Any]) -> dict[str, Any]:
        """Remove a layer."""
        return self.service.request("projects.remove_layer", **self._target(project_id, which))

    def history(self, project_id: str) -> list[dict[str, Any]]:
        """The project's jobs."""
        return self.service.request("projects.runs", project_id=project_id)["runs"]


def _projects() -> ProjectsService:
    return ProjectsService(transport())


def create(name: str) -> Project:
    """Create an empty analysis project, saved at once.

    Args:
        name: its name: 1 to 120 characters, unique among my projects (ignoring case).

    Raises:
        ProjectError: for a bad name or one already taken.
    """
    return _projects().create(check_name(name))


def list_projects() -> list[Project]:
    """Return my projects, the most recently changed first (also ``tl.projects.list()``)."""
    return _projects().list()


def open(id_or_name: str) -> Project:  # shadows the builtin here only: tl.projects.open
    """Open one of my projects by its id, or by its name (ignoring case).

    Raises:
        ProjectNotFound: when I have no such project.
    """
    return _projects().open(id_or_name)


def rename(project_id: str, name: str) -> Project:
    """Give one of my projects a new name (unique among mine, ignoring case)."""
    service = _projects()
    return service.project(service.update(project_id, {"name": check_name(name)}))


def delete(project_id: str) -> None:
    """Delete one of my projects.

    Its layers' items and its results stay in my data (they belong to my data, not to the
    project); only the project's own file is removed.

    Raises:
        ProjectNotFound: when I have no such project.
    """
    _projects().delete(project_id)


list = list_projects
