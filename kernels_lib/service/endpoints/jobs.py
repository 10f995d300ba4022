"""The queue and tool endpoints (PRODUCT.md §6), declared once.

One tool definition drives everything (DESIGN.md): the tools' own parameter models answer
``GET tools`` and check ``POST jobs``.

The service is the only writer of the queue on a hub: it checks the tool, its parameters
(the tool's own parameter model), the queue (dedicated queues are bound to groups) and the
AI quota before a job is queued, where a user's server cannot tamper with them. Users see
and cancel their own jobs only; another user's job id is not found (404). Admins see and
cancel any job and see the whole queue.

- ``GET tools``: every registered tool's metadata and parameter schema, and whether it can
  run here (``ready``; a deep tool without an installed model: ``"needs": "model"`` and the
  message in English and Chinese, :func:`terralab.ai.readiness.tool_readiness`);
  ``GET tools/{name}`` (the platform's internal tools are not found).
- ``POST jobs`` ``{"tool", "params"[, "queue", "project", "title"]}``: 201 with the job;
  400 for a bad tool or parameters, 403 ``reason=queue`` for another group's queue, 429
  ``reason=quota`` (with ``resets``) when the AI time is used up, 429 ``reason=jobs`` (with
  ``active`` and ``limit``) when the user already has as many queued or running jobs as
  ``c.TerralabHub.job_limit`` allows.
- ``GET jobs[?status=&limit=&all=1]``: ``{"jobs": […]}``, newest first (``all``: admins).
- ``GET jobs/{job_id}``: the job, with its place in the queue while it waits or runs.
- ``POST jobs/{job_id}/cancel`` (or ``DELETE jobs/{job_id}``): cancel it.
- ``GET queue``: the queues with their waiting and running jobs and live workers; admins
  also get every active job and the workers.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from terralab.ai.readiness import tool_readiness
from terralab.queue import store
from terralab.queue.errors import JobError, JobLimitReached, JobNotFound, QueueNotAllowed
from terralab.queue.queues import SHARED, QueueConfig
from terralab.queue.records import JobRecord
from terralab.queue.worker_rows import live_workers
from terralab.quotas.checks import QuotaExceeded
from terralab.service.endpoint import CallContext, Endpoint
from terralab.service.endpoints.quotas import registration
from terralab.service.error_table import NotFound
from terralab.service.registry import declare
from terralab.tools.registry import default_registry

__all__ = ["JobAnswer", "JobList", "JobQuery", "NewJob", "QueueAnswer", "ToolAnswer",
           "ToolList"]

_TRUE = {"1", "true", "yes"}


class ToolAnswer(BaseModel):
    """A registered tool: its metadata and the JSON schema of its parameters."""

    model_config = ConfigDict(extra="allow")
    name: str
    title: str
    kind: str
    inputs: list[str]
    outputs: list[str]
    parameters: dict[str, Any] = Field(description="the JSON schema of its parameters")
    ready: bool = Field(True, description="whether it can run here (a deep tool needs an "
                                          "installed model)")
    needs: str | None = Field(None, description='what it lacks to run: "model", or null')
    message: str | None = Field(None, description="why it cannot run (English), or null")
    message_zh: str | None = Field(None, description="why it cannot run (Chinese), or null")


class ToolList(BaseModel):
    """``GET tools``: every tool a user may run, by name."""

    tools: list[ToolAnswer]


class ToolRef(BaseModel):
    """``GET tools/{name}``."""

    model_config = ConfigDict(extra="forbid")
    name: str


class StandingAnswer(BaseModel):
    """Where a waiting or running job stands in its queue."""

    position: int
    jobs_ahead: int
    running: int
    workers: int
    workers_busy: int


class JobAnswer(BaseModel):
    """A job of the queue (:meth:`terralab.queue.records.JobRecord.to_dict`)."""

    model_config = ConfigDict(extra="allow")
    id: str
    owner: str
    tool: str
    kind: str
    params: dict[str, Any]
    queue: str
    status: str
    attempts: int
    max_attempts: int
    progress: float
    message: str
    log: str
    error: str | None = None
    title: str | None = None
    project: str | None = None
    submitted: float
    started: float | None = None
    finished: float | None = None
    results: list[str]
    cancel_requested: bool
    worker: str | None = None
    standing: StandingAnswer | None = None
    submitted_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None


class JobList(BaseModel):
    """``GET jobs``: newest first."""

    jobs: list[JobAnswer]


class NewJob(BaseModel):
    """``POST jobs``: a run of a tool for the shared workers."""

    model_config = ConfigDict(extra="forbid")
    tool: str = Field(description="a registered tool (GET tools lists them)")
    params: dict[str, Any] = Field(default_factory=dict,
                                   description="the tool's parameters (its schema)")
    queue: str | None = Field(None, description=f'default "{SHARED}"; or a dedicated queue '
                              "of one of my groups")
    project: str | None = Field(None, description="a project of mine that records the run")
    title: str | None = Field(None, description="the result's name in my data")


class JobQuery(BaseModel):
    """``GET jobs``: my jobs (an admin's ``all``: everybody's)."""

    model_config = ConfigDict(extra="forbid")
    status: str | None = Field(None, description="only jobs in this state")
    limit: int = Field(50, description="at most this many (1 to 1000)")
    all: bool = Field(False, description="everybody's jobs (admins only)")

    @field_validator("all", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        """``all=1``, ``true`` or ``yes`` ask for everybody's jobs; any other text does not."""
        return value.strip().lower() in _TRUE if isinstance(value, str) else value


