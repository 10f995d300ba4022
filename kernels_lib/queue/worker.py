"""A worker: claims jobs from one queue and runs them, one at a time, under a lease.

While a job runs, a heartbeat thread renews the lease every second (every ``lease/3`` for
shorter leases) and asks whether the owner cancelled it. A cancelled job is stopped at the
tool's next progress report; a tool that does not report within :data:`CANCEL_GRACE`
seconds is stopped by ending the worker process (``hard_cancel``; its pool starts a new
one). A worker killed outright (SIGKILL, power loss) stops renewing its lease; once the
lease runs out another worker claims the job again. Each attempt first discards whatever
an earlier attempt published under the job's result id, so a retried job leaves exactly one
result.

Run one with ``python -m terralab.queue.worker --queue shared`` (the pool,
:mod:`terralab.queue.pool`, runs several and restarts them). A worker the pool started
(``--parent PID``) dies with its pool: on Linux the kernel sends it SIGTERM when the pool
process dies, however it died (``PR_SET_PDEATHSIG``), and on every system the worker checks
before each claim that its parent is still the pool. Either way an orphaned worker stops
claiming at once and its process ends within :data:`ORPHAN_GRACE` seconds (a job it was
running goes back to the queue when its lease runs out).
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import socket
import sys
import threading
import time
import uuid
from pathlib import Path

from terralab.ai.model_cache import ModelCache
from terralab.home import terralab_home
from terralab.queue import events, store
from terralab.queue.events import JobEvent
from terralab.queue.queues import SHARED
from terralab.queue.records import JobRecord
from terralab.queue.worker_rows import (
    DEFAULT_LEASE,
    live_window,
    register_worker,
    unregister_worker,
    worker_beat,
)

__all__ = ["CANCEL_GRACE", "DEFAULT_LEASE", "ORPHAN_GRACE", "Worker", "die_with_parent",
           "main", "result_id"]

CANCEL_GRACE = 5.0
ORPHAN_GRACE = 20.0  # the pool's own grace when it stops its workers
_PR_SET_PDEATHSIG = 1
_EXIT_CANCELLED = 75
_USER_ERRORS = (ValueError, KeyError, FileNotFoundError, PermissionError)
log = logging.getLogger("terralab.queue.worker")


class _Stop(BaseException):
    """Raised inside a tool's progress report to stop the job (cancelled or lost)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def result_id(job: JobRecord) -> str:
    """The id of the job's result in the owner's data (the same for every attempt)."""
    slug = "".join(c if c.isalnum() else "-" for c in job.tool.lower()).strip("-")[:32]
    return f"{slug or 'job'}-{job.id}"


