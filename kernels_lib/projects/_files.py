"""Project files on disk: where they live, locks, atomic writes.

Each project is a folder ``<TERRALAB_HOME>/users/<owner>/projects/<id>/`` holding
``project.json`` and a ``.lock`` file. A change takes an exclusive ``flock`` on the lock,
reads the document, changes it and writes it back through a temporary file and
``os.replace``: readers never see half a file (they need no lock), and two writers (the
user's kernel editing layers, a worker recording a run) never lose each other's update.
Creating and renaming also lock ``projects/.lock``, so names stay unique per owner.

Ids and owner names never leave the user's folder: an id is 12 lowercase hex digits,
the path is resolved and checked, and links are not followed (a user's server can write
in the user's folder; the hub service must not be led into another one through a link).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from terralab.home import user_dir
from terralab.projects.errors import ProjectError, ProjectNotFound

__all__ = ["DOCUMENT", "delete_folder", "is_project_id", "locked", "new_id", "project_folder",
           "projects_root", "read_document", "write_document"]

DOCUMENT = "project.json"
_LOCK = ".lock"
_ID = re.compile(r"^[0-9a-f]{12}$")
_FLAGS = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def new_id() -> str:
    """Return a new project id: 12 random hex digits."""
    return secrets.token_hex(6)


def is_project_id(value: Any) -> bool:
    """Return whether ``value`` has the form of a project id."""
    return isinstance(value, str) and bool(_ID.match(value))


def projects_root(owner: str, *, home: Path | None = None) -> Path:
    """Return ``<home>/users/<owner>/projects`` (not created).

    Raises:
        ProjectError: for an owner name that would leave the users folder, or a projects
            folder that is a link.
    """
    try:
        user = user_dir(owner, home=home)
    except ValueError as error:
        raise ProjectError(str(error)) from None
    root = user / "projects"
    if root.is_symlink():
        raise ProjectError(f"{root} is a link; projects must be a plain folder")
    return root


def project_folder(owner: str, project_id: str, *, home: Path | None = None) -> Path:
    """Return the folder of ``owner``'s project ``project_id``, checked to stay inside.

    Raises:
        ProjectNotFound: for an id that is not a project id or a folder that leads elsewhere.
    """
    if not is_project_id(project_id):
        raise ProjectNotFound(f"you have no project {project_id!r}")
    root = projects_root(owner, home=home)
    folder = root / project_id
    if folder.is_symlink() or folder.resolve().parent != root.resolve():
        raise ProjectNotFound(f"you have no project {project_id!r}")
    return folder


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``folder`` (its ``.lock`` file) inside the block.

    Raises:
        ProjectNotFound: when ``folder`` does not exist (a project deleted meanwhile).
    """
    try:
        fd = os.open(folder / _LOCK, os.O_RDWR | os.O_CREAT | _FLAGS, 0o600)
    except FileNotFoundError:
        raise ProjectNotFound(f"you have no project {folder.name!r}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def read_document(folder: Path) -> dict[str, Any]:
    """Return the project document in ``folder``.

    Raises:
        ProjectNotFound: when there is none (never created, or deleted).
        ProjectError: when it is damaged.
    """
    try:
        fd = os.open(folder / DOCUMENT, os.O_RDONLY | _FLAGS)
    except OSError:  # missing, or a link (ELOOP)
        raise ProjectNotFound(f"you have no project {folder.name!r}") from None
    with os.fdopen(fd, encoding="utf-8") as handle:
        try:
            data = json.load(handle)
        except ValueError as error:
            raise ProjectError(f"project {folder.name} is damaged ({error})") from None
    if not isinstance(data, dict) or data.get("id") != folder.name:
        raise ProjectError(f"project {folder.name} is damaged (not a project document)")
    return data


def write_document(folder: Path, data: dict[str, Any]) -> None:
    """Write the project document atomically (temporary file, fsync, ``os.replace``)."""
    fd, temporary = tempfile.mkstemp(prefix=".project-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, folder / DOCUMENT)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def delete_folder(folder: Path) -> None:
    """Remove a project folder: renamed away first (atomic for readers), then deleted."""
    import shutil

    trash = folder.with_name(f".deleted-{folder.name}-{secrets.token_hex(4)}")
    with locked(folder):
        if not (folder / DOCUMENT).exists():
            raise ProjectNotFound(f"you have no project {folder.name!r}")
        os.replace(folder, trash)
    shutil.rmtree(trash, ignore_errors=True)