class JobRef(BaseModel):
    """A job by id."""

    model_config = ConfigDict(extra="forbid")
    job_id: str


class QueueState(BaseModel):
    """One queue: its waiting and running jobs and its live workers."""

    queued: int
    running: int
    workers: int
    workers_busy: int
    groups: list[str]


class QueueAnswer(BaseModel):
    """``GET queue``: the queues I may use; my active jobs (an admin: all, and the workers)."""

    queues: dict[str, QueueState]
    jobs: list[JobAnswer]
    workers: list[dict[str, Any]] | None = Field(None, description="admins only")


def _tool(name: str, context: CallContext) -> dict[str, Any]:
    tool = default_registry()[name]
    return {**tool.info.to_dict(), "parameters": tool.schema(),
            **tool_readiness(tool, home=context.home).to_dict()}


def _tools(context: CallContext, request: None) -> dict[str, Any]:
    return {"tools": [_tool(name, context) for name in default_registry()]}


def _tool_info(context: CallContext, request: ToolRef) -> dict[str, Any]:
    if request.name not in default_registry():  # the platform's internal tools: not found
        raise NotFound(f"no tool {request.name!r}")
    return _tool(request.name, context)


def _owner(context: CallContext) -> str | None:
    """Whose jobs the caller may touch: their own (None: an admin, any job)."""
    return None if context.caller.admin else context.caller.name


def _submit(context: CallContext, request: NewJob) -> JobRecord:
    caller = context.caller
    registration(context, {"name": caller.name, **caller.model})  # the quota month's start
    if request.tool not in default_registry():  # internal tools are not for users
        raise JobError(f"no tool {request.tool!r}; GET tools lists them")
    return store.submit(caller.name, request.tool, request.params,
                        queue=request.queue or SHARED, project=request.project,
                        title=request.title, groups=caller.groups, admin=caller.admin,
                        home=context.home)


def _list(context: CallContext, request: JobQuery) -> dict[str, Any]:
    if request.all and not context.caller.admin:
        raise PermissionError("only admins see everybody's jobs")
    records = store.list_jobs(owner=None if request.all else context.caller.name,
                              status=request.status, limit=max(1, min(1000, request.limit)),
                              home=context.home)
    return {"jobs": records}


def _get(context: CallContext, request: JobRef) -> JobRecord:
    return store.get_job(request.job_id, owner=_owner(context), with_standing=True,
                         home=context.home)


def _cancel(context: CallContext, request: JobRef) -> JobRecord:
    return store.cancel(request.job_id, owner=_owner(context), home=context.home)


def _queue(context: CallContext, request: None) -> dict[str, Any]:
    caller = context.caller
    active = store.list_jobs(status=("queued", "running"), limit=10000, newest_first=False,
                             home=context.home)
    alive = live_workers(home=context.home)
    queues = {}
    for queue, spec in QueueConfig.from_env().queues.items():
        if not spec.allows(caller.groups, admin=caller.admin):
            continue
        waiting = [job for job in active if job.queue == queue]
        serving = [worker for worker in alive if worker["queue"] == queue]
        queues[queue] = {"queued": sum(job.status == "queued" for job in waiting),
                         "running": sum(job.status == "running" for job in waiting),
                         "workers": len(serving),
                         "workers_busy": sum(1 for worker in serving if worker["job"]),
                         "groups": list(spec.groups)}
    if caller.admin:
        return {"queues": queues, "jobs": active, "workers": alive}
    return {"queues": queues, "jobs": [job for job in active if job.owner == caller.name]}


_JOB = "jobs/{job_id}"
_SUBMIT_ERRORS = (JobError, QueueNotAllowed, JobLimitReached, QuotaExceeded)


def _declare(name: str, method: str, path: str, summary: str, **options: Any) -> None:
    declare(Endpoint(name, method, path, summary, refusal=JobError, **options))


_declare("tools.list", "GET", "tools", "Every tool I may run, with its parameter schema",
         call=_tools, response=ToolList)
_declare("tools.get", "GET", "tools/{name}", "One tool, with its parameter schema",
         call=_tool_info, request=ToolRef, response=ToolAnswer, errors=(NotFound,))
_declare("jobs.submit", "POST", "jobs", "Queue a run of a tool for the shared workers",
         call=_submit, request=NewJob, response=JobAnswer, status=HTTPStatus.CREATED,
         errors=_SUBMIT_ERRORS)
_declare("jobs.list", "GET", "jobs", "My jobs, newest first (an admin: everybody's)",
         call=_list, request=JobQuery, response=JobList, errors=(JobError, PermissionError))
_declare("jobs.get", "GET", _JOB, "One of my jobs, with its place in the queue",
         call=_get, request=JobRef, response=JobAnswer, errors=(JobNotFound,))
_declare("jobs.cancel", "POST", _JOB + "/cancel",
         "Cancel a job: a queued one at once, a running one within seconds",
         call=_cancel, request=JobRef, response=JobAnswer, errors=(JobNotFound,))
_declare("jobs.delete", "DELETE", _JOB, "Cancel a job (as POST jobs/{job_id}/cancel)",
         call=_cancel, request=JobRef, response=JobAnswer, errors=(JobNotFound,))
_declare("jobs.queue", "GET", "queue",
         "The queues I may use: waiting and running jobs, live workers",
         call=_queue, response=QueueAnswer)