class Worker:
    """Runs the jobs of one queue.

    Args:
        queue: the queue it serves.
        home: the terralab data folder.
        worker_id: its name in the queue (default host-pid-random).
        lease_seconds: how long a claim lasts without a heartbeat
            (the settings' ``queue.lease_seconds``, default 30).
        poll_seconds: how often an idle worker looks for work.
        hard_cancel: end the process when a cancelled tool does not stop within
            :data:`CANCEL_GRACE` (a worker process; not a worker thread inside a kernel).
        models: the model cache (a new one on the best device by default).
        restricted: file inputs must stay inside the owner's folder (shared workers); the
            worker thread of an in-process platform runs as the user and reads what
            ``tl.run`` reads.
        parent: the process id of the pool that started this worker: once this process's
            parent is another one (the pool died), the worker claims no more jobs.
    """

    def __init__(self, *, queue: str = SHARED, home: Path | None = None,
                 worker_id: str | None = None, lease_seconds: float | None = None,
                 poll_seconds: float = 1.0, hard_cancel: bool = True,
                 models: ModelCache | None = None, restricted: bool = True,
                 parent: int | None = None) -> None:
        self.queue = queue
        self.home = home or terralab_home()
        self.id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.lease_seconds = lease_seconds or live_window()
        self.poll_seconds = poll_seconds
        self.hard_cancel = hard_cancel
        self.models = models or ModelCache()
        self.jobs_done = 0
        self.running: str | None = None  # the id of the job it runs now
        self.restricted = restricted
        self.parent = parent

    def orphaned(self) -> bool:
        """True when the pool that started this worker is gone."""
        return self.parent is not None and os.getppid() != self.parent

    # -- the loop -------------------------------------------------------------------------
    def run(self, *, stop: threading.Event | None = None, until_idle: bool = False,
            max_jobs: int | None = None) -> int:
        """Claim and run jobs until ``stop`` is set (or the queue is empty, ``until_idle``).

        Returns:
            How many jobs this call ran.
        """
        stop = stop or threading.Event()
        _warm_up()
        register_worker(self.id, self.queue, host=socket.gethostname(), pid=os.getpid(),
                        device=self.models.device, home=self.home)
        ran = 0
        last_beat = 0.0
        try:
            while not stop.is_set() and (max_jobs is None or ran < max_jobs):
                if self.orphaned():
                    log.warning("worker %s: its pool (pid %s) is gone; stopping", self.id,
                                self.parent)
                    break
                job = store.claim(self.id, self.queue, lease_seconds=self.lease_seconds,
                                  home=self.home)
                if job is None:
                    if until_idle:
                        break
                    if time.monotonic() - last_beat > self.lease_seconds / 3:
                        worker_beat(self.id, None, home=self.home)
                        last_beat = time.monotonic()
                    stop.wait(self.poll_seconds)
                    continue
                self.run_job(job)
                ran += 1
        finally:
            unregister_worker(self.id, home=self.home)
        return ran

    # -- one job --------------------------------------------------------------------------
    def run_job(self, job: JobRecord) -> str:
        """Run a claimed job to its end; returns its final status as this worker saw it."""
        from terralab.tools.runner import run_tool

        self.running = job.id
        cancelled, lost, done = threading.Event(), threading.Event(), threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(job, cancelled, lost, done),
                                name=f"heartbeat-{job.id}", daemon=True)
        beat.start()  # first of all: the lease is short
        worker_beat(self.id, job.id, home=self.home)
        rid = result_id(job)
        _discard(job.owner, rid, self.home)  # an earlier attempt's leftovers
        last = [0.0, ""]

        def progress(percent: float, message: str) -> None:
            if lost.is_set():
                raise _Stop("lost")
            if cancelled.is_set():
                raise _Stop("cancelled")
            now = time.monotonic()
            if message != last[1] or now - last[0] > 1.0:
                store.report_progress(job.id, self.id, percent, message,
                                      log=message != last[1], home=self.home)
                last[:] = [now, message]

        try:
            progress(0, "started")
            result = run_tool(job.tool, user=job.owner, home=self.home, save=True,
                              title=job.title, restricted=self.restricted, progress=progress,
                              result_id=rid,
                              context={"job_id": job.id, "models": self.models,
                                       "device": self.models.device},
                              **job.params)
            if lost.is_set():
                return "lost"  # another worker runs it now; it discards what we wrote
            if cancelled.is_set():
                _discard(job.owner, rid, self.home)
                store.mark_cancelled(job.id, self.id, home=self.home)
                return "cancelled"
            ids = [record.id for record in result.records]
            if not store.finish(job.id, self.id, ids, home=self.home):
                return "lost"
            events.emit("finished", JobEvent(job.owner, job.id, job.tool, job.project,
                                             tuple(ids), self.home))
            return "succeeded"
        except _Stop as stop:
            if stop.why == "cancelled":
                _discard(job.owner, rid, self.home)
                store.mark_cancelled(job.id, self.id, home=self.home)
            return stop.why
        except Exception as error:  # the tool's own error: the job fails with it
            expected = isinstance(error, _USER_ERRORS)  # bad input: no traceback needed
            log.log(logging.INFO if expected else logging.ERROR, "job %s (%s) failed: %s",
                    job.id, job.tool, error, exc_info=not expected)
            _discard(job.owner, rid, self.home)
            store.fail(job.id, self.id, _describe(error), home=self.home)
            return "failed"
        finally:
            done.set()
            beat.join(timeout=5)
            worker_beat(self.id, None, home=self.home)
            self.jobs_done += 1
            self.running = None

    def _heartbeat(self, job: JobRecord, cancelled: threading.Event, lost: threading.Event,
                   done: threading.Event) -> None:
        """Renew the lease until the job ends; notice cancels and lost leases."""
        asked_at: float | None = None
        # every second (or a third of a shorter lease): a cancel is noticed within seconds
        interval = max(0.2, min(1.0, self.lease_seconds / 3))
        while not done.wait(interval):
            try:
                state = store.heartbeat(job.id, self.id, lease_seconds=self.lease_seconds,
                                        home=self.home)
                worker_beat(self.id, job.id, home=self.home)
            except Exception:  # a busy database: try again at the next beat
                log.warning("heartbeat of job %s failed", job.id, exc_info=True)
                continue
            if state == "lost":
                lost.set()
                return
            if state == "cancel" and not cancelled.is_set():
                cancelled.set()
                asked_at = time.monotonic()
            if asked_at is not None and time.monotonic() - asked_at > CANCEL_GRACE:
                if self.hard_cancel:
                    self._end_process(job)
                return

    def _end_process(self, job: JobRecord) -> None:
        """A cancelled tool did not stop: record the cancel, clean up, end this process."""
        log.warning("job %s did not stop within %.0f s of its cancel; ending worker %s",
                    job.id, CANCEL_GRACE, self.id)
        store.mark_cancelled(job.id, self.id, home=self.home)
        _discard(job.owner, result_id(job), self.home)
        unregister_worker(self.id, home=self.home)
        os._exit(_EXIT_CANCELLED)


