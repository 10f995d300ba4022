"""The queue's job events: what a higher layer wants to hear about a job, as callbacks.

The queue sits below the parts of terralab that keep track of jobs (a project records the
jobs run in it and adds their results as layers, :mod:`terralab.projects.runs`). The queue
never imports them; they register callbacks here instead, and the queue calls them:

- ``submitting``: before a job is queued; a callback may refuse it by raising
  :class:`terralab.queue.errors.JobError` (an unknown project), and nothing is queued;
- ``submitted``: once the job is queued;
- ``finished``: when a worker has finished the job and its results are in my data (a
  failing callback is logged; the job stays finished).

The callbacks are registered once per process, in one place above both sides:
``import terralab`` (:mod:`terralab.wiring`), which every process that submits or runs jobs
goes through (a notebook's kernel, the hub service, the worker pool and its workers).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["EVENTS", "JobEvent", "JobHook", "emit", "hooks", "on", "remove"]

log = logging.getLogger("terralab.queue.events")

EventName = Literal["submitting", "submitted", "finished"]
EVENTS: tuple[EventName, ...] = ("submitting", "submitted", "finished")


@dataclass(frozen=True)
class JobEvent:
    """One event of one job.

    Attributes:
        owner: the user the job runs for.
        job_id: the job (empty for ``submitting``: the job has no id yet).
        tool: the tool it runs.
        project: the analysis project of ``owner`` it runs in, or None.
        results: the ids in my data of what it made (``finished`` only).
        home: the terralab data folder (None: the default).
    """

    owner: str
    job_id: str
    tool: str
    project: str | None = None
    results: tuple[str, ...] = ()
    home: Path | None = None


JobHook = Callable[[JobEvent], None]
_HOOKS: dict[str, list[JobHook]] = {name: [] for name in EVENTS}


def _check(event: str) -> None:
    if event not in _HOOKS:
        raise ValueError(f"no job event {event!r}; the events are {', '.join(EVENTS)}")


def on(event: EventName, hook: JobHook) -> JobHook:
    """Call ``hook(JobEvent)`` on each ``event``; registering the same hook again is a no-op.

    Raises:
        ValueError: for an unknown event.
    """
    _check(event)
    if hook not in _HOOKS[event]:
        _HOOKS[event].append(hook)
    return hook


def remove(event: EventName, hook: JobHook) -> None:
    """Stop calling ``hook`` on ``event`` (nothing happens when it was not registered)."""
    _check(event)
    if hook in _HOOKS[event]:
        _HOOKS[event].remove(hook)


def hooks(event: EventName) -> tuple[JobHook, ...]:
    """The hooks registered for ``event``, in the order they run."""
    _check(event)
    return tuple(_HOOKS[event])


def emit(event: EventName, job: JobEvent) -> None:
    """Call the hooks of ``event`` with ``job``, in the order they were registered.

    An error of a ``submitting`` or ``submitted`` hook reaches the caller (it refuses the
    job); an error of a ``finished`` hook is logged, so that the finished job stays so.
    """
    _check(event)
    for hook in tuple(_HOOKS[event]):
        if event != "finished":
            hook(job)
            continue
        try:
            hook(job)
        except Exception:
            log.exception("job %s: a %s hook failed", job.job_id, event)
