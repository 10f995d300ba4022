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

from terralab.areas.errors import AmbiguousAreaError, AreaError
from terralab.catalog.asset_policy import HrefRefusedError
from terralab.catalog.assets import AssetAccessError, AssetMissingError
from terralab.mydata.errors import MyDataError, UploadError, UploadRangeError
from terralab.projects.errors import ProjectError, ProjectNotFound
from terralab.queue.errors import JobError, JobLimitReached, JobNotFound, QueueNotAllowed
from terralab.quotas.checks import QuotaExceeded
from terralab.service.endpoint import RequestError
from terralab.service.errors import ErrorRule, ErrorTable
from terralab.tiles.errors import TileAccessError, TileNotFound, TileOutside, TileParameterError

__all__ = ["ERRORS", "MyDataNotFound", "NotFound", "ServiceUnavailable"]


class NotFound(LookupError):  # noqa: N818 (reads as what happened)
    """What the caller asked for does not exist for them (another user's is the same)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not found"


class MyDataNotFound(NotFound, MyDataError):  # noqa: N818 (a NotFound of my data)
    """One of my items or uploads that does not exist for me (another user's is the same).

    A :class:`~terralab.mydata.errors.MyDataError` too, as the store functions raise for an
    unknown item, so a caller catching that sees it on both transports.
    """


class ServiceUnavailable(ConnectionError):  # noqa: N818 (reads as what happened)
    """The hub service is not there for this server (no hub, or it does not answer)."""


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


# a refused upload's status by its rule (400 for the others): over the size limit or the
# quota 413; a received upload whose publish job my job limit (429) or the queue (503)
# cannot take
_UPLOAD_STATUSES = {"quota": HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    "size": HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    "jobs": HTTPStatus.TOO_MANY_REQUESTS, "queue": HTTPStatus.SERVICE_UNAVAILABLE}


def _upload_status(error: BaseException) -> int:
    return _UPLOAD_STATUSES.get(getattr(error, "rule", None), HTTPStatus.BAD_REQUEST)


def _upload_back(message: str, body: Mapping[str, Any]) -> UploadError:
    return UploadError(message, rule=str(body.get("rule") or "upload"),
                       layers=body.get("layers"))


def _range(error: BaseException) -> dict[str, Any]:
    assert isinstance(error, UploadRangeError)
    return {"received": error.received, "size": error.size}


def _range_back(message: str, body: Mapping[str, Any]) -> UploadRangeError:
    return UploadRangeError(message, received=int(body.get("received") or 0),
                            size=int(body.get("size") or 0))


def _candidate(candidate: Any) -> dict[str, Any] | str:
    """A JSON view of one candidate of an ambiguous area name."""
    to_dict = getattr(candidate, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    fields = getattr(candidate, "__dataclass_fields__", None)
    if fields:
        return {k: getattr(candidate, k) for k in fields
                if isinstance(getattr(candidate, k), str | int | float | None)}
    return candidate if isinstance(candidate, dict) else str(candidate)


def _candidates(error: BaseException) -> dict[str, Any]:
    assert isinstance(error, AmbiguousAreaError)
    return {"candidates": [_candidate(c) for c in error.candidates]}


def _candidates_back(message: str, body: Mapping[str, Any]) -> AmbiguousAreaError:
    return AmbiguousAreaError(message, body.get("candidates") or [])


def _outside(message: str, body: Mapping[str, Any]) -> TileOutside:
    return TileOutside(message)


ERRORS = ErrorTable([
    # requests and rights
    ErrorRule(RequestError, HTTPStatus.BAD_REQUEST, "bad_request"),
    ErrorRule(ServiceUnavailable, HTTPStatus.SERVICE_UNAVAILABLE, "service_unavailable"),
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
    # map tiles (the users' Jupyter servers answer them)
    ErrorRule(TileParameterError, HTTPStatus.BAD_REQUEST, "tile_parameters"),
    ErrorRule(TileAccessError, HTTPStatus.FORBIDDEN, "tile_forbidden"),
    ErrorRule(TileOutside, HTTPStatus.NOT_FOUND, "tile_outside", rebuild=_outside),
    ErrorRule(TileNotFound, HTTPStatus.NOT_FOUND, "tile_not_found"),
    # my data
    ErrorRule(MyDataNotFound, HTTPStatus.NOT_FOUND, "mydata_not_found"),
    ErrorRule(UploadError, HTTPStatus.BAD_REQUEST, "upload_refused", details=_upload,
              rebuild=_upload_back, status_for=_upload_status,
              also=tuple(sorted(set(_UPLOAD_STATUSES.values())))),
    ErrorRule(UploadRangeError, HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, "upload_range",
              details=_range, rebuild=_range_back),
    ErrorRule(MyDataError, HTTPStatus.BAD_REQUEST, "mydata_refused"),
    # the catalog: an item's file the caller may not read is as absent as a missing one
    ErrorRule(AreaError, HTTPStatus.BAD_REQUEST, "area_refused"),
    ErrorRule(AmbiguousAreaError, HTTPStatus.BAD_REQUEST, "area_ambiguous",
              details=_candidates, rebuild=_candidates_back),
    ErrorRule(AssetAccessError, HTTPStatus.NOT_FOUND, "asset_refused"),
    ErrorRule(AssetMissingError, HTTPStatus.NOT_FOUND, "asset_missing"),
    ErrorRule(HrefRefusedError, HTTPStatus.NOT_FOUND, "href_refused"),
])
