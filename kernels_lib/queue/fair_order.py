"""The order in which workers take the waiting jobs of a queue: round-robin across users.

A waiting job's *round* is the number of its owner's jobs of the queue that run now plus the
owner's jobs waiting before it (by ``seq``). A worker claims the waiting job of the lowest
round, the oldest (lowest ``seq``) first among equals. So jobs of one user keep their order
(FIFO within a user), and while one user's 100 jobs wait another user's first job (round 0)
is next as soon as a worker is free: the k-th other user to queue a job waits for about
``ceil(k / workers)`` job run times, whatever the flood.

Claiming a job moves it from "waiting" to "running" without changing its owner's other
rounds, so the order of the waiting jobs only changes when a running job ends (its owner's
jobs move up a round) or new jobs come. :func:`jobs_ahead` counts by the same rule, so the
position a user sees is the order the workers follow. The ranking is one SQL query (a window
function) on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from terralab.queue.tables import jobs

__all__ = ["jobs_ahead", "ranked", "waiting"]


def waiting(now: float) -> Any:
    """Jobs a worker may take: queued, or running under a lease that ran out."""
    return sa.or_(jobs.c.status == "queued",
                  sa.and_(jobs.c.status == "running", jobs.c.lease_until < now))


def ranked(queue: str, now: float) -> sa.Subquery:
    """The waiting jobs of ``queue`` with their round: columns ``seq``, ``owner``, ``round``.

    Claims take them by ``(round, seq)``.
    """
    running = (sa.select(jobs.c.owner, sa.func.count().label("running"))
               .where(jobs.c.queue == queue, jobs.c.status == "running",
                      jobs.c.lease_until >= now)
               .group_by(jobs.c.owner).subquery("running_now"))
    place = sa.func.row_number().over(partition_by=jobs.c.owner, order_by=jobs.c.seq) - 1
    queued = (sa.select(jobs.c.seq, jobs.c.owner, place.label("place"))
              .where(jobs.c.queue == queue, waiting(now)).subquery("waiting"))
    round_ = queued.c.place + sa.func.coalesce(running.c.running, 0)
    return (sa.select(queued.c.seq, queued.c.owner, round_.label("round"))
            .select_from(queued.outerjoin(running, running.c.owner == queued.c.owner))
            .subquery("ranked"))


def jobs_ahead(db: sa.Connection, job_id: str, queue: str, now: float) -> int:
    """How many waiting jobs of ``queue`` a worker would take before job ``job_id``."""
    order = ranked(queue, now)
    mine = db.execute(sa.select(order.c.round, order.c.seq)
                      .join(jobs, jobs.c.seq == order.c.seq).where(jobs.c.id == job_id)).first()
    if mine is None:
        return 0
    before = sa.or_(order.c.round < mine.round,
                    sa.and_(order.c.round == mine.round, order.c.seq < mine.seq))
    return db.execute(sa.select(sa.func.count()).select_from(order).where(before)).scalar_one()
