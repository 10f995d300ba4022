"""The order in which workers take the waiting jobs of a queue: fair share across users.

The queue's *backlog* began when its oldest waiting job was submitted. A waiting job's
*round* is the number of its owner's jobs of the queue that started since then (running or
finished) plus the owner's jobs waiting before it (by ``seq``). A worker claims the waiting
job of the lowest round, the oldest (lowest ``seq``) first among equals. So:

- jobs of one user keep their order (FIFO within a user);
- users with waiting jobs take turns, round-robin (10 users queueing 20 jobs each: every
  user's n-th job starts before any user's (n+1)-th);
- while one user's 100 jobs wait, another user's first job (round 0) is next as soon as a
  worker is free: the k-th other user to queue a job waits for about ``ceil(k / workers)``
  job run times, whatever the flood;
- a user who already ran many jobs during the backlog waits behind those who ran fewer
  (fair share by recent use).

:func:`jobs_ahead` counts by the same rule, so the position a user sees is the order the
workers follow as the queue stands (it changes as jobs start and new ones come). The ranking
is one SQL query (a window function) on SQLite and PostgreSQL alike.
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
    backlog = (sa.select(sa.func.min(jobs.c.submitted))
               .where(jobs.c.queue == queue, waiting(now)).scalar_subquery())
    served = (sa.select(jobs.c.owner, sa.func.count().label("served"))
              .where(jobs.c.queue == queue, jobs.c.started >= backlog,
                     sa.not_(waiting(now)))
              .group_by(jobs.c.owner).subquery("served"))
    place = sa.func.row_number().over(partition_by=jobs.c.owner, order_by=jobs.c.seq) - 1
    queued = (sa.select(jobs.c.seq, jobs.c.owner, place.label("place"))
              .where(jobs.c.queue == queue, waiting(now)).subquery("waiting"))
    round_ = queued.c.place + sa.func.coalesce(served.c.served, 0)
    return (sa.select(queued.c.seq, queued.c.owner, round_.label("round"))
            .select_from(queued.outerjoin(served, served.c.owner == queued.c.owner))
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
