"""The worker pool: the hub-managed service that keeps N worker processes per queue running.

JupyterHub starts it as the managed service ``terralab-workers`` (``python -m
terralab.queue.pool``); ``terralab workers`` runs the same without a hub. Each worker is a
process of its own (:mod:`terralab.queue.worker`), so a crashed or killed worker loses only
its own job, which goes back to the queue when its lease runs out; the pool starts a new
worker in its place. SIGTERM / Ctrl-C stop the workers (each finishes its job's current
step; one still running after a grace period is killed and its job runs again elsewhere).
Workers die with the pool even when it is killed outright (SIGKILL, OOM): each is started
with ``--parent`` and asks the kernel for SIGTERM when its parent dies
(:func:`terralab.queue.worker.die_with_parent`), and stops claiming once its parent is gone.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from terralab.queue.queues import QueueConfig

__all__ = ["WorkerPool", "main"]

log = logging.getLogger("terralab.queue.pool")
_GRACE = 20.0


@dataclass
class _Slot:
    queue: str
    process: subprocess.Popen | None = None
    restarts: int = 0
    next_start: float = 0.0
    history: list[float] = field(default_factory=list)


class WorkerPool:
    """Worker processes for every queue of ``queues``.

    Args:
        queues: the deployment's queues and how many workers each has.
        lease_seconds: passed to every worker (``--lease``).
        poll_seconds: how often idle workers look for work.
    """

    def __init__(self, queues: QueueConfig, *, lease_seconds: float | None = None,
                 poll_seconds: float = 1.0) -> None:
        self.slots = [_Slot(spec.name) for spec in queues.queues.values()
                      for _ in range(spec.workers)]
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds

    def _command(self, queue: str) -> list[str]:
        command = [sys.executable, "-m", "terralab.queue.worker", "--queue", queue,
                   "--poll", str(self.poll_seconds), "--parent", str(os.getpid())]
        if self.lease_seconds:
            command += ["--lease", str(self.lease_seconds)]
        return command

    def _start(self, slot: _Slot) -> None:
        slot.process = subprocess.Popen(self._command(slot.queue), env=dict(os.environ))
        log.info("worker for queue %s started (pid %d)", slot.queue, slot.process.pid)

    def pids(self) -> list[int]:
        """The process ids of the running workers."""
        return [s.process.pid for s in self.slots if s.process and s.process.poll() is None]

    def step(self) -> None:
        """Start missing workers and restart dead ones (backing off if one keeps dying)."""
        now = time.monotonic()
        for slot in self.slots:
            if slot.process is not None and slot.process.poll() is None:
                continue
            if slot.process is not None:
                log.warning("worker for queue %s (pid %d) exited with %s; restarting",
                            slot.queue, slot.process.pid, slot.process.returncode)
                slot.history = [t for t in slot.history if now - t < 60] + [now]
                slot.next_start = now + (5.0 if len(slot.history) > 5 else 0.0)
                slot.process = None
            if now >= slot.next_start:
                self._start(slot)

    def run(self, stop: threading.Event) -> None:
        """Keep the workers running until ``stop`` is set, then stop them."""
        try:
            while not stop.is_set():
                self.step()
                stop.wait(0.5)
        finally:
            self.stop()

    def stop(self) -> None:
        """SIGTERM every worker, wait up to the grace period, then kill what is left."""
        running = [s.process for s in self.slots if s.process and s.process.poll() is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + _GRACE
        for process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def main(argv: list[str] | None = None) -> None:
    """``python -m terralab.queue.pool``: run the pool of the settings' ``queue.queues``."""
    parser = argparse.ArgumentParser(description="Run terralab's shared workers.")
    parser.add_argument("--workers", type=int, default=None,
                        help="workers of the shared queue (default from the queue config)")
    parser.add_argument("--lease", type=float, default=None, help="lease seconds")
    parser.add_argument("--poll", type=float, default=1.0, help="poll seconds when idle")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    queues = QueueConfig.from_env()
    if args.workers is not None:
        from dataclasses import replace

        shared = replace(queues.queues["shared"], workers=args.workers)
        queues = QueueConfig({**queues.queues, "shared": shared})
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    WorkerPool(queues, lease_seconds=args.lease, poll_seconds=args.poll).run(stop)


if __name__ == "__main__":
    main()
