"""Scheduler preload: stop a gateway cluster that no client has been connected to for a while.

What already happens without it: when a kernel dies (even by SIGKILL) its TCP connections
close, the scheduler removes the client and releases its tasks, so the cluster turns idle and
dask-gateway's ``idle_timeout`` stops it. That timeout is long (it also stops the cluster of a
live kernel that merely waits), so the cluster of a dead kernel would hold its workers, and
count against the user's cluster limit, for that long. This preload stops a cluster as soon as
no client has been connected (and no task has run) for ``$TERRALAB_DASK_NO_CLIENT_TIMEOUT``
seconds, by asking the gateway to stop it like its own idle check does; if the gateway cannot
be reached (the hub is gone), the scheduler closes itself and its workers.

The backends of :mod:`terralab.hub.dask_gateway` start every scheduler with
``--preload terralab.hub.dask_scheduler``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from tornado.ioloop import PeriodicCallback

from terralab.settings import settings

__all__ = ["NO_CLIENT_TIMEOUT_ENV", "NoClientWatch", "dask_setup"]

NO_CLIENT_TIMEOUT_ENV = "TERRALAB_DASK_NO_CLIENT_TIMEOUT"
_FIRE_AND_FORGET = "fire-and-forget"  # the scheduler's own pseudo-client
logger = logging.getLogger("terralab.hub.dask_scheduler")


class NoClientWatch:
    """Stops the cluster of ``scheduler`` after ``timeout`` seconds without clients or tasks."""

    def __init__(self, scheduler: Any, timeout: float) -> None:
        self.scheduler = scheduler
        self.timeout = timeout
        self.since = time.monotonic()
        self.stopping = False

    def busy(self) -> bool:
        """Whether a client is connected or a task waits or runs."""
        scheduler = self.scheduler
        return (any(name != _FIRE_AND_FORGET for name in scheduler.clients)
                or bool(scheduler.unrunnable) or bool(getattr(scheduler, "queued", ()))
                or any(ws.processing for ws in scheduler.workers.values()))

    def check(self) -> None:
        """Called periodically: start the shutdown once the time is up."""
        now = time.monotonic()
        if self.stopping:
            return
        if self.busy():
            self.since = now
            return
        if now - self.since > self.timeout:
            self.stopping = True
            logger.warning("No client for %.0f s: shutting the cluster down", self.timeout)
            self.scheduler.loop.add_callback(self.stop)

    async def stop(self) -> None:
        """Ask the gateway to stop the cluster; close the scheduler if it cannot."""
        try:
            if not settings().dask.gateway_api_url:
                raise RuntimeError("not started by dask-gateway")
            from dask_gateway.scheduler_preload import make_gateway_client

            await make_gateway_client().shutdown()
        except Exception as error:  # the hub is gone: stop ourselves
            logger.warning("The gateway did not stop the cluster (%s): closing", error)
            await self.scheduler.close(reason="terralab-no-client-timeout")


def dask_setup(scheduler: Any) -> None:
    """Start watching for clients (a distributed preload hook)."""
    timeout = settings().dask.no_client_timeout  # $TERRALAB_DASK_NO_CLIENT_TIMEOUT
    if timeout <= 0:
        return
    watch = NoClientWatch(scheduler, timeout)
    period_ms = min(max(timeout / 8, 0.25), 15) * 1000
    callback = PeriodicCallback(watch.check, period_ms)
    scheduler.periodic_callbacks["terralab-no-client"] = callback
    callback.start()
