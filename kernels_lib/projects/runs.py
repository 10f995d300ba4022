"""A project's runs: the queue's job events recorded in the project that ran the job.

A job submitted with ``project=`` must name one of its owner's projects (else it is not
queued); once queued it is one of the project's runs, and when it finished its results are
added to the project as layers (:func:`terralab.projects.store.add_results`). The queue
(below the projects) calls these through its events (:mod:`terralab.queue.events`);
:func:`install` registers them, once per process (``import terralab`` does,
:mod:`terralab.wiring`).
"""

from __future__ import annotations

import logging

from terralab.projects.errors import ProjectNotFound
from terralab.projects.store import add_results, add_run, get_project
from terralab.queue import events
from terralab.queue.errors import JobError
from terralab.queue.events import JobEvent

__all__ = ["check_project", "install", "record_results", "record_run"]

_log = logging.getLogger(__name__)


def check_project(job: JobEvent) -> None:
    """Refuse a job whose project is not one of its owner's.

    Raises:
        JobError: naming the unknown project.
    """
    if job.project is None:
        return
    try:
        get_project(job.owner, job.project, home=job.home)
    except ProjectNotFound:
        raise JobError(f"no project {job.project!r} in your projects") from None


def record_run(job: JobEvent) -> None:
    """Add the queued job to its project's runs."""
    if job.project is not None:
        add_run(job.owner, job.project, job.job_id, home=job.home)


def record_results(job: JobEvent) -> None:
    """Add the finished job's results to its project (as layers too)."""
    if job.project is None:
        return
    try:
        add_results(job.owner, job.project, job.job_id, list(job.results), home=job.home)
    except ProjectNotFound:
        _log.info("job %s: project %s was deleted meanwhile", job.job_id, job.project)


def install() -> None:
    """Register the callbacks with the queue's events (again: no change)."""
    events.on("submitting", check_project)
    events.on("submitted", record_run)
    events.on("finished", record_results)
