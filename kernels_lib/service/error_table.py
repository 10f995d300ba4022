"""The platform's one error table: which exception is which answer of the hub service.

The hub answers an exception an operation raises with its rule's status and body; the HTTP
client raises the same exception again from that body, so a call behaves the same in-process
and through the hub. An exception no rule covers is a 500 (a defect, never a refusal).
A new domain error gets one line here.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from terralab.mydata.errors import MyDataError, UploadError
from terralab.projects.errors import ProjectError, ProjectNotFound
from terralab.queue.errors import JobError, JobLimitReached, JobNotFound, QueueNotAllowed
from terralab.quotas.checks import QuotaExceeded
from terralab.service.endpoint import RequestError
from terralab.service.errors import ErrorRule, ErrorTable

__all__ = ["ERRORS", "NotFound"]


class NotFound(LookupError):  # noqa: N818 (reads as what happened)
    """What the caller asked for does not exist for them (another user's is the same)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not found"


def _quota(error: BaseException) -> dict[str, Any]:
    assert isinstance(error, QuotaExceeded)
    return {"kind": error.kind, "used": error.used, "limit": error.limit,
            "resets": error.resets.isoformat() if error.resets else None}


def _quota_back(message: str, body: Mapping[str, Any]) -> QuotaExceeded:
    return QuotaExceeded.from_body({**body, "message": message})


def _jobs(error: BaseException) -> dict[str, Any]:
    assert isinstance(error, JobLimitReached)
    return {"active": error.active, "limit": error.limit}


def _jobs_back(message: str, body: Mapping[str, Any]) -> JobLimitReached:
    return JobLimitReached(message, active=int(body.get("active") or 0),
                           limit=int(body.get("limit") or 0))


def _upload(error: BaseException) -> dict[str, Any]:
    assert isinstance(error, UploadError)
    return {"rule": error.rule, **({"layers": error.layers} if error.layers else {})}


def _upload_status(error: BaseException) -> int:
    too_big = getattr(error, "rule", None) in ("quota", "size")
    return HTTPStatus.REQUEST_ENTITY_TOO_LARGE if too_big else HTTPStatus.BAD_REQUEST


def _upload_back(message: str, body: Mapping[str, Any]) -> UploadError:
    return UploadError(message, rule=str(body.get("rule") or "upload"),
                       layers=body.get("layers"))


ERRORS = ErrorTable([
    # requests and rights
    ErrorRule(RequestError, HTTPStatus.BAD_REQUEST, "bad_request"),
    ErrorRule(PermissionError, HTTPStatus.FORBIDDEN, "forbidden"),
    ErrorRule(NotFound, HTTPStatus.NOT_FOUND, "not_found"),
    # quotas
    ErrorRule(QuotaExceeded, HTTPStatus.TOO_MANY_REQUESTS, "quota_exceeded", reason="quota",
              details=_quota, rebuild=_quota_back),
    # the queue
    ErrorRule(JobNotFound, HTTPStatus.NOT_FOUND, "job_not_found"),
    ErrorRule(JobLimitReached, HTTPStatus.TOO_MANY_REQUESTS, "job_limit", reason="jobs",
              details=_jobs, rebuild=_jobs_back),
    ErrorRule(QueueNotAllowed, HTTPStatus.FORBIDDEN, "queue_not_allowed", reason="queue"),
    ErrorRule(JobError, HTTPStatus.BAD_REQUEST, "job_refused"),
    # projects
    ErrorRule(ProjectNotFound, HTTPStatus.NOT_FOUND, "project_not_found"),
    ErrorRule(ProjectError, HTTPStatus.BAD_REQUEST, "project_refused"),
    # my data
    ErrorRule(UploadError, HTTPStatus.BAD_REQUEST, "upload_refused", details=_upload,
              rebuild=_upload_back, status_for=_upload_status),
    ErrorRule(MyDataError, HTTPStatus.BAD_REQUEST, "mydata_refused"),
])
