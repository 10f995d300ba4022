"""The queue endpoints of the terralab hub service (PRODUCT.md §6).

One tool definition drives everything (DESIGN.md): the tools' own parameter models answer
``GET tools`` and check ``POST jobs``.

The service is the only writer of the queue on a hub: it checks the tool, its parameters
(the tool's own parameter model), the queue (dedicated queues are bound to groups) and the
AI quota before a job is queued, where a user's server cannot tamper with them. Users see
and cancel their own jobs only; another user's job id is not found (404). Admins see the
whole queue.

- ``GET tools``: every registered tool's metadata and parameter schema; ``GET tools/{name}``.
- ``POST jobs`` ``{"tool", "params"[, "queue", "project", "title"]}``: 201 with the job;
  400 for a bad tool or parameters, 403 ``reason=queue`` for another group's queue, 429
  ``reason=quota`` (with ``resets``) when the AI time is used up, 429 ``reason=jobs`` (with
  ``active`` and ``limit``) when the user already has as many queued or running jobs as
  ``c.TerralabHub.job_limit`` allows.
- ``GET jobs[?status=&limit=&all=1]``: ``{"jobs": […]}``, newest first (``all``: admins).
- ``GET jobs/{id}``: the job, with its place in the queue (position, jobs ahead, workers
  busy) while it waits or runs.
- ``POST jobs/{id}/cancel`` (or ``DELETE jobs/{id}``): cancel it.
- ``GET queue``: the queues with their waiting and running jobs and live workers; admins
  also get every active job.
"""

from __future__ import annotations

import json
from functools import partial
from http import HTTPStatus
from typing import Any

from tornado import web

from terralab.hub.catalog_handlers import CatalogHandler, CatalogState

__all__ = ["jobs_routes"]


class JobsHandler(CatalogHandler):
    """Shared parts: the caller, the refusals of the queue as JSON."""

    def caller(self) -> tuple[str, tuple[str, ...], bool]:
        """The authenticated caller's name, groups and admin flag."""
        user = self.require_user()
        return user["name"], tuple(user.get("groups") or ()), bool(user.get("admin"))

    def refuse(self, error: Exception) -> None:
        """Answer a refusal of the queue with its status, message and reason."""
        from terralab.queue.errors import JobLimitReached, JobNotFound, QueueNotAllowed
        from terralab.quotas import QuotaExceeded

        body: dict[str, Any] = {"message": str(error)}
        if isinstance(error, JobNotFound):
            status = HTTPStatus.NOT_FOUND
        elif isinstance(error, JobLimitReached):
            status, body["reason"] = HTTPStatus.TOO_MANY_REQUESTS, "jobs"
            body.update(active=error.active, limit=error.limit)
        elif isinstance(error, QueueNotAllowed):
            status, body["reason"] = HTTPStatus.FORBIDDEN, "queue"
        elif isinstance(error, QuotaExceeded):
            status, body["reason"] = HTTPStatus.TOO_MANY_REQUESTS, "quota"
            body.update(kind=error.kind, used=error.used, limit=error.limit,
                        resets=error.resets.isoformat() if error.resets else None)
        else:
            status = HTTPStatus.BAD_REQUEST
        body["status"] = int(status)
        self.set_status(status)
        self.finish(json.dumps(body))

    async def run(self, function: Any) -> Any:
        """Run a queue call off the IOLoop; answer its refusal and return None."""
        from terralab.queue.errors import JobError
        from terralab.quotas import QuotaExceeded

        try:
            return await self.blocking(function)
        except (JobError, QuotaExceeded) as error:
            self.refuse(error)
            return None


class ToolsHandler(JobsHandler):
    """``GET tools`` and ``GET tools/{name}``."""

    def get(self, name: str | None = None) -> None:
        """Answer the registered tools with their parameter schemas."""
        from terralab.tools.registry import default_registry

        self.require_user()
        registry = default_registry()
        if name is not None:
            tool = registry.get(name) if name in registry else None  # internal ones: 404
            if tool is None:
                raise web.HTTPError(HTTPStatus.NOT_FOUND, f"no tool {name!r}")
            self.write_json({**tool.info.to_dict(), "parameters": tool.schema()})
            return
        self.write_json({"tools": [{**registry[n].info.to_dict(),
                                    "parameters": registry[n].schema()} for n in registry]})


