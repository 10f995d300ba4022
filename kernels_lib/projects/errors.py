"""The errors of analysis projects: one base class, and "no such project"."""

from __future__ import annotations

__all__ = ["ProjectError", "ProjectNotFound"]


class ProjectError(ValueError):
    """A project operation that cannot be done (bad name, name taken, unknown layer…).

    The message says why, in words meant for the user.
    """


class ProjectNotFound(ProjectError, KeyError):  # noqa: N818 (the name the job system uses)
    """The user has no project with that id (or name).

    Another user's project is reported the same way: it is not visible, so it is not found.
    """

    def __str__(self) -> str:
        """The plain message (``KeyError`` would quote it)."""
        return str(self.args[0]) if self.args else ""
