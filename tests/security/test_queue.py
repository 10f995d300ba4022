"""The queue under load and abuse: AI quota at claim, per-user job limits, fair order, orphans.

Real workers (the :class:`terralab.queue.worker.Worker` loop in threads, the pool as its own
process) and the test tools of :mod:`tests.kernels_lib.job_tools` (an "AI" tool that runs
for a known time), on SQLite and on a real PostgreSQL server.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from terralab.platform_sql import engine
from terralab.queue import store
from terralab.queue.errors import JobError
from terralab.queue.tables import workers
from terralab.queue.worker import Worker
from terralab.queue.worker_rows import live_workers, register_worker
from terralab.quotas.ledger import AI_SECONDS, charge, quota_ledger, used
from tests.kernels_lib import conftest as queue_fixtures

# the queue tests' fixtures: the test tools as a plug-in, a home on SQLite or PostgreSQL
job_plugin = queue_fixtures.job_plugin
platform = queue_fixtures.platform
SLEEPY = "test_sleepy_ai"


@contextmanager
def worker_threads(home: Path, count: int) -> Iterator[list[Worker]]:
    """``count`` real workers of the shared queue, each looping in a thread of its own."""
    stop = threading.Event()
    running = [Worker(home=home, hard_cancel=False, poll_seconds=0.05, lease_seconds=10.0)
               for _ in range(count)]
    threads = [threading.Thread(target=w.run, kwargs={"stop": stop}, daemon=True)
               for w in running]
    for thread in threads:
        thread.start()
    try:
        yield running
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)


def _ledger(home: Path, job_id: str) -> list[float]:
    with engine(home).connect() as db:
        return [row.amount for row in db.execute(
            sa.select(quota_ledger).where(quota_ledger.c.key == job_id))]


def _settle(home: Path, ids: list[str], timeout: float) -> list[store.JobRecord]:
    deadline = time.monotonic() + timeout
    while True:
        found = [store.get_job(i, home=home) for i in ids]
        if all(job.done for job in found):
            return found
        assert time.monotonic() < deadline, [(j.id, j.status) for j in found]
        time.sleep(0.1)


# -- failure 7: the AI quota at claim, exact charges ------------------------------------------

def test_jobs_queued_before_the_quota_ran_out_are_refused_at_claim(platform, monkeypatch):
    """issue failure 7: with 1 s of a 3 s AI quota used, 6 queued AI jobs all ran (4 s of 3 s).

    Every job passes the check at submit; the worker checks again when it claims one, so
    once the quota is used up the rest fail with the quota message and the reset date,
    without ever starting and without a charge, and the worker goes on to the next job.
    """
    home = Path(platform["TERRALAB_HOME"])
    monkeypatch.setenv("TERRALAB_AI_QUOTA", "3")
    charge(None, kind=AI_SECONDS, key="earlier-run", owner="q7-alice", amount=1.0, home=home)
    ids = [store.submit("q7-alice", SLEEPY, {"seconds": 1.0}, home=home).id for _ in range(6)]
    other = store.submit("q7-bob", "test_quick_fill", {}, home=home)  # after them, FIFO
    with worker_threads(home, 1):
        jobs = _settle(home, [*ids, other.id], 60)
    mine, theirs = jobs[:6], jobs[6]
    ran = [job for job in mine if job.status == "succeeded"]
    refused = [job for job in mine if job.status == "failed"]
    assert len(ran) == 2 and len(refused) == 4, [(j.status, j.error) for j in mine]
    for job in refused:
        assert "AI analysis quota used up" in job.error and "resets on" in job.error, job.error
        assert job.attempts == 0 and job.started is None, job.log  # never started
        assert _ledger(home, job.id) == []  # nothing charged
    assert theirs.status == "succeeded"  # the worker went on to the next job
    spent = used("q7-alice", AI_SECONDS, home=home)
    assert 3.0 <= spent < 4.0, spent  # 1 s before + two runs of ~1 s, not 1 + 6


def test_a_short_ai_job_is_charged_its_exact_run_time(platform):
    """issue failure 7: AI jobs under 0.5 s were charged 0 s (the ledger rounded seconds)."""
    home = Path(platform["TERRALAB_HOME"])
    job = store.submit("q7-carol", SLEEPY, {"seconds": 0.3, "report": False}, home=home)
    with worker_threads(home, 1):
        [done] = _settle(home, [job.id], 60)
    assert done.status == "succeeded", done.log
    [charged] = _ledger(home, job.id)
    assert 0.3 <= charged <= done.finished - done.started + 1e-6, charged
    # the month's use is this one charge, unrounded (a busy machine makes the run longer,
    # never the charge other than the run)
    assert used("q7-carol", AI_SECONDS, home=home) == pytest.approx(charged)


# -- failure 8: a limit of queued jobs per user, fair order ------------------------------------

def test_a_user_may_hold_only_so_many_queued_jobs(platform, monkeypatch):
    """issue failure 8: 50 jobs from one user were all accepted in 2 s (no per-user limit).

    The limit counts waiting and running jobs of every kind; a group's limit raises it; a
    finished or cancelled job frees a place.
    """
    home = Path(platform["TERRALAB_HOME"])
    monkeypatch.setenv("TERRALAB_JOB_LIMIT", "5")
    monkeypatch.setenv("TERRALAB_JOB_LIMIT_GROUPS", '{"q8-big": 8}')
    first = [store.submit("q8-alice", "test_quick_fill", {}, home=home) for _ in range(5)]
    with pytest.raises(JobError, match=r"5 jobs.*queued or running.*limit"):
        store.submit("q8-alice", "test_quick_fill", {}, home=home)
    store.submit("q8-bob", "test_quick_fill", {}, home=home)  # another user is not held up
    store.cancel(first[0].id, owner="q8-alice", home=home)
    store.submit("q8-alice", "test_quick_fill", {}, home=home)  # a place came free
    for _ in range(8):
        store.submit("q8-carol", "test_quick_fill", {}, groups=["q8-big"], home=home)
    with pytest.raises(JobError, match="8 jobs"):
        store.submit("q8-carol", "test_quick_fill", {}, groups=["q8-big"], home=home)


@pytest.mark.hub
def test_the_service_answers_429_over_the_job_limit(hub):
    """issue failure 8: the hub service refuses a job over the user's limit with 429.

    ``q8-nojobs`` has a limit of 0 queued jobs in the shared hub's site configuration.
    """
    headers = {"Authorization": f"token {hub.token('q8-nojobs')}"}
    answer = requests.post(f"{hub.url}/services/terralab/jobs", headers=headers, timeout=60,
                           json={"tool": "index", "params": {"image": "x.tif"}})
    assert answer.status_code == 429, answer.text
    body = answer.json()
    assert body["reason"] == "jobs" and "limit" in body["message"], body


def test_a_flood_from_one_user_does_not_hold_up_the_others(platform):
    """issue fairness acceptance: with W workers and run time T, while user A floods 100
    jobs, the k-th other user's first job starts by its submit time + ceil(k/W)·T + 2 s.

    Before, the queue was one FIFO: B's job stood at position 98 behind A's. The position
    shown to each user is the one the claims follow.
    """
    home = Path(platform["TERRALAB_HOME"])
    w, t, others = 2, 1.0, 4
    flood = [store.submit("qf-alice", SLEEPY, {"seconds": t, "report": False}, home=home)
             for _ in range(100)]
    with worker_threads(home, w):
        deadline = time.monotonic() + 30
        while len(store.list_jobs(status="running", home=home)) < w:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(t / 2)
        mine = [store.submit(f"qf-user{k}", SLEEPY, {"seconds": t, "report": False},
                             home=home) for k in range(1, others + 1)]
        standings = [store.get_job(job.id, with_standing=True, home=home) for job in mine]
        started: dict[str, float] = {}
        end = time.monotonic() + math.ceil(others / w) * t + 10
        while len(started) < others and time.monotonic() < end:
            for job in mine:
                now = store.get_job(job.id, home=home)
                if now.started is not None:
                    started.setdefault(job.id, now.started)
            time.sleep(0.05)
        for job in flood:
            store.cancel(job.id, owner="qf-alice", home=home)
    ran = [j.finished - j.started for j in store.list_jobs(status="succeeded", limit=500,
                                                          home=home)]
    run_time = max(ran)  # T: the tool sleeps t; writing its result adds a little
    assert run_time >= t, ran
    for k, job in enumerate(mine, start=1):
        assert job.id in started, f"user {k}'s job never started"
        waited = started[job.id] - job.submitted
        assert waited <= math.ceil(k / w) * run_time + 2.0, (k, waited, run_time)
    # truthful positions: the k-th user's job had at most k-1 jobs ahead, none of alice's
    for k, record in enumerate(standings, start=1):
        if record.status == "queued":
            assert record.standing.jobs_ahead <= k - 1, (k, record.standing)
    alice = [j for j in store.list_jobs(owner="qf-alice", limit=200, newest_first=False,
                                        home=home) if j.started is not None]
    # FIFO within A. Two workers claim at once on PostgreSQL (SKIP LOCKED): each takes its
    # clock when its transaction begins, so two claims of the same instant may carry start
    # times a few ms out of order. A job taken out of turn would start a whole run later.
    for k in range(1, len(alice)):
        latest_before = max(j.started for j in alice[:k])
        assert alice[k].started >= latest_before - t / 2, (k, alice[k], latest_before)


# -- failure 11: workers die with their pool ---------------------------------------------------

def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state


def test_workers_die_with_their_killed_pool(platform):
    """issue failure 11: SIGKILL of the pool orphaned its workers (reparented to PID 1, still
    claiming jobs after the hub stopped)."""
    home = Path(platform["TERRALAB_HOME"])
    env = {**os.environ, **platform}
    log = home / "pool.log"
    with log.open("ab") as out:
        pool = subprocess.Popen([sys.executable, "-m", "terralab.queue.pool", "--workers", "2",
                                 "--lease", "3", "--poll", "0.2"], env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while len(live_workers(home=home)) < 2:
            assert pool.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        pids = [w["pid"] for w in live_workers(home=home)]
        os.kill(pool.pid, signal.SIGKILL)
        pool.wait(10)
        deadline = time.monotonic() + 5  # idle workers end at once
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        orphans = [pid for pid in pids if _alive(pid)]
    finally:
        for pid in [w["pid"] for w in live_workers(home=home)]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert orphans == [], f"workers outlived their pool: {orphans}"
    late = store.submit("q11-alice", "test_quick_fill", {}, home=home)
    time.sleep(1.0)
    assert store.get_job(late.id, home=home).status == "queued"  # nobody claims it any more


def test_a_worker_row_with_a_stale_heartbeat_is_not_live(platform, monkeypatch):
    """issue failure 11: a worker that stopped beating (its lease long gone) still counted as
    a live worker of the queue for 90 s."""
    home = Path(platform["TERRALAB_HOME"])
    monkeypatch.setenv("TERRALAB_JOB_LEASE_SECONDS", "2")
    register_worker("q11-stale", "shared", host="h", pid=1, device="cpu", home=home)
    with engine(home).begin() as db:
        db.execute(workers.update().where(workers.c.id == "q11-stale").values(
            heartbeat=time.time() - 20))
    assert live_workers(home=home) == []
    job = store.submit("q11-bob", "test_quick_fill", {}, home=home)
    assert store.get_job(job.id, with_standing=True, home=home).standing.workers == 0
