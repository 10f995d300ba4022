"""The project calls of ``import terralab as tl`` (``tl.projects``), with two transports.

Inside a terralab hub (``TERRALAB_SERVICE_URL`` and ``JUPYTERHUB_API_TOKEN`` set by the
spawner) every call goes to the hub service; without a hub (a plain notebook, a script,
the tests) the same calls read and write the project files under the local
``TERRALAB_HOME``, for the user :func:`terralab.identity.current_user` names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from terralab.identity import current_user
from terralab.projects import store
from terralab.projects.model import check_name
from terralab.projects.project import Project

if TYPE_CHECKING:
    from terralab.projects.remote import ProjectsService

__all__ = ["create", "delete", "list_projects", "open", "rename"]


def _service() -> ProjectsService | None:
    from terralab.catalog.remote import service_client

    client = service_client()
    if client is None:
        return None
    from terralab.projects.remote import ProjectsService

    return ProjectsService(client)


def create(name: str) -> Project:
    """Create an empty analysis project, saved at once.

    Args:
        name: its name: 1 to 120 characters, unique among my projects (ignoring case).

    Raises:
        ProjectError: for a bad name or one already taken.
    """
    service = _service()
    if service is not None:
        return service.create(name)
    return store.create_project(current_user(), name)


def list_projects() -> list[Project]:
    """Return my projects, the most recently changed first (also ``tl.projects.list()``)."""
    service = _service()
    if service is not None:
        return service.list()
    return store.list_projects(current_user())


def open(id_or_name: str) -> Project:  # shadows the builtin here only: tl.projects.open
    """Open one of my projects by its id, or by its name (ignoring case).

    Raises:
        ProjectNotFound: when I have no such project.
    """
    service = _service()
    if service is not None:
        return service.open(id_or_name)
    return store.find_project(current_user(), id_or_name)


def rename(project_id: str, name: str) -> Project:
    """Give one of my projects a new name (unique among mine, ignoring case)."""
    service = _service()
    if service is not None:
        return service.project(service.update(project_id, {"name": check_name(name)}))
    return store.rename_project(current_user(), project_id, name)


def delete(project_id: str) -> None:
    """Delete one of my projects.

    Its layers' items and its results stay in my data (they belong to my data, not to the
    project); only the project's own file is removed.

    Raises:
        ProjectNotFound: when I have no such project.
    """
    service = _service()
    if service is not None:
        service.delete(project_id)
        return
    store.delete_project(current_user(), project_id)
