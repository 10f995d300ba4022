"""The hub transport of the queue: jobs submitted to and read from the hub service.

Inside a terralab hub the service owns the queue: it checks the tool, the parameters, the
queue and the AI quota where the user cannot tamper with them, and the shared workers run
the job. The calls mirror :class:`terralab.queue.local.LocalJobs`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from terralab.queue.errors import JobError, JobLimitReached, JobNotFound, QueueNotAllowed
from terralab.queue.records import JobRecord
from terralab.service.http_client import ServiceClient, ServiceError

__all__ = ["JobsService"]


def _raise(error: ServiceError) -> None:
    """Turn the service's refusal into the error the in-process call raises."""
    reason = error.body.get("reason")
    if error.status == 404:
        raise JobNotFound(str(error)) from None
    if reason == "queue":
        raise QueueNotAllowed(str(error)) from None
    if reason == "jobs":
        raise JobLimitReached(str(error), active=int(error.body.get("active") or 0),
                              limit=int(error.body.get("limit") or 0)) from None
    if reason == "quota":
        from terralab.quotas.checks import QuotaExceeded

        raise QuotaExceeded.from_body(error.body) from None
    raise JobError(str(error)) from None


class JobsService:
    """Queue calls of the hub service, for one user's token."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return self.client.call(method, path, **kwargs).json()
        except ServiceError as error:
            _raise(error)

    def submit(self, tool: str, params: dict[str, Any], *, queue: str, project: str | None,
               title: str | None) -> JobRecord:
        """``POST jobs``."""
        body = {"tool": tool, "params": params, "queue": queue, "project": project,
                "title": title}
        return JobRecord.from_dict(self._call("POST", "jobs", json=body))

    def get(self, job_id: str) -> JobRecord:
        """``GET jobs/{id}``."""
        return JobRecord.from_dict(self._call("GET", f"jobs/{quote(job_id, safe='')}"))

    def list(self, *, status: str | None = None, everybody: bool = False,
             limit: int = 50) -> list[JobRecord]:
        """``GET jobs``."""
        params: dict[str, Any] = {"limit": limit}
        if status:
            params["status"] = status
        if everybody:
            params["all"] = "1"
        return [JobRecord.from_dict(job) for job in
                self._call("GET", "jobs", params=params)["jobs"]]

    def cancel(self, job_id: str) -> JobRecord:
        """``POST jobs/{id}/cancel``."""
        return JobRecord.from_dict(
            self._call("POST", f"jobs/{quote(job_id, safe='')}/cancel", json={}))

    def results(self, ids: list[str]) -> list[Any]:
        """The my-data records of a job's results."""
        from terralab.mydata.remote import MyDataService

        found = {record.id: record for record in
                 MyDataService(self.client).list(kind="result")}
        return [found[item_id] for item_id in ids if item_id in found]
