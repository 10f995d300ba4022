"""The job queue and the shared workers (PRODUCT.md §6).

Jobs from every user go through one persistent queue (optionally dedicated queues for
groups) in the platform database, SQLite by default or PostgreSQL by URL; worker processes
claim them under leases with heartbeats and keep models warm between jobs. Workers take
jobs round-robin across users, FIFO within one user (:mod:`terralab.queue.fair_order`); a
user may hold at most ``job_limit`` queued or running jobs (:mod:`terralab.queue.limits`);
an AI job's owner's quota is checked at submit and again at claim.

- ``tl.submit(tool, **params) -> Job`` (``.status``, ``.progress``, ``.standing``,
  ``.wait()``, ``.result``, ``.cancel()``), ``tl.jobs()``, ``tl.job(id)``;
- CLI: ``terralab jobs list|show|cancel``, ``terralab workers``;
- the hub service: the endpoints declared in :mod:`terralab.service.endpoints.jobs`.
"""

from __future__ import annotations

from terralab.queue.errors import (
    JobError,
    JobFailed,
    JobLimitReached,
    JobNotFound,
    QueueNotAllowed,
)
from terralab.queue.handle import Job
from terralab.queue.records import JobRecord, QueueStanding

__all__ = ["Job", "JobError", "JobFailed", "JobLimitReached", "JobNotFound", "JobRecord",
           "QueueNotAllowed", "QueueStanding"]
