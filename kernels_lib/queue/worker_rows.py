"""The ``workers`` table: which worker processes are alive, and what each one runs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from terralab.platform_sql import engine
from terralab.queue.tables import workers

__all__ = ["live_workers", "register_worker", "unregister_worker", "worker_beat"]


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


def live_workers(queue: str | None = None, *, within: float = 90.0,
                 home: Path | None = None) -> list[dict[str, Any]]:
    """Workers that reported within ``within`` seconds (of ``queue``, or all)."""
    query = sa.select(workers).where(workers.c.heartbeat > time.time() - within)
    if queue is not None:
        query = query.where(workers.c.queue == queue)
    with engine(home).connect() as db:
        return [dict(row._mapping) for row in db.execute(query.order_by(workers.c.id))]
