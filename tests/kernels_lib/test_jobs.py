"""The job queue in-process: submit checks, FIFO claims, leases, cancel, quotas, isolation.

Every test runs on SQLite and on a real PostgreSQL server (the ``platform`` fixture).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from terralab.mydata.store import list_records
from terralab.platform_sql import engine
from terralab.queue import store
from terralab.queue.errors import JobError, JobNotFound, QueueNotAllowed
from terralab.queue.queues import QueueConfig
from terralab.queue.worker import Worker, result_id
from terralab.quotas import QuotaExceeded
from terralab.quotas.ledger import quota_ledger


def _home(platform: dict[str, str]) -> Path:
    return Path(platform["TERRALAB_HOME"])


def _charges(home: Path, job_id: str) -> list[int]:
    with engine(home).connect() as db:
        return [row.amount for row in db.execute(
            sa.select(quota_ledger).where(quota_ledger.c.key == job_id))]


def test_submit_checks_tool_parameters_and_queue(platform):
    home = _home(platform)
    with pytest.raises(JobError, match=r"no tool 'nope'.*index"):
        store.submit("alice", "nope", {}, home=home)
    with pytest.raises(JobError, match="seconds"):
        store.submit("alice", "test_sleepy_ai", {"seconds": -1}, home=home)
    with pytest.raises(JobError, match=r"extra|not permitted"):
        store.submit("alice", "test_quick_fill", {"colour": "red"}, home=home)
    queues = QueueConfig.parse({"lab-a": {"workers": 1, "groups": ["lab-a"]}})
    with pytest.raises(QueueNotAllowed, match="dedicated to the groups lab-a"):
        store.submit("alice", "test_quick_fill", {}, queue="lab-a", queues=queues, home=home)
    with pytest.raises(QueueNotAllowed, match="no queue 'gpu'"):
        store.submit("alice", "test_quick_fill", {}, queue="gpu", queues=queues, home=home)
    ok = store.submit("alice", "test_quick_fill", {}, queue="lab-a", groups=["lab-a"],
                      queues=queues, home=home)
    admin = store.submit("root", "test_quick_fill", {}, queue="lab-a", admin=True,
                         queues=queues, home=home)
    assert ok.queue == admin.queue == "lab-a" and ok.status == "queued"
    assert store.list_jobs(home=home, newest_first=False)[0].id == ok.id  # nothing else queued


def test_claims_are_fifo_per_queue_and_dedicated_queues_apart(platform):
    home = _home(platform)
    queues = QueueConfig.parse({"lab-a": {"groups": ["lab-a"]}})
    ids = [store.submit(f"user{i % 3}", "test_quick_fill", {"value": i}, home=home).id
           for i in range(5)]
    dedicated = store.submit("alice", "test_quick_fill", {}, queue="lab-a", groups=["lab-a"],
                             queues=queues, home=home)
    claimed = [store.claim("w1", home=home).id for _ in range(5)]
    assert claimed == ids
    assert store.claim("w1", home=home) is None
    assert store.claim("w2", "lab-a", home=home).id == dedicated.id


def test_standing_tells_position_jobs_ahead_and_workers_busy(platform):
    home = _home(platform)
    jobs = [store.submit("alice", "test_quick_fill", {}, home=home) for _ in range(3)]
    store.claim("w1", home=home)
    last = store.get_job(jobs[2].id, owner="alice", with_standing=True, home=home)
    assert last.standing.position == 2 and last.standing.jobs_ahead == 1
    assert last.standing.running == 1
    assert "position 2" in str(last.standing)


def test_a_lost_lease_gives_the_job_to_another_worker_then_fails_it(platform):
    home = _home(platform)
    job = store.submit("alice", "test_quick_fill", {}, max_attempts=2, home=home)
    lease = 1.5  # long enough for the next claim on a busy machine
    first = store.claim("w1", lease_seconds=lease, home=home)
    assert first.attempts == 1 and store.claim("w2", home=home) is None  # lease still held
    time.sleep(lease + 0.3)
    second = store.claim("w2", lease_seconds=lease, home=home)
    assert second.id == job.id and second.attempts == 2 and second.worker == "w2"
    # the first worker can no longer touch it
    assert store.heartbeat(job.id, "w1", home=home) == "lost"
    assert not store.finish(job.id, "w1", ["x"], home=home)
    assert not store.report_progress(job.id, "w1", 50, "late", home=home)
    time.sleep(lease + 0.3)
    assert store.claim("w3", home=home) is None  # max_attempts reached
    failed = store.get_job(job.id, home=home)
    assert failed.status == "failed" and "stopped 2 times" in failed.error


def test_a_job_runs_saves_its_result_under_the_job_id_and_charges_ai_time_once(platform):
    home = _home(platform)
    job = store.submit("alice", "test_sleepy_ai", {"seconds": 1.0, "value": 7}, home=home)
    time.sleep(1.5)  # queue time: never charged
    worker = Worker(home=home, lease_seconds=5, hard_cancel=False)
    started = time.monotonic()
    assert worker.run(until_idle=True) == 1
    ran = time.monotonic() - started
    done = store.get_job(job.id, owner="alice", home=home)
    assert done.status == "succeeded" and done.progress == 100
    assert done.results == (result_id(done),)
    [record] = list_records("alice", home=home)
    assert record.id == result_id(done) and record.source_name == "test_sleepy_ai"
    assert "thinking" in done.log
    [charged] = _charges(home, job.id)
    assert 1 <= charged <= ran  # run time only: 1 s of work, none of the 1.5 s in the queue
    # a second report of success (a retried worker) is not charged again
    from terralab.quotas.ledger import charge

    assert not charge(None, kind="ai_seconds", key=job.id, owner="alice", amount=99, home=home)
    assert _charges(home, job.id) == [charged]


def test_a_failed_job_charges_nothing_and_keeps_nothing(platform):
    home = _home(platform)
    job = store.submit("alice", "test_quick_fill", {"fail": True}, home=home)
    Worker(home=home, hard_cancel=False).run(until_idle=True)
    failed = store.get_job(job.id, home=home)
    assert failed.status == "failed" and failed.error == "failing as asked"
    assert list_records("alice", home=home) == [] and _charges(home, job.id) == []


def test_processing_jobs_do_not_count_as_ai_time(platform):
    home = _home(platform)
    job = store.submit("alice", "test_quick_fill", {}, home=home)
    Worker(home=home, hard_cancel=False).run(until_idle=True)
    assert store.get_job(job.id, home=home).status == "succeeded"
    assert _charges(home, job.id) == []


def test_cancel_queued_and_running_jobs(platform):
    home = _home(platform)
    running = store.submit("alice", "test_sleepy_ai", {"seconds": 30}, home=home)
    queued = store.submit("alice", "test_quick_fill", {}, home=home)
    assert store.cancel(queued.id, owner="alice", home=home).status == "cancelled"
    worker = Worker(home=home, lease_seconds=1.5, hard_cancel=False)
    thread = threading.Thread(target=worker.run, kwargs={"until_idle": True})
    thread.start()
    deadline = time.monotonic() + 20
    while store.get_job(running.id, home=home).status != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    asked = time.monotonic()
    assert store.cancel(running.id, owner="alice", home=home).cancel_requested
    thread.join(15)
    assert not thread.is_alive() and time.monotonic() - asked < 5
    ended = store.get_job(running.id, home=home)
    assert ended.status == "cancelled" and ended.results == ()
    assert list_records("alice", home=home) == [] and _charges(home, running.id) == []
    assert not any((home / "users" / "alice" / "results").glob("*"))


def test_users_never_reach_each_others_jobs(platform):
    home = _home(platform)
    job = store.submit("alice", "test_quick_fill", {}, home=home)
    with pytest.raises(JobNotFound):
        store.get_job(job.id, owner="bob", home=home)
    with pytest.raises(JobNotFound):
        store.cancel(job.id, owner="bob", home=home)
    assert store.list_jobs(owner="bob", home=home) == []
    assert store.get_job(job.id, owner="alice", home=home).status == "queued"
    assert [j.id for j in store.list_jobs(home=home)] == [job.id]  # the admin's view


def test_models_stay_warm_between_jobs(platform):
    home = _home(platform)
    for _ in range(3):
        store.submit("alice", "test_sleepy_ai", {"seconds": 0}, home=home)
    worker = Worker(home=home, hard_cancel=False)
    assert worker.run(until_idle=True) == 3
    assert (home / "model-loads.txt").read_text().splitlines() == [worker.models.device]
    assert worker.models.loads == 1


def test_used_up_ai_quota_refuses_new_ai_jobs_with_the_reset_date(platform, monkeypatch):
    home = _home(platform)
    monkeypatch.setenv("TERRALAB_AI_QUOTA", "1s")
    store.submit("alice", "test_sleepy_ai", {"seconds": 1.2}, home=home)
    Worker(home=home, hard_cancel=False).run(until_idle=True)
    with pytest.raises(QuotaExceeded, match=r"resets on \d{4}-\d\d-\d\d"):
        store.submit("alice", "test_sleepy_ai", {"seconds": 0}, home=home)
    store.submit("alice", "test_quick_fill", {}, home=home)  # processing still runs
    store.submit("bob", "test_sleepy_ai", {"seconds": 0}, home=home)  # bob has his own


def test_tl_submit_in_process(platform, monkeypatch, tmp_path):
    import terralab as tl

    monkeypatch.setenv("TERRALAB_USER", "alice")
    monkeypatch.setenv("TERRALAB_LOCAL_WORKER", "1")
    job = tl.submit("test_quick_fill", value=5, title="five")
    assert job.wait(60) is job and job.status == "succeeded"
    assert job.result.title == "five" and job.result.id == job.record.results[0]
    assert [j.id for j in tl.jobs()] == [job.id]
    assert tl.job(job.id).status == "succeeded"
    import numpy as np
    import xarray as xr

    with pytest.raises(JobError, match="not in-memory data"):
        tl.submit("index", image=xr.DataArray(np.zeros((3, 2, 2))), index="ndvi")


def test_a_job_run_in_a_project_is_recorded_there_with_its_result(platform):
    from terralab.projects import store as projects

    home = _home(platform)
    project = projects.create_project("alice", "Flood study", home=home)
    job = store.submit("alice", "test_quick_fill", {"value": 2}, project=project.id, home=home)
    Worker(home=home, hard_cancel=False).run(until_idle=True)
    saved = projects.get_project("alice", project.id, home=home)
    assert list(saved.runs) == [job.id]
    assert [r["items"] for r in saved.results] == [[result_id(job)]]
    assert result_id(job) in [layer.ref for layer in saved.layers]
    with pytest.raises(JobError, match="no project"):
        store.submit("bob", "test_quick_fill", {}, project=project.id, home=home)


def test_an_earlier_release_s_platform_database_upgrades_when_opened(platform):
    """Columns added since (the job's groups) are added to an existing database, and the
    ledger's whole-number amounts become exact seconds (PostgreSQL's column is widened)."""
    from terralab.platform_sql import dispose_engines, is_postgres

    home = Path(platform["TERRALAB_HOME"])
    bind = engine(home)
    with bind.begin() as db:  # what a database of the earlier release looks like
        db.exec_driver_sql("ALTER TABLE jobs DROP COLUMN groups")
        if is_postgres(db):
            db.exec_driver_sql("ALTER TABLE quota_ledger ALTER COLUMN amount TYPE bigint")
    dispose_engines()
    job = store.submit("alice", "test_sleepy_ai", {"seconds": 0.1}, groups=["lab"], home=home)
    with engine(home).connect() as db:
        assert db.execute(sa.text("SELECT groups FROM jobs")).scalar_one() == '["lab"]'
    from terralab.quotas.ledger import AI_SECONDS, charge, used

    charge(None, kind=AI_SECONDS, key=job.id, owner="alice", amount=0.25, home=home)
    assert used("alice", AI_SECONDS, home=home) == 0.25
