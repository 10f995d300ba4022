"""Shared material every user finds in their workspace: dashboards and tutorials.

The dashboards are linked read-only-by-convention into ``<workspace>/dashboards`` so every
user always sees the installed version; the tutorials are copied once into
``<workspace>/tutorials`` so users (and workshop attendees) may edit their own copy.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from terralab.home import checkout_root

__all__ = ["notebooks_root", "provision_workspace"]


def notebooks_root() -> Path:
    """Return the folder holding ``dashboards/`` and ``tutorials/`` of this installation.

    A source checkout uses its own ``notebooks/``; a wheel install uses the copy under
    ``<prefix>/share/terralab/notebooks``.

    Raises:
        FileNotFoundError: if neither exists.
    """
    root = checkout_root()
    candidates = [root / "notebooks"] if root else []
    candidates.append(Path(sys.prefix) / "share" / "terralab" / "notebooks")
    for candidate in candidates:
        if (candidate / "dashboards").is_dir():
            return candidate
    raise FileNotFoundError(f"terralab notebooks not found in any of {candidates}")


def provision_workspace(workspace: Path, *, owner: tuple[int, int] | None = None) -> None:
    """Give ``workspace`` the shared dashboards (linked) and tutorials (copied once).

    Args:
        workspace: the user's notebook folder; created if missing.
        owner: ``(uid, gid)`` to give the copied files to, when run as root.
    """
    source = notebooks_root()
    workspace.mkdir(parents=True, exist_ok=True)
    link = workspace / "dashboards"
    if link.is_symlink() and link.resolve() != (source / "dashboards").resolve():
        link.unlink()
    if not link.exists() and not link.is_symlink():
        link.symlink_to(source / "dashboards", target_is_directory=True)
    tutorials = workspace / "tutorials"
    if not tutorials.exists():
        shutil.copytree(source / "tutorials", tutorials)
        if owner is not None:
            for path in [tutorials, *tutorials.rglob("*")]:
                _chown(path, owner)
    if owner is not None:
        _chown(workspace, owner)


def _chown(path: Path, owner: tuple[int, int]) -> None:
    """Give ``path`` to ``owner`` without following symlinks."""
    os.chown(path, *owner, follow_symlinks=False)