class JobListHandler(JobsHandler):
    """``POST jobs`` (submit) and ``GET jobs`` (list)."""

    async def post(self) -> None:
        """Queue a job for the caller."""
        from terralab.hub.quota_handlers import registration
        from terralab.queue import store
        from terralab.tools.registry import default_registry

        user = self.require_user()
        name, groups, admin = self.caller()
        await registration(self, user, self.home)  # the quota month starts on that day
        body = self.body_json()
        tool, params = body.get("tool"), body.get("params", {})
        if not isinstance(tool, str) or not isinstance(params, dict):
            raise web.HTTPError(HTTPStatus.BAD_REQUEST,
                                'give {"tool": name, "params": {...}}')
        if tool not in default_registry():  # the platform's internal tools are not for users
            raise web.HTTPError(HTTPStatus.BAD_REQUEST, f"no tool {tool!r}; GET tools lists them")
        record = await self.run(partial(
            store.submit, name, tool, params, queue=body.get("queue") or "shared",
            project=body.get("project"), title=body.get("title"), groups=groups,
            admin=admin, home=self.home))
        if record is not None:
            self.write_json(record.to_dict(), status=HTTPStatus.CREATED)

    async def get(self) -> None:
        """The caller's jobs (everybody's for an admin asking ``all=1``)."""
        from terralab.queue import store

        name, _groups, admin = self.caller()
        everybody = self.get_query_argument("all", "") in {"1", "true", "yes"}
        if everybody and not admin:
            raise web.HTTPError(HTTPStatus.FORBIDDEN, "only admins see everybody's jobs")
        try:
            limit = max(1, min(1000, int(self.get_query_argument("limit", "50"))))
        except ValueError:
            raise web.HTTPError(HTTPStatus.BAD_REQUEST, "limit must be a number") from None
        records = await self.blocking(partial(
            store.list_jobs, owner=None if everybody else name,
            status=self.get_query_argument("status", None), limit=limit, home=self.home))
        self.write_json({"jobs": [record.to_dict() for record in records]})


class JobHandler(JobsHandler):
    """``GET jobs/{id}`` and ``DELETE jobs/{id}`` (cancel)."""

    async def get(self, job_id: str) -> None:
        """The job, with its place in the queue."""
        from terralab.queue import store

        name, _groups, admin = self.caller()
        record = await self.run(partial(store.get_job, job_id, owner=None if admin else name,
                                        with_standing=True, home=self.home))
        if record is not None:
            self.write_json(record.to_dict())

    async def delete(self, job_id: str) -> None:
        """Cancel the job."""
        await self.cancel(job_id)

    async def cancel(self, job_id: str) -> None:
        """Cancel the caller's job (any job for an admin)."""
        from terralab.queue import store

        name, _groups, admin = self.caller()
        record = await self.run(partial(store.cancel, job_id, owner=None if admin else name,
                                        home=self.home))
        if record is not None:
            self.write_json(record.to_dict())


class JobCancelHandler(JobHandler):
    """``POST jobs/{id}/cancel``."""

    async def post(self, job_id: str) -> None:
        """Cancel the job."""
        await self.cancel(job_id)


class QueueHandler(JobsHandler):
    """``GET queue``: the state of every queue; admins also get every active job."""

    async def get(self) -> None:
        """Waiting and running jobs and live workers per queue."""
        from terralab.queue import store
        from terralab.queue.queues import QueueConfig
        from terralab.queue.worker_rows import live_workers

        name, groups, admin = self.caller()

        def gather() -> dict[str, Any]:
            active = store.list_jobs(status=("queued", "running"), limit=10000,
                                     newest_first=False, home=self.home)
            alive = live_workers(home=self.home)
            queues = {}
            for queue, spec in QueueConfig.from_env().queues.items():
                if not spec.allows(groups, admin=admin):
                    continue
                mine = [job for job in active if job.queue == queue]
                serving = [w for w in alive if w["queue"] == queue]
                queues[queue] = {
                    "queued": sum(job.status == "queued" for job in mine),
                    "running": sum(job.status == "running" for job in mine),
                    "workers": len(serving),
                    "workers_busy": sum(1 for w in serving if w["job"]),
                    "groups": list(spec.groups)}
            answer: dict[str, Any] = {"queues": queues}
            if admin:
                answer["jobs"] = [job.to_dict() for job in active]
                answer["workers"] = alive
            else:
                answer["jobs"] = [job.to_dict() for job in active if job.owner == name]
            return answer

        self.write_json(await self.blocking(gather))


def jobs_routes(prefix: str, state: CatalogState) -> list[tuple[str, type, dict[str, Any]]]:
    """Return the queue routes under the service ``prefix``."""
    base = prefix.rstrip("/")
    args = {"state": state}
    return [
        (base + "/tools", ToolsHandler, args),
        (base + r"/tools/([^/]+)", ToolsHandler, args),
        (base + "/jobs", JobListHandler, args),
        (base + r"/jobs/([^/]+)", JobHandler, args),
        (base + r"/jobs/([^/]+)/cancel", JobCancelHandler, args),
        (base + "/queue", QueueHandler, args),
    ]
