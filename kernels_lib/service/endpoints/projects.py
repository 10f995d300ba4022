"""The analysis-project endpoints (PRODUCT.md §3), declared once.

Every operation acts on the caller's own projects (``users/<caller>/projects/``); another
user's project id is simply not found (404), for admins too. Answers are project documents
(layers with their ``missing`` flag).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from terralab.projects import store
from terralab.projects.errors import ProjectError, ProjectNotFound
from terralab.service.endpoint import CallContext, Endpoint
from terralab.service.registry import declare

__all__ = ["LayerTarget", "ProjectDocument", "ProjectList"]

_ERRORS = (ProjectNotFound, ProjectError)


class ProjectDocument(BaseModel):
    """A project: its layers (bottom first), view, basemap, runs and results."""

    model_config = ConfigDict(extra="allow")
    id: str
    name: str
    owner: str
    created: str
    modified: str
    layers: list[dict[str, Any]]
    runs: list[str]
    results: list[Any]
    basemap: str | None = None
    view: dict[str, Any] | None = None


class ProjectList(BaseModel):
    """``GET projects``: most recently changed first."""

    projects: list[ProjectDocument]


class Deleted(BaseModel):
    """``DELETE projects/{id}``."""

    deleted: str


class Runs(BaseModel):
    """``GET projects/{id}/runs``: the summaries of the project's jobs."""

    runs: list[dict[str, Any]]


class NewProject(BaseModel):
    """``POST projects``."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="1 to 120 characters, unique among my projects")


class ProjectRef(BaseModel):
    """A project by id (or, for ``GET``, by name)."""

    model_config = ConfigDict(extra="forbid")
    project_id: str = Field(description="the project's id (GET also takes its name)")


class ProjectChanges(ProjectRef):
    """``PATCH projects/{id}``: the keys given are set."""

    name: str | None = None
    view: dict[str, Any] | None = Field(None, description='{"center": [lat, lon], "zoom": z}')
    basemap: str | None = None


class LayerSettings(BaseModel):
    """The settings of a layer that a change may set."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = None
    visible: bool | None = None
    opacity: float | None = Field(None, ge=0, le=1)
    style: dict[str, Any] | None = None
    index: int | None = Field(None, description="move the layer to this position")


class NewLayer(LayerSettings):
    """``POST projects/{id}/layers``: an item of my data or the catalog as a layer."""

    project_id: str
    ref: str = Field(description="the item's id")
    source: str | None = Field(None, description='"mydata" or "catalog" (default: found)')
    collection: str | None = None
    asset: str | None = None


class LayerTarget(BaseModel):
    """A layer by position, guarded by its item (``ref``, ``asset``: "" = the default)."""

    model_config = ConfigDict(extra="forbid")
    project_id: str
    layer: int = Field(description="the layer's position (negative counts from the top)")
    ref: str | None = Field(None, description="the layer's item id, if it must be this one")
    asset: str | None = Field(None, description='with ref: its asset ("" = the default)')

    def which(self) -> dict[str, Any]:
        """The selector of :func:`terralab.projects.store.change_layer`."""
        which: dict[str, Any] = {"index": self.layer}
        if self.ref:
            which["ref"] = self.ref
            if "asset" in self.model_fields_set and self.asset is not None:
                which["asset"] = self.asset or None
        return which


class LayerChange(LayerTarget, LayerSettings):
    """``PATCH projects/{id}/layers/{layer}``."""


def _list(context: CallContext, request: None) -> dict[str, Any]:
    return {"projects": store.list_projects(context.caller.name, home=context.home)}


def _create(context: CallContext, request: NewProject) -> Any:
    return store.create_project(context.caller.name, request.name, home=context.home)


def _get(context: CallContext, request: ProjectRef) -> Any:
    return store.find_project(context.caller.name, request.project_id, home=context.home)


def _update(context: CallContext, request: ProjectChanges) -> Any:
    changes = request.model_dump(include={"name", "view", "basemap"}, exclude_unset=True)
    return store.update_project(context.caller.name, request.project_id, changes,
                                home=context.home)


def _delete(context: CallContext, request: ProjectRef) -> Deleted:
    store.delete_project(context.caller.name, request.project_id, home=context.home)
    return Deleted(deleted=request.project_id)


def _add_layer(context: CallContext, request: NewLayer) -> Any:
    spec = request.model_dump(exclude={"project_id", "ref"}, exclude_unset=True)
    return store.add_layer(context.caller.name, request.project_id, request.ref,
                           home=context.home, **spec)


def _change_layer(context: CallContext, request: LayerChange) -> Any:
    changes = request.model_dump(include=set(LayerSettings.model_fields), exclude_unset=True)
    return store.change_layer(context.caller.name, request.project_id, **request.which(),
                              changes=changes, home=context.home)


def _remove_layer(context: CallContext, request: LayerTarget) -> Any:
    return store.remove_layer(context.caller.name, request.project_id, **request.which(),
                              home=context.home)


def _runs(context: CallContext, request: ProjectRef) -> Runs:
    return Runs(runs=store.project_history(context.caller.name, request.project_id,
                                           home=context.home))


_PROJECT = "projects/{project_id}"
_LAYER = _PROJECT + "/layers/{layer}"


def _declare(name: str, method: str, path: str, summary: str, **options: Any) -> None:
    declare(Endpoint(f"projects.{name}", method, path, summary, errors=_ERRORS,
                     refusal=ProjectError, **options))


_declare("list", "GET", "projects", "My projects, most recently changed first",
         call=_list, response=ProjectList)
_declare("create", "POST", "projects", "Create an empty project", call=_create,
         request=NewProject, response=ProjectDocument, status=HTTPStatus.CREATED)
_declare("get", "GET", _PROJECT, "One of my projects, by id or name", call=_get,
         request=ProjectRef, response=ProjectDocument)
_declare("update", "PATCH", _PROJECT, "Rename, save the view or the basemap", call=_update,
         request=ProjectChanges, response=ProjectDocument)
_declare("delete", "DELETE", _PROJECT, "Delete a project (its layers' items stay in my data)",
         call=_delete, request=ProjectRef, response=Deleted)
_declare("add_layer", "POST", _PROJECT + "/layers",
         "Add an item of my data or the catalog as a layer (on top)", call=_add_layer,
         request=NewLayer, response=ProjectDocument, status=HTTPStatus.CREATED)
_declare("change_layer", "PATCH", _LAYER, "Change a layer's settings or move it",
         call=_change_layer, request=LayerChange, response=ProjectDocument,
         query=("ref", "asset"))
_declare("remove_layer", "DELETE", _LAYER, "Remove a layer", call=_remove_layer,
         request=LayerTarget, response=ProjectDocument)
_declare("runs", "GET", _PROJECT + "/runs", "The project's jobs", call=_runs,
         request=ProjectRef, response=Runs)
