"""The queue's job events: how the queue tells the projects about jobs without importing them.

``import terralab`` registers the projects' callbacks (:mod:`terralab.wiring`) in every
process, a worker process included; a ``submitting`` callback refuses a job before it is
queued; a failing ``finished`` callback leaves the finished job finished.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from terralab.projects import runs
from terralab.projects import store as projects
from terralab.queue import events, store
from terralab.queue.errors import JobError
from terralab.queue.events import JobEvent
from terralab.queue.worker import Worker, result_id

pytestmark = pytest.mark.parametrize("platform", ["sqlite"], indirect=True)


@pytest.fixture
def hooked() -> Iterator[list[tuple[str, JobEvent]]]:
    """Record every event in a list; the hooks are removed afterwards."""
    seen: list[tuple[str, JobEvent]] = []
    added = {name: (lambda job, name=name: seen.append((name, job))) for name in events.EVENTS}
    for name, hook in added.items():
        events.on(name, hook)
    yield seen
    for name, hook in added.items():
        events.remove(name, hook)


def test_import_terralab_registers_the_projects_callbacks_in_every_process(platform):
    assert runs.check_project in events.hooks("submitting")
    assert runs.record_run in events.hooks("submitted")
    assert runs.record_results in events.hooks("finished")
    runs.install()  # again: nothing doubles
    assert events.hooks("finished").count(runs.record_results) == 1
    # a worker process imports nothing but the worker module before it claims jobs
    code = ("import sys, terralab.queue.worker; from terralab.queue import events; "
            "print(sorted(h.__module__ + '.' + h.__name__ for e in events.EVENTS "
            "for h in events.hooks(e)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out.strip() == str(sorted(["terralab.projects.runs.check_project",
                                      "terralab.projects.runs.record_run",
                                      "terralab.projects.runs.record_results"]))


def test_events_in_order_with_what_the_job_made(platform, hooked):
    home = Path(platform["TERRALAB_HOME"])
    project = projects.create_project("alice", "Crops", home=home)
    job = store.submit("alice", "test_quick_fill", {"value": 1}, project=project.id,
                       home=home)
    Worker(home=home, hard_cancel=False).run(until_idle=True)
    assert [(name, e.job_id) for name, e in hooked] == [
        ("submitting", ""), ("submitted", job.id), ("finished", job.id)]
    finished = hooked[-1][1]
    assert (finished.owner, finished.tool, finished.project) == (
        "alice", "test_quick_fill", project.id)
    assert finished.results == (result_id(job),) and finished.home == home


def test_a_submitting_callback_refuses_a_job_before_it_is_queued(platform):
    home = Path(platform["TERRALAB_HOME"])

    def refuse(job: JobEvent) -> None:
        raise JobError(f"{job.tool} is not for {job.owner} today")

    events.on("submitting", refuse)
    try:
        with pytest.raises(JobError, match="not for alice today"):
            store.submit("alice", "test_quick_fill", {}, home=home)
    finally:
        events.remove("submitting", refuse)
    assert store.list_jobs(owner="alice", home=home) == []
    with pytest.raises(JobError, match="no project 'nope' in your projects"):
        store.submit("alice", "test_quick_fill", {}, project="nope", home=home)
    assert store.list_jobs(owner="alice", home=home) == []


def test_a_failing_finished_callback_leaves_the_job_finished(platform, caplog):
    home = Path(platform["TERRALAB_HOME"])

    def broken(job: JobEvent) -> None:
        raise RuntimeError("the listener is broken")

    events.on("finished", broken)
    try:
        job = store.submit("alice", "test_quick_fill", {"value": 1}, home=home)
        with caplog.at_level(logging.ERROR, logger="terralab.queue.events"):
            Worker(home=home, hard_cancel=False).run(until_idle=True)
    finally:
        events.remove("finished", broken)
    assert store.get_job(job.id, home=home).status == "succeeded"
    assert "a finished hook failed" in caplog.text and "the listener is broken" in caplog.text
    with pytest.raises(ValueError, match="no job event 'done'"):
        events.on("done", broken)  # type: ignore[arg-type]
