"""The hub transport of projects: the same calls, answered by the terralab hub service.

Inside a terralab hub every project call is an HTTP call to the service (endpoints in
:mod:`terralab.hub.projects_handlers`), which reads and writes the caller's own projects
only; the answers are the same project documents the in-process store returns.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from terralab.catalog.remote import ServiceClient, ServiceError
from terralab.projects.errors import ProjectError, ProjectNotFound
from terralab.projects.model import layer_index
from terralab.projects.project import Project

__all__ = ["ProjectsService"]


def _raise(error: ServiceError) -> None:
    """Turn the service's refusal into the error the in-process call would raise."""
    if error.status == 404:
        raise ProjectNotFound(str(error)) from None
    raise ProjectError(str(error)) from None


def _path(project_id: str, *rest: str) -> str:
    return "/".join(["projects", quote(project_id, safe=""), *rest])


class ProjectsService:
    """Project calls of the hub service, for one user's token (a :class:`ProjectBackend`)."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return self.client.call(method, path, **kwargs).json()
        except ServiceError as error:
            _raise(error)

    def project(self, data: dict[str, Any]) -> Project:
        """Wrap a project document answered by the service."""
        return Project(data, self)

    def list(self) -> list[Project]:
        """``GET projects``: the caller's projects, most recently changed first."""
        return [self.project(data) for data in self._call("GET", "projects")["projects"]]

    def create(self, name: str) -> Project:
        """``POST projects``."""
        return self.project(self._call("POST", "projects", json={"name": name}))

    def open(self, id_or_name: str) -> Project:
        """``GET projects/{id or name}``."""
        return self.project(self.get(id_or_name))

    def get(self, project_id: str) -> dict[str, Any]:
        """``GET projects/{id}``."""
        return self._call("GET", _path(project_id))

    def update(self, project_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """``PATCH projects/{id}`` with ``name``, ``view`` and/or ``basemap``."""
        return self._call("PATCH", _path(project_id), json=changes)

    def delete(self, project_id: str) -> None:
        """``DELETE projects/{id}``."""
        self._call("DELETE", _path(project_id))

    def add_layer(self, project_id: str, spec: dict[str, Any]) -> dict[str, Any]:
        """``POST projects/{id}/layers``."""
        return self._call("POST", _path(project_id, "layers"), json=spec)

    def _target(self, project_id: str, which: dict[str, Any]) -> tuple[str, dict[str, str]]:
        """The layer's path and guard (``ref``, ``asset``: "" = the item's default)."""
        index = which.get("index")
        if index is None:  # only the ref is known: look it up on the saved project
            index = layer_index(self.get(project_id)["layers"], **which)
        params = {}
        if which.get("ref") is not None:
            params["ref"] = which["ref"]
            if "asset" in which:
                params["asset"] = which["asset"] or ""
        return _path(project_id, "layers", str(index)), params

    def change_layer(self, project_id: str, which: dict[str, Any],
                     changes: dict[str, Any]) -> dict[str, Any]:
        """``PATCH projects/{id}/layers/{index}[?ref=&asset=]``."""
        path, params = self._target(project_id, which)
        return self._call("PATCH", path, json=changes, params=params)

    def remove_layer(self, project_id: str, which: dict[str, Any]) -> dict[str, Any]:
        """``DELETE projects/{id}/layers/{index}[?ref=&asset=]``."""
        path, params = self._target(project_id, which)
        return self._call("DELETE", path, params=params)

    def history(self, project_id: str) -> list[dict[str, Any]]:
        """``GET projects/{id}/runs``: the project's jobs."""
        return self._call("GET", _path(project_id, "runs"))["runs"]
