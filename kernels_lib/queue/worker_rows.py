"""The ``workers`` table: which worker processes are alive, and what each one runs.

A worker renews its row at least every third of its lease (idle or busy). A row whose
heartbeat is older than one lease (the settings' ``queue.lease_seconds``, default 30 s) belongs to
a worker that stopped or hangs: it no longer counts as live (users' "workers busy", the
admin's pool, whether a kernel starts a worker thread of its own), the same rule that gives
its job to another worker.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from terralab.platform_sql import engine
from terralab.queue.tables import workers
from terralab.settings import QueueSettings, settings

__all__ = ["DEFAULT_LEASE", "live_window", "live_workers", "register_worker", "unregister_worker",
           "worker_beat"]

DEFAULT_LEASE = QueueSettings().lease_seconds
"""A worker's lease on its job, in seconds, unless the settings' ``queue.lease_seconds`` say."""


def live_window() -> float:
    """The configured lease (``$TERRALAB_JOB_LEASE_SECONDS`` without a hub), in seconds.

    A worker holds its job that long between heartbeats, and a worker counts as live while
    its last heartbeat is that recent.
    """
    return settings().queue.lease_seconds


def register_worker(worker_id: str, queue: str, *, host: str, pid: int, device: str,
                    home: Path | None = None) -> None:
    """Add (or renew) a worker's row."""
    now = time.time()
    with engine(home).begin() as db:
        db.execute(workers.delete().where(workers.c.id == worker_id))
        db.execute(workers.insert().values(id=worker_id, queue=queue, host=host, pid=pid,
                                           device=device, started=now, heartbeat=now, job=None))


def worker_beat(worker_id: str, job: str | None, *, home: Path | None = None) -> None:
    """Record that the worker is alive and which job it runs (None: idle)."""
    with engine(home).begin() as db:
        db.execute(workers.update().where(workers.c.id == worker_id).values(
            heartbeat=time.time(), job=job))


def unregister_worker(worker_id: str, *, home: Path | None = None) -> None:
    """Remove a worker's row (it stopped cleanly)."""
    with engine(home).begin() as db:
        db.execute(workers.delete().where(workers.c.id == worker_id))


def live_workers(queue: str | None = None, *, within: float | None = None,
                 home: Path | None = None) -> list[dict[str, Any]]:
    """Workers of ``queue`` (or all) that reported within ``within`` seconds.

    ``within`` defaults to :func:`live_window` (one lease).
    """
    within = live_window() if within is None else within
    query = sa.select(workers).where(workers.c.heartbeat > time.time() - within)
    if queue is not None:
        query = query.where(workers.c.queue == queue)
    with engine(home).connect() as db:
        return [dict(row._mapping) for row in db.execute(query.order_by(workers.c.id))]
