"""The persistent job queue: submit, claim with a lease, heartbeat, finish, cancel, query.

Every state change is one transaction on the platform database (:mod:`terralab.platform_sql`)
and names the worker that holds the job, so a worker that lost its lease (it stalled, or was
killed and its job went to another worker) can no longer change the job. After
``max_attempts`` lost workers a job fails with the reason. A tool's own error fails the job
at once (it would fail again).

**Fair order.** Within a queue, jobs are taken by fair share across users (round-robin
among the users with waiting jobs) and FIFO within one user
(:mod:`terralab.queue.fair_order`); a job whose worker died keeps its ``seq`` and its
owner's place. :func:`standing` counts the jobs ahead by the same rule, so the position
a user sees is the order the workers follow.

**Limits.** A user may hold at most ``$TERRALAB_JOB_LIMIT`` queued or running jobs (every
kind, every queue; :mod:`terralab.queue.limits`), checked in the transaction that inserts
the job (under a per-user lock on PostgreSQL), so concurrent submits cannot overshoot it.

**AI quota.** An AI job is checked against the owner's AI time at submit and again when a
worker claims it (in the claim's transaction, with the groups stored at submit): a job whose
owner's time is used up then fails with the quota message and the reset date, never
started, nothing charged, and the worker takes the next job. A job already running
finishes. Its exact run time is charged to the owner's quota in the transaction that marks
it succeeded, keyed by the job id (:mod:`terralab.quotas.ledger`), so it is charged once.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from terralab.platform_sql import engine, is_postgres
from terralab.queue import events
from terralab.queue.errors import JobError, JobLimitReached, JobNotFound
from terralab.queue.events import JobEvent
from terralab.queue.fair_order import jobs_ahead, ranked, waiting
from terralab.queue.limits import job_limits
from terralab.queue.queues import SHARED, QueueConfig
from terralab.queue.records import ACTIVE, JobRecord, QueueStanding
from terralab.queue.tables import jobs, workers
from terralab.queue.worker_rows import live_window
from terralab.quotas.checks import QuotaExceeded, check_ai
from terralab.quotas.policy import QuotaPolicy
from terralab.settings import QueueSettings, settings

__all__ = ["DEFAULT_MAX_ATTEMPTS", "cancel", "check_job_limit", "claim", "fail", "finish",
           "get_job", "get_jobs", "heartbeat", "list_jobs", "mark_cancelled",
           "report_progress", "standing", "submit"]

DEFAULT_MAX_ATTEMPTS = QueueSettings().max_attempts
_LOG_LINE_MAX = 2000
_CANDIDATES = 20  # waiting jobs a claim looks at per query, in the fair order


def _max_attempts() -> int:
    """The settings' ``queue.max_attempts`` (``$TERRALAB_JOB_MAX_ATTEMPTS``)."""
    return settings().queue.max_attempts


def _line(text: str, now: float) -> str:
    stamp = time.strftime("%H:%M:%S", time.gmtime(now))
    return f"{stamp} {text[:_LOG_LINE_MAX]}\n"


def _json_params(tool: str, params: dict[str, Any]) -> str:
    try:
        return json.dumps(params, sort_keys=True)
    except (TypeError, ValueError):
        raise JobError(f"{tool}: a queued job takes file paths, my-data or catalog ids and "
                       "plain values, not in-memory data (use tl.run for a DataArray)"
                       ) from None


def check_job_limit(db: sa.Connection, owner: str, groups: Iterable[str] = ()) -> None:
    """Refuse one more job of ``owner`` past their limit of queued and running jobs.

    Call it in the transaction that inserts the job: on PostgreSQL it takes a per-user lock
    held to the end of that transaction, so two submits at once cannot both take the last
    place (on SQLite the transaction holds the write lock already). Every kind of job
    counts, in every queue.

    Raises:
        JobLimitReached: the user has as many queued and running jobs as they may.
    """
    limit = job_limits().limit_for(owner, tuple(groups))
    if is_postgres(db):
        db.execute(sa.select(sa.func.pg_advisory_xact_lock(
            sa.func.hashtext(sa.literal("terralab-jobs:") + owner))))
    active = db.execute(sa.select(sa.func.count()).select_from(jobs).where(
        jobs.c.owner == owner, jobs.c.status.in_(ACTIVE))).scalar_one()
    if active >= limit:
        raise JobLimitReached(
            f"you have {active} jobs queued or running, your limit is {limit}: wait until "
            "some finish (or cancel some) before queueing more", active=active, limit=limit)


