"""The analysis-project endpoints of the terralab hub service (PRODUCT.md §3).

Every endpoint needs a hub login or API token and acts only on the caller's own projects
(``users/<caller>/projects/``); another user's project id is simply not found (404), for
admins too. Answers are project documents as :meth:`terralab.projects.Project.to_dict`
gives them (layers with their ``missing`` flag). Refusals are 400 with ``{"message"}``.

- ``GET projects``: ``{"projects": […]}``, most recently changed first.
- ``POST projects`` ``{"name"}``: a new empty project (201).
- ``GET projects/{id or name}``: one project.
- ``PATCH projects/{id}`` ``{"name"?, "view"?, "basemap"?}``: rename, save the map view or
  the basemap.
- ``DELETE projects/{id}``: ``{"deleted": id}``; the items of its layers and results stay.
- ``POST projects/{id}/layers`` ``{"ref", "source"?, "collection"?, "asset"?, "title"?,
  "visible"?, "opacity"?, "style"?, "index"?}``: add a layer (its item is checked; 201).
- ``PATCH projects/{id}/layers/{index}[?ref=&asset=]`` ``{"visible"?, "opacity"?,
  "style"?, "title"?, "index"?}``: change a layer, or move it to ``index``. ``ref`` (the
  layer's item id) and ``asset`` (empty = the default asset) guard against a list shifted
  meanwhile (a worker adding a result): the layer matching them is taken.
- ``DELETE projects/{id}/layers/{index}[?ref=&asset=]``: remove a layer.
- ``GET projects/{id}/runs``: ``{"runs": […]}``, the summaries of the project's jobs.
"""

from __future__ import annotations

from functools import partial
from http import HTTPStatus
from pathlib import Path
from typing import Any

from tornado import web

from terralab.hub.service import APIHandler

__all__ = ["projects_routes"]

_LAYER_KEYS = ("ref", "source", "collection", "asset", "title", "visible", "opacity", "style",
               "index")


class ProjectsHandler(APIHandler):
    """Shared parts: the data folder, JSON bodies, store calls off the IOLoop, errors."""

    def initialize(self, home: Path) -> None:
        """Keep the service's data folder."""
        self.home = Path(home)

    async def answer(self, function: Any, *args: Any, status: int = HTTPStatus.OK,
                  **kwargs: Any) -> None:
        """Call a store function for the caller (off the IOLoop) and answer its result.

        A :class:`~terralab.projects.Project` is answered as its document; a missing
        project is 404 and any other refusal 400, with the message.
        """
        from terralab.projects.errors import ProjectError, ProjectNotFound
        from terralab.projects.project import Project

        user = self.require_user()["name"]
        call = partial(function, user, *args, home=self.home, **kwargs)
        try:
            result = await self.blocking(call)
        except ProjectNotFound as error:
            raise web.HTTPError(HTTPStatus.NOT_FOUND, str(error)) from None
        except ProjectError as error:
            raise web.HTTPError(HTTPStatus.BAD_REQUEST, str(error)) from None
        if isinstance(result, Project):
            result = result.to_dict()
        elif isinstance(result, list):
            result = {"projects": [p.to_dict() if isinstance(p, Project) else p for p in result]}
        self.write_json(result, status)

    def which(self, index: str) -> dict[str, Any]:
        """The layer selector: the path's index, guarded by ``?ref=`` and ``?asset=``.

        ``asset`` empty means the item's default asset; absent, any asset.
        """
        which: dict[str, Any] = {"index": int(index)}
        ref = self.get_query_argument("ref", None)
        if ref:
            which["ref"] = ref
            asset = self.get_query_argument("asset", None)
            if asset is not None:
                which["asset"] = asset or None
        return which


class ProjectListHandler(ProjectsHandler):
    """``GET|POST projects``."""

    async def get(self) -> None:
        """List the caller's projects."""
        from terralab.projects.store import list_projects

        await self.answer(list_projects)

    async def post(self) -> None:
        """Create a project: body ``{"name": "…"}``."""
        from terralab.projects.store import create_project

        await self.answer(create_project, self.body_json().get("name"), status=HTTPStatus.CREATED)


class ProjectHandler(ProjectsHandler):
    """``GET|PATCH|DELETE projects/{id}``."""

    async def get(self, project_id: str) -> None:
        """Answer one project, by id or name."""
        from terralab.projects.store import find_project

        await self.answer(find_project, project_id)

    async def patch(self, project_id: str) -> None:
        """Set name, view and/or basemap."""
        from terralab.projects.store import update_project

        await self.answer(update_project, project_id, self.body_json())

    async def delete(self, project_id: str) -> None:
        """Delete the project (its items stay in my data)."""
        from terralab.projects.store import delete_project

        def deleted(owner: str, project_id: str, *, home: Path) -> dict[str, str]:
            delete_project(owner, project_id, home=home)
            return {"deleted": project_id}

        await self.answer(deleted, project_id)


class LayersHandler(ProjectsHandler):
    """``POST projects/{id}/layers``."""

    async def post(self, project_id: str) -> None:
        """Add a layer (its item is checked)."""
        from terralab.projects.store import add_layer

        body = self.body_json()
        unknown = set(body) - set(_LAYER_KEYS)
        if unknown or "ref" not in body:
            raise web.HTTPError(HTTPStatus.BAD_REQUEST,
                                f"send {{'ref': item id}} with any of {', '.join(_LAYER_KEYS)}"
                                + (f"; unknown: {', '.join(sorted(unknown))}" if unknown else ""))
        ref = body.pop("ref")
        await self.answer(add_layer, project_id, ref, status=HTTPStatus.CREATED, **body)


class LayerHandler(ProjectsHandler):
    """``PATCH|DELETE projects/{id}/layers/{index}[?ref=]``."""

    async def patch(self, project_id: str, index: str) -> None:
        """Change a layer's settings or move it."""
        from terralab.projects.store import change_layer

        await self.answer(change_layer, project_id, **self.which(index),
                          changes=self.body_json())

    async def delete(self, project_id: str, index: str) -> None:
        """Remove a layer."""
        from terralab.projects.store import remove_layer

        await self.answer(remove_layer, project_id, **self.which(index))


class RunsHandler(ProjectsHandler):
    """``GET projects/{id}/runs``."""

    async def get(self, project_id: str) -> None:
        """Answer the summaries of the project's jobs."""
        from terralab.projects.store import project_history

        def runs(owner: str, project_id: str, *, home: Path) -> dict[str, Any]:
            return {"runs": project_history(owner, project_id, home=home)}

        await self.answer(runs, project_id)


def projects_routes(prefix: str, home: Path) -> list[tuple[str, type, dict[str, Any]]]:
    """Return the project routes under the service ``prefix``, for the data folder ``home``."""
    base = prefix.rstrip("/") + "/projects"
    project = r"/([^/]+)"
    args = {"home": home}
    return [
        (base, ProjectListHandler, args),
        (base + project, ProjectHandler, args),
        (base + project + "/layers", LayersHandler, args),
        (base + project + r"/layers/(-?\d+)", LayerHandler, args),
        (base + project + "/runs", RunsHandler, args),
    ]
