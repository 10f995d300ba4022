"""Hub settings of the job queue and the shared workers (mixed into ``TerralabHub``).

``c.TerralabHub.worker_count``, ``job_queues``, ``platform_db_url``, ``job_max_attempts``
and ``job_lease_seconds`` configure the managed service ``terralab-workers``
(:mod:`terralab.queue.pool`) and the hub service, which read them from the settings document
(:meth:`QueueSettings.queue_settings`, :mod:`terralab.settings`).
``job_limit``, ``job_limit_users`` and ``job_limit_groups`` bound how many jobs one user may
have queued or running (:mod:`terralab.queue.limits`).
"""

from __future__ import annotations

import sys
from typing import Any

from pydantic import ValidationError
from traitlets import Dict, Float, HasTraits, Int, TraitError, Unicode, validate

from terralab.settings import QueueSettings as SettingsQueue
from terralab.settings import problems

__all__ = ["WORKERS_SERVICE", "QueueSettings"]

WORKERS_SERVICE = "terralab-workers"


class QueueSettings(HasTraits):
    """Traits of the queue and the workers."""

    worker_count = Int(
        1,
        config=True,
        help="""How many worker processes serve the shared queue (default 1 on the embedded
        default; one per GPU is a good start on a GPU machine). Dedicated queues set their
        own counts in job_queues.""",
    )

    job_queues = Dict(
        config=True,
        help="""Dedicated queues bound to groups (the "dedicated instance"), e.g.
        {"lab-a": {"workers": 1, "groups": ["lab-a"]}}. Only members of the groups (and
        admins) may submit to such a queue; everybody uses "shared".""",
    )

    platform_db_url = Unicode(
        "",
        config=True,
        help="""The platform database of the queue, the quota ledger and accounts: empty for
        the SQLite file TERRALAB_HOME/platform.db (WAL), or a PostgreSQL URL such as
        postgresql://terralab:secret@db/terralab (psycopg 3).""",
    )

    job_max_attempts = Int(
        3, config=True,
        help="How many times a job is started again after its worker died before it fails.",
    )

    job_lease_seconds = Float(
        30.0, config=True,
        help="""How long a worker's claim on a job lasts without a heartbeat; a killed
        worker's job runs again after this long. Heartbeats come every third of it.""",
    )

    job_limit = Int(
        100, config=True,
        help="""How many jobs one user may have queued or running at once, of every kind
        (AI and processing tools, publishing uploads) in every queue. One more is refused
        (HTTP 429) until one of them ends, so one user's flood cannot fill the queue.
        job_limit_users and job_limit_groups override it.""",
    )

    job_limit_users = Dict(
        config=True,
        help="""Per-user job limits, e.g. {"alice": 500}; a user's own value wins over
        their groups' and the default.""",
    )

    job_limit_groups = Dict(
        config=True,
        help="""Per-group job limits, e.g. {"lab-a": 300}; a user in several groups gets the
        largest value of them.""",
    )

    @validate("job_limit", "job_limit_users", "job_limit_groups")
    def _check_job_limits(self, proposal: dict[str, Any]) -> Any:
        name, value = proposal["trait"].name, proposal["value"]
        try:  # the same reading as the service and workers do
            SettingsQueue.model_validate({name: value})
        except ValidationError as error:
            raise TraitError(f"{name}: {problems(error)}") from None
        return value

    @validate("job_queues")
    def _check_queues(self, proposal: dict[str, Any]) -> dict[str, Any]:
        from terralab.queue.queues import QueueConfig

        QueueConfig.parse(proposal["value"])
        return proposal["value"]

    @validate("worker_count", "job_max_attempts")
    def _check_counts(self, proposal: dict[str, Any]) -> int:
        if proposal["value"] < (0 if proposal["trait"].name == "worker_count" else 1):
            raise ValueError(f"{proposal['trait'].name} is too small: {proposal['value']}")
        return proposal["value"]

    def queue_settings(self) -> dict[str, Any]:
        """These settings as the settings document's ``queue`` (``QueueSettings``)."""
        from terralab.queue.queues import QueueConfig

        queues = QueueConfig.parse(self.job_queues).queues
        return {
            "queues": {**{name: {"workers": spec.workers, "groups": list(spec.groups)}
                          for name, spec in queues.items()},
                       "shared": {"workers": self.worker_count, "groups": []}},
            "max_attempts": self.job_max_attempts,
            "lease_seconds": self.job_lease_seconds,
            "job_limit": self.job_limit,
            "job_limit_users": dict(self.job_limit_users),
            "job_limit_groups": dict(self.job_limit_groups),
        }

    def workers_service(self, environment: dict[str, str]) -> dict[str, Any]:
        """The managed JupyterHub service that runs the worker pool."""
        return {
            "name": WORKERS_SERVICE,
            "command": [sys.executable, "-m", "terralab.queue.pool"],
            "environment": dict(environment),
            "display": False,
            "info": {"description": "terralab shared workers (the job queue's pool)"},
        }