def submit(owner: str, tool: str, params: dict[str, Any], *, queue: str = SHARED,
           project: str | None = None, title: str | None = None, groups: Iterable[str] = (),
           admin: bool = False, max_attempts: int | None = None,
           queues: QueueConfig | None = None, home: Path | None = None) -> JobRecord:
    """Put a job at the end of ``queue``.

    Args:
        owner: the user the job runs for.
        tool: a registered tool name.
        params: its parameters (checked now with the tool's parameter model).
        queue: ``"shared"`` or a dedicated queue of one of the user's groups.
        project: an analysis project of ``owner`` that records the run and its results
            (through the job events, :mod:`terralab.queue.events`).
        title: the result's name in my data.
        groups: the user's groups (dedicated queues, group quotas).
        admin: the user is an admin (may use every queue).
        max_attempts: how many lost workers the job survives (default 3, or
            ``$TERRALAB_JOB_MAX_ATTEMPTS``).
        queues: the deployment's queues (default: the settings' ``queue.queues``).
        home: the terralab data folder.

    Raises:
        JobError: unknown tool, bad parameters, unknown project (the message says which).
        QueueNotAllowed: a queue the user may not use.
        QuotaExceeded: an AI tool while the user's AI time is used up (with the reset date).
        JobLimitReached: the user has as many queued and running jobs as they may.
    """
    from terralab.tools.registry import default_registry
    from terralab.tools.runner import ToolParameterError, validate_params

    groups = tuple(groups)
    try:
        tool_class = default_registry()[tool]
        validate_params(tool, params)
    except KeyError as error:
        raise JobError(str(error.args[0])) from None
    except ToolParameterError as error:
        raise JobError(str(error)) from None
    text = _json_params(tool, params)
    (queues or QueueConfig.from_env()).check(queue, groups, admin=admin)
    kind = tool_class.info.kind
    if kind == "ai":
        check_ai(owner, groups, home=home)
    events.emit("submitting", JobEvent(owner, "", tool, project, home=home))
    now = time.time()
    job_id = uuid.uuid4().hex[:16]
    with engine(home).begin() as db:
        check_job_limit(db, owner, groups)
        db.execute(jobs.insert().values(
            id=job_id, owner=owner, tool=tool, kind=kind, params=text, title=title,
            project=project, queue=queue, status="queued", attempts=0,
            max_attempts=max_attempts or _max_attempts(), progress=0.0, message="queued",
            log=_line(f"submitted to queue {queue}", now), cancel_requested=False,
            submitted=now, results="[]", groups=json.dumps(sorted(groups))))
    events.emit("submitted", JobEvent(owner, job_id, tool, project, home=home))
    return get_job(job_id, with_standing=True, home=home)


def _sweep(db: sa.Connection, queue: str, now: float) -> None:
    """End the running jobs of ``queue`` whose worker vanished and that must not run again."""
    lost = sa.and_(jobs.c.queue == queue, jobs.c.status == "running", jobs.c.lease_until < now)
    db.execute(jobs.update().where(lost, jobs.c.cancel_requested).values(
        status="cancelled", finished=now, error="cancelled", message="cancelled",
        log=jobs.c.log + _line("cancelled (its worker had stopped)", now)))
    db.execute(jobs.update().where(lost, jobs.c.attempts >= jobs.c.max_attempts).values(
        status="failed", finished=now, message="failed",
        error=sa.literal("the worker running it stopped ") + sa.cast(jobs.c.attempts, sa.Text)
        + sa.literal(" times; giving up"),
        log=jobs.c.log + _line("failed: lost its worker too many times", now)))


def _quota_refusal(db: sa.Connection, row: Any, policy: QuotaPolicy,
                   seen: dict[str, str | None]) -> str | None:
    """Why a not yet started AI job may not start now (its owner's AI time is used up)."""
    if row.kind != "ai" or row.attempts > 0:  # a retried job was under way: it may finish
        return None
    if row.owner not in seen:
        groups = tuple(json.loads(row.groups or "[]"))
        try:
            check_ai(row.owner, groups, policy=policy, connection=db)
            seen[row.owner] = None
        except QuotaExceeded as error:
            seen[row.owner] = str(error)
    return seen[row.owner]


