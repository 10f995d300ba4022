"""The queue's tables in the platform database (:mod:`terralab.platform_sql`).

``jobs``: one row per submitted job. ``seq`` orders the queue (FIFO within ``queue``); a job
that loses its worker keeps its ``seq`` and so runs again before later jobs. ``lease_until``
is the time (UNIX seconds) the running worker's lease expires; its heartbeats extend it.
``groups`` keeps the owner's groups at submit (JSON list), so a worker that claims the job
checks the owner's group quotas without asking the hub. ``kind`` is the tool's kind (``ai``,
``processing``) or another kind of queued work (e.g. ``publish``).

Columns added after a release are nullable: :func:`terralab.platform_sql.engine` adds them
to an existing platform database when it opens it.

``workers``: one row per live worker process (its heartbeat and current job), which users
see as "workers busy" and admins as the pool.
"""

from __future__ import annotations

import sqlalchemy as sa

from terralab.platform_sql import metadata

__all__ = ["jobs", "workers"]

jobs = sa.Table(
    "jobs", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("owner", sa.String(255), nullable=False, index=True),
    sa.Column("tool", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # ai | processing | publish …
    sa.Column("params", sa.Text, nullable=False),  # JSON of the validated parameters
    sa.Column("title", sa.Text),
    sa.Column("project", sa.String(64)),
    sa.Column("queue", sa.String(64), nullable=False, default="shared"),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("max_attempts", sa.Integer, nullable=False, default=3),
    sa.Column("progress", sa.Float, nullable=False, default=0.0),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("log", sa.Text, nullable=False, default=""),
    sa.Column("error", sa.Text),
    sa.Column("cancel_requested", sa.Boolean, nullable=False, default=False),
    sa.Column("worker", sa.String(80)),
    sa.Column("lease_until", sa.Float),
    sa.Column("submitted", sa.Float, nullable=False),  # UNIX seconds
    sa.Column("started", sa.Float),  # start of the attempt that is running / ran last
    sa.Column("finished", sa.Float),
    sa.Column("results", sa.Text, nullable=False, default="[]"),  # JSON list of my-data ids
    sa.Column("groups", sa.Text),  # JSON list: the owner's groups at submit (group quotas)
    sa.Index("jobs_queue_status_seq", "queue", "status", "seq"),
    sa.Index("jobs_owner_status", "owner", "status"),
    sa.Index("jobs_queue_started", "queue", "started"),  # the fair order's backlog count
)

workers = sa.Table(
    "workers", metadata,
    sa.Column("id", sa.String(80), primary_key=True),
    sa.Column("queue", sa.String(64), nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("device", sa.String(20), nullable=False),
    sa.Column("started", sa.Float, nullable=False),
    sa.Column("heartbeat", sa.Float, nullable=False),
    sa.Column("job", sa.String(40)),
)
