"""The queue calls of ``import terralab as tl``: ``tl.submit``, ``tl.jobs``, ``tl.job``.

One code path, two transports: inside a terralab hub (the service's URL in the settings,
:mod:`terralab.settings`, and JupyterHub's ``JUPYTERHUB_API_TOKEN``) the hub service queues
the job for the shared workers through its declared endpoints
(:mod:`terralab.service.endpoints.jobs`, :class:`JobsService`); a refusal comes back as the
same exception the queue raises (the error table). Without a hub the job goes into the
local platform database and a worker thread of this process runs it
(:class:`terralab.queue.local.LocalJobs`): that path keeps the local user's own rights (their
jobs, the shared queue) rather than the in-process transport's admin rights, and starts the
worker thread the queue needs.

``tl.run`` of an AI tool inside a hub comes here too (:func:`run_queued`): a user's kernel
cannot be trusted to charge its own AI time, so there the run is a job of the shared queue
(checked and charged by the hub service and its workers) that ``tl.run`` waits for. Without
a hub, and for processing tools, ``tl.run`` runs in-process as before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from terralab.client.mydata import my_data
from terralab.queue.errors import JobError
from terralab.queue.handle import Job
from terralab.queue.local import LocalJobs
from terralab.queue.queues import SHARED
from terralab.queue.records import JobRecord
from terralab.service.http_client import service_client
from terralab.service.local import Transport

__all__ = ["JobsService", "cancel", "in_hub", "job", "jobs", "run_queued", "submit",
           "transport"]


class JobsService:
    """The queue calls over the hub service's declared endpoints (mirrors ``LocalJobs``).

    Args:
        service: the hub service's client (or any transport of the declared endpoints).
    """

    def __init__(self, service: Transport) -> None:
        self.service = service

    def submit(self, tool: str, params: dict[str, Any], *, queue: str, project: str | None,
               title: str | None) -> JobRecord:
        """Queue a run of ``tool``."""
        return JobRecord.from_dict(self.service.request(
            "jobs.submit", tool=tool, params=params, queue=queue, project=project,
            title=title))

    def get(self, job_id: str) -> JobRecord:
        """One of the caller's jobs, with its place in the queue."""
        return JobRecord.from_dict(self.service.request("jobs.get", job_id=job_id))

    def list(self, *, status: str | None = None, everybody: bool = False,
             limit: int = 50) -> list[JobRecord]:
        """The caller's jobs, newest first (``everybody``: all users', for admins)."""
        values: dict[str, Any] = {"limit": limit}
        if status:
            values["status"] = status
        if everybody:
            values["all"] = True
        return [JobRecord.from_dict(data) for data in
                self.service.request("jobs.list", **values)["jobs"]]

    def cancel(self, job_id: str) -> JobRecord:
        """Cancel one of the caller's jobs."""
        return JobRecord.from_dict(self.service.request("jobs.cancel", job_id=job_id))

    def results(self, ids: list[str]) -> list[Any]:
        """The my-data records of a job's results."""
        found = {record.id: record for record in my_data(kind="result")}
        return [found[item_id] for item_id in ids if item_id in found]


def in_hub() -> bool:
    """True inside a terralab hub: the queue, quotas and data belong to the hub service."""
    return service_client() is not None


def transport() -> JobsService | LocalJobs:
    """The queue calls of this process: the hub service's, else in-process."""
    client = service_client()
    return JobsService(client) if client is not None else LocalJobs()


def submit(tool: str, /, *, queue: str = SHARED, project: Any = None, title: str | None = None,
           **params: Any) -> Job:
    """Queue a run of ``tool`` on the shared workers; returns at once.

    Args:
        tool: a registered tool (``terralab tools list``).
        queue: ``"shared"`` (everybody's FIFO) or a dedicated queue of one of your groups.
        project: an analysis project (or its id) that records the run and its result.
        title: the result's name in my data.
        **params: the tool's parameters: file paths inside your folder, my-data or catalog
            item ids, plain values (in-memory arrays need ``tl.run``).

    Returns:
        The job: ``.status``, ``.progress``, ``.standing``, ``.wait()``, ``.result``,
        ``.cancel()``.

    Raises:
        JobError: unknown tool or parameters it refuses (checked before queueing).
        QueueNotAllowed: a dedicated queue of other groups.
        QuotaExceeded: an AI tool while your AI time for this month is used up.
    """
    project_id = getattr(project, "id", project)
    chosen = transport()
    record = chosen.submit(tool, params, queue=queue, project=project_id, title=title)
    return Job(record, chosen)


def jobs(status: str | None = None, *, everybody: bool = False, limit: int = 50) -> list[Job]:
    """Your jobs, newest first (``everybody=True``: the whole queue, for admins)."""
    chosen = transport()
    return [Job(record, chosen) for record in
            chosen.list(status=status, everybody=everybody, limit=limit)]


def job(job_id: str) -> Job:
    """One of your jobs by id."""
    chosen = transport()
    return Job(chosen.get(job_id), chosen)


def cancel(job_id: str) -> Job:
    """Cancel one of your jobs."""
    chosen = transport()
    return Job(chosen.cancel(job_id), chosen)


def _output(record: Any) -> Any:
    """The result of a queued run as a tool output: its raster opened lazily, else its file."""
    from terralab.tools.base import ToolOutput

    href = ((getattr(record, "item", None) or {}).get("assets", {}).get("data", {})
            .get("href"))
    if not href:
        return ToolOutput(record=record)
    path = Path(href)
    if path.suffix.lower() in {".tif", ".tiff"}:
        try:
            import rioxarray

            return ToolOutput(raster=rioxarray.open_rasterio(path, chunks=True),
                              name=path.stem)
        except Exception:  # the kernel may not see the hub's files: give the path
            pass
    return ToolOutput(file=path, name=path.stem)


def run_queued(tool: str, /, *, title: str | None = None, timeout: float | None = None,
               **params: Any) -> Any:
    """Run ``tool`` as a job of the shared queue and wait for it (``tl.run`` of AI in a hub).

    The hub service checks the AI quota, the job limit and the parameters; a shared worker
    runs the tool and its exact run time is charged; the result is saved in my data (also
    when ``tl.run`` was given ``save=False``).

    Args:
        tool: a registered tool.
        title: the result's name in my data.
        timeout: seconds to wait at most (None: as long as it takes).
        **params: the tool's parameters: file paths inside your folder, my-data or catalog
            item ids, plain values.

    Returns:
        A :class:`terralab.tools.RunResult` whose ``record`` is the result in my data and
        whose ``data`` opens it lazily.

    Raises:
        JobError: in-memory data as a parameter, or a refusal of the queue.
        JobFailed: the job failed (the message says why) or was cancelled.
        QuotaExceeded: your AI time of this month is used up.
    """
    from terralab.tools.runner import RunResult

    try:
        json.dumps(params)
    except (TypeError, ValueError):
        raise JobError(f"{tool}: inside a hub AI tools run on the shared workers, which take "
                       "file paths, my-data or catalog ids and plain values, not in-memory "
                       "data: save it in my data first and pass its id") from None
    queued = submit(tool, title=title, **params).wait(timeout)
    records = queued.results
    record = records[0] if records else None
    output = _output(record) if record is not None else None
    return RunResult(tool=tool, params=dict(queued.record.params), output=output,
                     record=record, extra={"job": queued.id}, records=records)