def claim(worker_id: str, queue: str = SHARED, *, lease_seconds: float = 30.0,
          home: Path | None = None) -> JobRecord | None:
    """Take the next waiting job of ``queue`` in the fair order (or one whose worker died).

    An AI job whose owner's AI time is used up is failed on the way (with the quota message
    and its reset date; never started, nothing charged) and the next job is taken.

    Returns:
        The job, now ``running`` under a lease of ``lease_seconds``; None when none waits.
    """
    bind = engine(home)
    postgres = is_postgres(bind)
    policy = QuotaPolicy.from_env()
    seen: dict[str, str | None] = {}
    with bind.begin() as db:
        now = time.time()  # inside the transaction: on SQLite claims are serialised here
        _sweep(db, queue, now)
        while True:
            order = ranked(queue, now)
            candidates = db.execute(sa.select(order.c.seq)
                                    .order_by(order.c.round, order.c.seq)
                                    .limit(_CANDIDATES)).scalars().all()
            refused = 0
            for seq in candidates:
                query = (sa.select(jobs.c.seq, jobs.c.owner, jobs.c.kind, jobs.c.groups,
                                   jobs.c.attempts)
                         .where(jobs.c.seq == seq, jobs.c.queue == queue, waiting(now)))
                if postgres:  # another worker's claim holds it: skip, never wait
                    query = query.with_for_update(skip_locked=True)
                row = db.execute(query).first()
                if row is None:
                    continue
                why = _quota_refusal(db, row, policy, seen)
                if why is not None:
                    db.execute(jobs.update().where(jobs.c.seq == row.seq).values(
                        status="failed", finished=now, error=why, message="failed",
                        lease_until=None, log=jobs.c.log + _line(f"not started: {why}", now)))
                    refused += 1
                    continue
                attempt = row.attempts + 1
                db.execute(jobs.update().where(jobs.c.seq == row.seq).values(
                    status="running", attempts=attempt, worker=worker_id,
                    lease_until=now + lease_seconds, started=now, finished=None, progress=0.0,
                    message="started",
                    log=jobs.c.log + _line(f"attempt {attempt} on {worker_id}", now)))
                found = db.execute(sa.select(jobs).where(jobs.c.seq == row.seq)).first()
                return JobRecord.from_row(found)
            if not refused:  # none waits, or other workers are taking them right now
                return None


def _held(job_id: str, worker_id: str) -> Any:
    return sa.and_(jobs.c.id == job_id, jobs.c.worker == worker_id, jobs.c.status == "running")


def heartbeat(job_id: str, worker_id: str, *, lease_seconds: float = 30.0,
              home: Path | None = None) -> str:
    """Extend the worker's lease on a job.

    Returns:
        ``"ok"``, ``"cancel"`` (the owner asked to cancel it) or ``"lost"`` (the job is no
        longer this worker's: its lease ran out and another worker took it).
    """
    now = time.time()
    with engine(home).begin() as db:
        updated = db.execute(jobs.update().where(_held(job_id, worker_id)).values(
            lease_until=now + lease_seconds))
        if updated.rowcount == 0:
            return "lost"
        asked = db.execute(sa.select(jobs.c.cancel_requested).where(jobs.c.id == job_id)
                           ).scalar_one()
    return "cancel" if asked else "ok"


def report_progress(job_id: str, worker_id: str, percent: float, message: str, *,
                    log: bool = True, home: Path | None = None) -> bool:
    """Record a running job's progress; returns False when the worker no longer holds it."""
    now = time.time()
    values: dict[str, Any] = {"progress": max(0.0, min(100.0, float(percent))),
                              "message": message[:_LOG_LINE_MAX]}
    if log:
        values["log"] = jobs.c.log + _line(f"{percent:5.1f}% {message}", now)
    with engine(home).begin() as db:
        return db.execute(jobs.update().where(_held(job_id, worker_id)).values(**values)
                          ).rowcount == 1


def finish(job_id: str, worker_id: str, results: list[str], *,
           home: Path | None = None) -> bool:
    """Mark a job succeeded with its results; charge an AI job's run time once.

    Returns:
        True when this worker still held the job (False: another worker owns it now).
    """
    now = time.time()
    with engine(home).begin() as db:
        row = db.execute(sa.select(jobs).where(_held(job_id, worker_id))).first()
        if row is None:
            return False
        db.execute(jobs.update().where(jobs.c.seq == row.seq).values(
            status="succeeded", finished=now, progress=100.0, message="done",
            results=json.dumps(results), lease_until=None,
            log=jobs.c.log + _line(f"succeeded: {', '.join(results) or 'no result'}", now)))
        if row.kind == "ai":
            from terralab.quotas.ledger import AI_SECONDS, charge

            charge(db, kind=AI_SECONDS, key=job_id, owner=row.owner,
                   amount=max(0.0, now - row.started), home=home)
    return True


def fail(job_id: str, worker_id: str, error: str, *, home: Path | None = None) -> bool:
    """Mark a job failed with ``error`` (nothing is charged)."""
    now = time.time()
    with engine(home).begin() as db:
        return db.execute(jobs.update().where(_held(job_id, worker_id)).values(
            status="failed", finished=now, error=error[:_LOG_LINE_MAX], message="failed",
            lease_until=None, log=jobs.c.log + _line(f"failed: {error}", now))).rowcount == 1


