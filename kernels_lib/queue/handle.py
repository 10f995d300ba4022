"""``Job``: the handle ``tl.submit`` returns, to follow a queued job and get its result."""

from __future__ import annotations

import time
from typing import Any

from terralab.queue.errors import JobFailed
from terralab.queue.records import JobRecord, QueueStanding

__all__ = ["Job"]


class Job:
    """A queued job, read again from the queue when asked (at most twice a second).

    A finished job's fields are final.

    Example::

        job = tl.submit("index", image="field.tif", index="ndvi")
        job.status, job.progress, job.standing   # queued, 0.0, position 2 (1 jobs ahead …)
        layer = job.wait().result                # the result in my data
    """

    def __init__(self, record: JobRecord, transport: Any) -> None:
        self._record = record
        self._transport = transport
        self._read_at = time.monotonic()

    @property
    def id(self) -> str:
        """The job id."""
        return self._record.id

    @property
    def tool(self) -> str:
        """The tool it runs."""
        return self._record.tool

    @property
    def record(self) -> JobRecord:
        """Everything the queue knows about the job (refreshed)."""
        if not self._record.done and time.monotonic() - self._read_at > 0.5:
            self.refresh()
        return self._record

    def refresh(self) -> Job:
        """Read the job from the queue now."""
        self._record = self._transport.get(self._record.id)
        self._read_at = time.monotonic()
        return self

    @property
    def status(self) -> str:
        """queued, running, succeeded, failed or cancelled."""
        return self.record.status

    @property
    def progress(self) -> float:
        """0–100."""
        return self.record.progress

    @property
    def message(self) -> str:
        """What the tool reports now (or why it failed)."""
        record = self.record
        return record.error if record.status == "failed" and record.error else record.message

    @property
    def standing(self) -> QueueStanding | None:
        """Position in the queue, jobs ahead and workers busy (None once finished)."""
        return self.record.standing

    @property
    def log(self) -> str:
        """The job's log."""
        return self.record.log

    @property
    def done(self) -> bool:
        """True once it succeeded, failed or was cancelled."""
        return self.record.done

    def wait(self, timeout: float | None = None, *, poll: float = 0.5,
             raise_error: bool = True) -> Job:
        """Wait until the job has finished.

        Args:
            timeout: seconds to wait at most (None: as long as it takes).
            poll: seconds between two reads of the queue.
            raise_error: raise :class:`JobFailed` when it failed or was cancelled.

        Raises:
            TimeoutError: still not finished after ``timeout`` seconds.
            JobFailed: it failed (the message says why) or was cancelled.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.refresh()._record.done:
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"job {self.id} ({self.tool}) is still {self.status} "
                                   f"after {timeout:g} s")
            time.sleep(poll)
        record = self._record
        if raise_error and record.status != "succeeded":
            why = record.error or record.status
            raise JobFailed(f"job {self.id} ({self.tool}) {record.status}: {why}", job=self)
        return self

    @property
    def results(self) -> list[Any]:
        """The results in my data (empty until the job has succeeded)."""
        record = self.record
        return self._transport.results(list(record.results)) if record.results else []

    @property
    def result(self) -> Any:
        """The (first) result in my data, or None."""
        found = self.results
        return found[0] if found else None

    def cancel(self) -> Job:
        """Cancel it: a queued job at once, a running one within seconds."""
        self._record = self._transport.cancel(self.id)
        self._read_at = time.monotonic()
        return self

    def __repr__(self) -> str:
        record = self._record
        where = f", {record.standing}" if record.standing and not record.done else ""
        return (f"<Job {record.id} {record.tool}: {record.status} "
                f"{record.progress:.0f}%{where}>")
