"""A progress bar of a queued job (:class:`terralab.queue.Job`) that never blocks the kernel.

::

    job = tl.submit("index", image="field.tif", index="ndvi")
    JobProgress(job)          # position in the queue, then percent, then the result

A daemon thread reads the job every ``interval`` seconds until it is done and updates an
``IntProgress`` and a ``Label`` (widget updates from a thread reach the front end).
:meth:`JobProgress.update` does one read synchronously (tests, or callers that poll).
"""

from __future__ import annotations

import threading
from typing import Any

from ipywidgets import HBox, IntProgress, Label, Layout

__all__ = ["JobProgress"]

_BAR_STYLE = {"queued": "info", "running": "", "succeeded": "success", "failed": "danger",
              "cancelled": "warning"}


def _result_text(job: Any) -> str:
    try:
        result = job.result
    except Exception as error:  # the bar must not die on a result it cannot read
        return f"done (result unreadable: {error})"
    if result is None:
        return "done"
    title = getattr(result, "title", None) or getattr(result, "id", None) or result
    return f"done: {title}"


class JobProgress(HBox):
    """An ``IntProgress`` and a ``Label`` following a job until it has finished.

    Args:
        job: a :class:`terralab.queue.Job` (anything with ``status``, ``progress``,
            ``message``, ``standing``, ``done`` and ``result``).
        interval: seconds between two reads of the job.
        start: start the background thread now (False: call :meth:`update` yourself).
    """

    def __init__(self, job: Any, *, interval: float = 1.0, start: bool = True) -> None:
        self.job = job
        self.interval = float(interval)
        self.bar = IntProgress(value=0, min=0, max=100, layout=Layout(width="220px"))
        self.label = Label("")
        super().__init__([self.bar, self.label])
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None
        self.update()
        if start and not self.finished:
            self.start()

    @property
    def finished(self) -> bool:
        """True once the job is done (or could no longer be read)."""
        return self._stop.is_set()

    def start(self) -> None:
        """Start the background refresh (once)."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="terralab-job-progress",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop following the job (the widgets keep their last state)."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the background thread to end (tests)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.update()

    def update(self) -> None:
        """Read the job once and show where it stands; stop once it is done."""
        try:
            status = str(self.job.status)
            progress = float(self.job.progress or 0)
            message = str(self.job.message or "")
            done = bool(self.job.done)
        except Exception as error:  # the queue went away: show it, stop polling
            self.error = f"{type(error).__name__}: {error}"
            self.label.value = f"cannot read the job: {self.error}"
            self.bar.bar_style = "danger"
            self._stop.set()
            return
        self.bar.bar_style = _BAR_STYLE.get(status, "")
        if status == "queued":
            standing = self.job.standing
            self.bar.value = 0
            self.label.value = f"queued: {standing}" if standing else "queued"
        elif status == "running":
            self.bar.value = max(0, min(100, round(progress)))
            self.label.value = f"{progress:.0f}%" + (f" {message}" if message else "")
        elif status == "succeeded":
            self.bar.value = 100
            self.label.value = _result_text(self.job)
        else:
            self.label.value = f"{status}: {message}" if message else status
        if done:
            self._stop.set()