def mark_cancelled(job_id: str, worker_id: str, *, home: Path | None = None) -> bool:
    """The worker stopped a job whose cancel was asked."""
    now = time.time()
    with engine(home).begin() as db:
        return db.execute(jobs.update().where(_held(job_id, worker_id)).values(
            status="cancelled", finished=now, error="cancelled", message="cancelled",
            lease_until=None, log=jobs.c.log + _line("cancelled while running", now))
        ).rowcount == 1


def _owned(job_id: str, owner: str | None) -> Any:
    clause = jobs.c.id == job_id
    return clause if owner is None else sa.and_(clause, jobs.c.owner == owner)


def cancel(job_id: str, *, owner: str | None, home: Path | None = None) -> JobRecord:
    """Cancel a job: a queued one at once, a running one within seconds (its worker stops it).

    Args:
        job_id: the job.
        owner: its owner (None: an admin, any job).
        home: the terralab data folder.

    Raises:
        JobNotFound: no such job of ``owner``.
    """
    now = time.time()
    with engine(home).begin() as db:
        row = db.execute(sa.select(jobs.c.status).where(_owned(job_id, owner))).first()
        if row is None:
            raise JobNotFound(f"no job {job_id!r}")
        if row.status == "queued":
            db.execute(jobs.update().where(jobs.c.id == job_id).values(
                status="cancelled", finished=now, error="cancelled", message="cancelled",
                log=jobs.c.log + _line("cancelled before it started", now)))
        elif row.status == "running":
            db.execute(jobs.update().where(jobs.c.id == job_id).values(
                cancel_requested=True, message="cancelling",
                log=jobs.c.log + _line("cancel asked", now)))
    return get_job(job_id, owner=owner, home=home)


def standing(job: JobRecord, *, home: Path | None = None, live_seconds: float | None = None
             ) -> QueueStanding:
    """Where ``job`` stands in its queue (position, jobs ahead, workers busy).

    The jobs ahead are the waiting jobs a worker would claim first by the rule
    :func:`claim` follows (:mod:`terralab.queue.fair_order`), as the queue stands now.
    """
    now = time.time()
    within = live_window() if live_seconds is None else live_seconds
    with engine(home).connect() as db:
        live = db.execute(sa.select(workers.c.job).where(
            workers.c.queue == job.queue, workers.c.heartbeat > now - within)).all()
        running = db.execute(sa.select(sa.func.count()).select_from(jobs).where(
            jobs.c.queue == job.queue, jobs.c.status == "running")).scalar_one()
        ahead = jobs_ahead(db, job.id, job.queue, now) if job.status == "queued" else 0
    return QueueStanding(position=ahead + 1 if job.status == "queued" else 0,
                         jobs_ahead=ahead, running=running, workers=len(live),
                         workers_busy=sum(1 for row in live if row.job))


def get_job(job_id: str, *, owner: str | None = None, with_standing: bool = False,
            home: Path | None = None) -> JobRecord:
    """Return job ``job_id`` (of ``owner``; None: any owner, for admins and workers).

    Raises:
        JobNotFound: no such job of ``owner``; another user's job reads the same.
    """
    with engine(home).connect() as db:
        row = db.execute(sa.select(jobs).where(_owned(job_id, owner))).first()
    if row is None:
        raise JobNotFound(f"no job {job_id!r}")
    record = JobRecord.from_row(row)
    if with_standing and record.status in ACTIVE:
        from dataclasses import replace

        record = replace(record, standing=standing(record, home=home))
    return record


def list_jobs(*, owner: str | None = None, status: str | Iterable[str] | None = None,
              queue: str | None = None, limit: int = 100, newest_first: bool = True,
              home: Path | None = None) -> list[JobRecord]:
    """Jobs of ``owner`` (None: everybody's, the admin's view of the queue)."""
    query = sa.select(jobs)
    if owner is not None:
        query = query.where(jobs.c.owner == owner)
    if status is not None:
        query = query.where(jobs.c.status.in_([status] if isinstance(status, str) else status))
    if queue is not None:
        query = query.where(jobs.c.queue == queue)
    query = query.order_by(jobs.c.seq.desc() if newest_first else jobs.c.seq).limit(limit)
    with engine(home).connect() as db:
        return [JobRecord.from_row(row) for row in db.execute(query)]


def get_jobs(owner: str, ids: list[str], *, home: Path | None = None) -> list[dict[str, Any]]:
    """Summaries of ``owner``'s jobs ``ids`` in that order (a project's history)."""
    if not ids:
        return []
    with engine(home).connect() as db:
        rows = db.execute(sa.select(jobs).where(jobs.c.owner == owner, jobs.c.id.in_(ids)))
        found = {row.id: JobRecord.from_row(row) for row in rows}
    keys = ("id", "tool", "status", "progress", "submitted_at", "started_at", "finished_at",
            "results", "error", "title")
    return [{key: found[i].to_dict()[key] for key in keys} for i in ids if i in found]
