"""The errors of the job queue, each with a message a user can act on."""

from __future__ import annotations

__all__ = ["JobError", "JobFailed", "JobLimitReached", "JobNotFound", "QueueNotAllowed"]


class JobError(RuntimeError):
    """A job request the queue refuses (bad tool, bad parameters, a closed queue …)."""


class JobNotFound(JobError, KeyError):  # noqa: N818 (reads as what happened)
    """No such job for this user (another user's job is reported the same way)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "no such job"


class QueueNotAllowed(JobError):  # noqa: N818 (reads as what happened)
    """The user may not submit to that queue (a dedicated queue of other groups)."""


class JobLimitReached(JobError):  # noqa: N818 (reads as what happened)
    """The user already has as many queued or running jobs as they may (the service: 429).

    Attributes:
        active: the user's queued and running jobs now.
        limit: how many the user may have.
    """

    def __init__(self, message: str, *, active: int = 0, limit: int = 0) -> None:
        super().__init__(message)
        self.active = active
        self.limit = limit


class JobFailed(JobError):  # noqa: N818 (reads as what happened)
    """A job waited on ended without results: failed or cancelled (the message says why)."""

    def __init__(self, message: str, *, job: object = None) -> None:
        super().__init__(message)
        self.job = job
