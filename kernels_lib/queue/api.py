"""The queue calls of ``import terralab as tl``: ``tl.submit``, ``tl.jobs``, ``tl.job``.

One code path, two transports: inside a terralab hub (``TERRALAB_SERVICE_URL`` and
``JUPYTERHUB_API_TOKEN`` set by the spawner) the hub service queues the job for the shared
workers; without a hub the job goes into the local platform database and a worker thread
of this process runs it (:mod:`terralab.queue.local`).
"""

from __future__ import annotations

from typing import Any

from terralab.queue.handle import Job
from terralab.queue.queues import SHARED

__all__ = ["cancel", "job", "jobs", "submit", "transport"]


def transport() -> Any:
    """The queue transport of this process: the hub service, else in-process."""
    from terralab.catalog.remote import service_client

    client = service_client()
    if client is not None:
        from terralab.queue.remote import JobsService

        return JobsService(client)
    from terralab.queue.local import LocalJobs

    return LocalJobs()


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
