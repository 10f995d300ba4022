"""What the queue knows about a job, and where a job stands in its queue."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["ACTIVE", "FINISHED", "STATUSES", "JobRecord", "QueueStanding"]

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "cancelled")


def _iso(seconds: float | None) -> str | None:
    """UNIX seconds as ISO 8601 UTC text (None stays None)."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class QueueStanding:
    """Where a queued job stands: what users of shared GPU hubs ask for.

    Attributes:
        position: 1 for the next job to start; 0 once the job runs or has finished.
        jobs_ahead: queued jobs that will start before this one.
        running: jobs of the queue running now.
        workers: live workers serving the queue.
        workers_busy: how many of them are running a job.
    """

    position: int = 0
    jobs_ahead: int = 0
    running: int = 0
    workers: int = 0
    workers_busy: int = 0

    def __str__(self) -> str:
        if self.position:
            return (f"position {self.position} in the queue ({self.jobs_ahead} jobs ahead; "
                    f"{self.workers_busy} of {self.workers} workers busy)")
        return f"{self.workers_busy} of {self.workers} workers busy"


@dataclass(frozen=True)
class JobRecord:
    """One job of the queue.

    Attributes:
        id: the job id.
        owner: the user who submitted it.
        tool: the tool's registered name.
        kind: ``"ai"`` or ``"processing"`` (AI jobs count in the AI-time quota).
        params: the tool's parameters (JSON values).
        queue: the queue it waits in (``"shared"`` unless a dedicated one).
        status: queued, running, succeeded, failed or cancelled.
        attempts: how many times a worker started it.
        max_attempts: after this many lost workers the job fails.
        progress: 0–100.
        message: what the tool reports now.
        log: the job's log lines.
        error: why it failed (or was cancelled).
        title: the result's name in my data.
        project: the analysis project it belongs to.
        submitted: UNIX seconds.
        started: when the (last) attempt started.
        finished: when it finished.
        results: the ids of its results in the owner's data.
        cancel_requested: a cancel was asked while it ran.
        worker: the worker running it (or that ran it).
        standing: its place in the queue (filled in by queries that ask for it).
    """

    id: str
    owner: str
    tool: str
    kind: str
    params: dict[str, Any]
    queue: str
    status: str
    attempts: int = 0
    max_attempts: int = 3
    progress: float = 0.0
    message: str = ""
    log: str = ""
    error: str | None = None
    title: str | None = None
    project: str | None = None
    submitted: float = 0.0
    started: float | None = None
    finished: float | None = None
    results: tuple[str, ...] = ()
    cancel_requested: bool = False
    worker: str | None = None
    standing: QueueStanding | None = field(default=None, compare=False)

    @property
    def done(self) -> bool:
        """True once the job has finished (succeeded, failed or cancelled)."""
        return self.status in FINISHED

    @property
    def run_seconds(self) -> float | None:
        """How long the last attempt ran (queue time excluded)."""
        if self.started is None:
            return None
        return (self.finished or datetime.now(UTC).timestamp()) - self.started

    @classmethod
    def from_row(cls, row: Any) -> JobRecord:
        """Build a record from a row of the ``jobs`` table."""
        data = dict(row._mapping)
        return cls(
            id=data["id"], owner=data["owner"], tool=data["tool"], kind=data["kind"],
            params=json.loads(data["params"]), queue=data["queue"], status=data["status"],
            attempts=data["attempts"], max_attempts=data["max_attempts"],
            progress=float(data["progress"] or 0.0), message=data["message"] or "",
            log=data["log"] or "", error=data["error"], title=data["title"],
            project=data["project"], submitted=data["submitted"], started=data["started"],
            finished=data["finished"], results=tuple(json.loads(data["results"] or "[]")),
            cancel_requested=bool(data["cancel_requested"]), worker=data["worker"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (times also as ISO text, for people)."""
        data = asdict(self)
        data["results"] = list(self.results)
        data["standing"] = asdict(self.standing) if self.standing else None
        for key in ("submitted", "started", "finished"):
            data[f"{key}_at"] = _iso(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobRecord:
        """The inverse of :meth:`to_dict`."""
        names = set(cls.__dataclass_fields__)
        fields = {key: value for key, value in data.items() if key in names}
        fields["results"] = tuple(fields.get("results") or ())
        standing = fields.pop("standing", None)
        return cls(**fields, standing=QueueStanding(**standing) if standing else None)
