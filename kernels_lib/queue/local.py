"""The in-process transport of the queue: no hub, the platform runs in this process.

Jobs go into the local platform database like anywhere else. If no worker pool serves the
queue (``terralab workers`` in another terminal, or the hub's), a worker thread starts in
this process and runs the queue until it is empty, so ``tl.submit(...).wait()`` works in a
plain notebook or script. A cancelled job in a worker thread stops at the tool's next
progress report (a thread cannot be killed; the pool's worker processes can).
The settings' ``queue.local_worker`` (``$TERRALAB_LOCAL_WORKER=0``) turns the thread off
(jobs then wait for a pool).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from terralab.home import terralab_home
from terralab.identity import current_user
from terralab.queue import store
from terralab.queue.records import JobRecord
from terralab.queue.worker_rows import live_workers
from terralab.settings import settings

__all__ = ["LocalJobs", "ensure_local_worker"]

_threads: dict[tuple[str, str], threading.Thread] = {}
_lock = threading.Lock()


def _pending(queue: str, home: Path) -> bool:
    return bool(store.list_jobs(status="queued", queue=queue, limit=1, home=home))


def _serve(queue: str, home: Path) -> None:
    from terralab.queue.worker import Worker

    worker = Worker(queue=queue, home=home, hard_cancel=False, poll_seconds=0.2,
                    restricted=False)
    key = (str(home), queue)
    while True:
        worker.run(until_idle=True)
        with _lock:
            if not _pending(queue, home):
                _threads.pop(key, None)
                return


def ensure_local_worker(queue: str, *, home: Path | None = None) -> bool:
    """Start a worker thread for ``queue`` unless one runs here or a pool serves the queue.

    Returns:
        True when a thread runs (or was started) in this process.
    """
    home = home or terralab_home()
    if not settings().queue.local_worker:
        return False
    key = (str(home), queue)
    with _lock:
        if key in _threads:
            return True
        if live_workers(queue, within=10.0, home=home):
            return False
        thread = threading.Thread(target=_serve, args=(queue, home), daemon=True,
                                  name=f"terralab-worker-{queue}")
        _threads[key] = thread
        thread.start()
    return True


class LocalJobs:
    """Queue calls against the local platform database, for one user."""

    def __init__(self, user: str | None = None, *, home: Path | None = None) -> None:
        self.user = user or current_user()
        self.home = home or terralab_home()

    def submit(self, tool: str, params: dict[str, Any], *, queue: str, project: str | None,
               title: str | None) -> JobRecord:
        """Queue a job and make sure something runs it."""
        record = store.submit(self.user, tool, params, queue=queue, project=project,
                              title=title, home=self.home)
        ensure_local_worker(queue, home=self.home)
        return record

    def get(self, job_id: str) -> JobRecord:
        """This user's job, with its place in the queue."""
        return store.get_job(job_id, owner=self.user, with_standing=True, home=self.home)

    def list(self, *, status: str | None = None, everybody: bool = False,
             limit: int = 50) -> list[JobRecord]:
        """This user's jobs, newest first (``everybody``: all users', as an admin sees)."""
        return store.list_jobs(owner=None if everybody else self.user, status=status,
                               limit=limit, home=self.home)

    def cancel(self, job_id: str) -> JobRecord:
        """Cancel this user's job."""
        return store.cancel(job_id, owner=self.user, home=self.home)

    def results(self, ids: list[str]) -> list[Any]:
        """The my-data records of a job's results."""
        from terralab.mydata.library import get_item

        return [get_item(self.user, item_id, home=self.home) for item_id in ids]
