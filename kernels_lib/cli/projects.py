"""``terralab projects …``: my analysis projects from a shell.

The same calls as ``tl.projects``: through the hub service inside a terralab hub,
in-process otherwise (for ``$TERRALAB_USER`` or the login name).
"""

from __future__ import annotations

import json
import sys

import click

from terralab.projects.errors import ProjectError
from terralab.projects.project import Project

__all__ = ["projects_group"]


def _fail(error: Exception) -> None:
    click.echo(f"error: {error}", err=True)
    sys.exit(2)


def _line(project: Project) -> str:
    data = project.to_dict()
    return (f"{project.id}  {project.modified[:19].replace('T', ' ')}  "
            f"{len(data['layers']):>3} layers {len(data['runs']):>3} runs  {project.name}")


@click.group("projects")
def projects_group() -> None:
    """List, create, show, rename and delete my analysis projects."""


@projects_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the projects as JSON.")
def list_command(as_json: bool) -> None:
    """List my projects, the most recently changed first."""
    from terralab.client.projects import list_projects

    projects = list_projects()
    if as_json:
        click.echo(json.dumps([p.to_dict() for p in projects], indent=2, ensure_ascii=False))
        return
    for project in projects:
        click.echo(_line(project))
    if not projects:
        click.echo("no projects yet; create one with: terralab projects create NAME")


@projects_group.command("create")
@click.argument("name")
def create_command(name: str) -> None:
    """Create an empty project called NAME."""
    from terralab.client.projects import create

    try:
        project = create(name)
    except ProjectError as error:
        _fail(error)
    click.echo(f"created project {project.name!r} as {project.id}")


@projects_group.command("show")
@click.argument("project")
def show_command(project: str) -> None:
    """Print one project (by id or name) as JSON."""
    from terralab.client.projects import open as open_project

    try:
        found = open_project(project)
    except ProjectError as error:
        _fail(error)
    click.echo(json.dumps(found.to_dict(), indent=2, ensure_ascii=False))


@projects_group.command("rename")
@click.argument("project_id")
@click.argument("name")
def rename_command(project_id: str, name: str) -> None:
    """Rename the project PROJECT_ID to NAME."""
    from terralab.client.projects import rename

    try:
        project = rename(project_id, name)
    except ProjectError as error:
        _fail(error)
    click.echo(f"renamed {project.id} to {project.name!r}")


@projects_group.command("delete")
@click.argument("project_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_command(project_id: str, yes: bool) -> None:
    """Delete the project PROJECT_ID (its items stay in my data)."""
    from terralab.client.projects import delete

    if not yes:
        click.confirm(f"delete project {project_id}?", abort=True)
    try:
        delete(project_id)
    except ProjectError as error:
        _fail(error)
    click.echo(f"deleted project {project_id}")