def _discard(owner: str, rid: str, home: Path) -> None:
    """Remove a job's results: ``rid`` and the derived ones (``rid-1``, ``rid-2`` …)."""
    from terralab.mydata.results import discard_result

    discard_result(owner, rid, home=home)
    number = 1
    while discard_result(owner, f"{rid}-{number}", home=home) or number < 3:
        number += 1


def _warm_up() -> None:
    """Import what running a job needs before claiming one (not on the clock of a lease)."""
    import terralab.mydata.results
    import terralab.tools.outputs
    import terralab.tools.runner  # noqa: F401
    from terralab.tools.registry import default_registry

    default_registry()


def _describe(error: Exception) -> str:
    """A user-facing reason for a failed job."""
    text = str(error).strip()
    if isinstance(error, _USER_ERRORS):
        return text or type(error).__name__
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def die_with_parent(parent: int) -> bool:
    """Ask for SIGTERM when the parent process dies (Linux), then check the parent is alive.

    The parent may have died before the request: then this process's parent is no longer
    ``parent``.

    Returns:
        False when the parent is already gone.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
                log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
        except (OSError, AttributeError):
            log.warning("prctl is not available; the worker checks its pool before claims")
    return os.getppid() == parent


def main(argv: list[str] | None = None) -> None:
    """``python -m terralab.queue.worker``: one worker process."""
    parser = argparse.ArgumentParser(description="Run a terralab worker.")
    parser.add_argument("--queue", default=SHARED)
    parser.add_argument("--lease", type=float, default=None, help="lease seconds")
    parser.add_argument("--poll", type=float, default=1.0, help="poll seconds when idle")
    parser.add_argument("--parent", type=int, default=None,
                        help="the pool's process id: the worker ends when the pool does")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.parent is not None and not die_with_parent(args.parent):
        log.warning("the pool (pid %d) is gone before the worker started", args.parent)
        return
    stop = threading.Event()
    worker = Worker(queue=args.queue, lease_seconds=args.lease, poll_seconds=args.poll,
                    parent=args.parent)

    def end(*_: object) -> None:
        stop.set()
        if args.parent is not None and os.getppid() != args.parent:
            # orphaned: an idle worker ends now; a job under way has until the grace (it
            # goes back to the queue when its lease runs out)
            if worker.running is None:
                os._exit(1)
            timer = threading.Timer(ORPHAN_GRACE, os._exit, args=(1,))
            timer.daemon = True
            timer.start()

    signal.signal(signal.SIGTERM, end)
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    worker.run(stop=stop)


if __name__ == "__main__":
    main()
