"""Dask for notebooks and tools: one call gives a ``distributed.Client``.

``tl.compute.client()`` starts (or reuses) this kernel's Dask cluster and makes its client dask's
default scheduler, so every lazy raster afterwards (``tl.run(...)``, ``da.compute()``, writing
a result) runs on it::

    import terralab as tl
    client = tl.compute.client()      # a Gateway cluster on a hub, else a LocalCluster
    tl.run("index", image="field.tif", index="ndvi")
    tl.compute.shutdown()             # or: with tl.compute.session() as client: ...

Where the cluster comes from:

- **On a terralab hub** with Dask Gateway (the hub sets the standard dask-gateway settings
  ``DASK_GATEWAY__ADDRESS``, ``…__PROXY_ADDRESS``, ``…__AUTH__TYPE=jupyterhub`` in every user
  server; any dask config with ``gateway.address`` counts): a cluster of the gateway, created
  for this kernel, adaptive from ``minimum`` (1) up to the user's limit (the gateway caps
  ``maximum``: cores and memory per user and group, see ``hub_config/README.md``). If the user
  already runs as many clusters as they may (e.g. the one of a kernel that was restarted and
  not yet stopped), the newest of them is joined instead; :func:`shutdown` leaves a joined
  cluster running (it stops by itself once idle). Clusters stop when the kernel exits, when
  idle, and soon after their kernel died (see :mod:`terralab.hub.dask_scheduler`).
- **Otherwise** (a laptop, a script, the tests): a ``LocalCluster`` of worker **processes**.
  Processes rather than threads because raster work is GDAL work: rioxarray serialises reads
  of one file within a process (one lock per file), GDAL's block cache and Python code (masks,
  ``xr.where``, vector steps) contend for one GIL, and a crash inside GDAL would take the
  kernel down; separate processes read in parallel, each worker has its own memory limit
  (spilling and pausing instead of swapping the machine), and a crash costs one worker.
  Two threads per worker (on 4 cores or more) let one thread compute while the other waits
  in GDAL (reading, compressing), which releases the GIL. Workers use three quarters of the
  machine's memory between them; the rest is left to the kernel. The cluster listens on
  loopback only. Worker processes are spawned, so a plain script (not a notebook) must call
  :func:`client` under ``if __name__ == "__main__":``.

Results are written by the workers (windowed GeoTIFF writes under a ``distributed.Lock``,
see :mod:`terralab.tools.outputs`), so workers must see the kernel's files: true for a
LocalCluster and for the hub's local gateway backend (same machine, same accounts).

Without :func:`client` nothing changes: tools run on dask's threaded scheduler in the kernel.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["client", "gateway_address", "local_cluster_options", "session", "shutdown"]

logger = logging.getLogger(__name__)
_LIMIT_REFUSAL = "already runs"  # the hub's gateway refusing one cluster too many


@dataclass
class _Session:
    """This kernel's cluster and client."""

    client: Any
    cluster: Any
    kind: str  # "local", "gateway" (created here) or "joined" (the user's running one)

    def alive(self) -> bool:
        if self.client.status != "running":
            return False
        if self.kind == "local":
            return self.cluster.status.name == "running"
        try:
            report = self.cluster.gateway.get_cluster(self.cluster.name)
        except Exception:
            return False
        return report.status.name == "RUNNING"


_current: _Session | None = None
_lock = threading.RLock()


def gateway_address() -> str | None:
    """The Dask Gateway address the hub gave this server (dask config ``gateway.address``)."""
    import dask

    value = dask.config.get("gateway.address", None)
    return str(value) if value else None


def client(*, gateway: bool | None = None, minimum: int = 1, maximum: int | None = None,
           **options: Any) -> Any:
    """Return this kernel's Dask client, starting its cluster if needed.

    The client becomes dask's default scheduler. Calling again returns the same client while
    its cluster runs; call :func:`shutdown` first to start one with other options.

    Args:
        gateway: True: use the hub's Dask Gateway (an error without one); False: a
            LocalCluster; None (default): the gateway when the hub provides one.
        minimum: Gateway: the fewest workers adaptive scaling keeps.
        maximum: Gateway: the most workers (None: as many as the user's limit allows).
        **options: Gateway: cluster options (``worker_cores``, ``worker_memory`` in GiB).
            LocalCluster: ``LocalCluster`` arguments (``n_workers``, ``threads_per_worker``,
            ``processes``, ``memory_limit`` …) replacing terralab's choices.

    Returns:
        A ``distributed.Client``.

    Raises:
        ValueError: ``gateway=True`` without a gateway, or options the gateway refuses.
    """
    global _current
    with _lock:
        if _current is not None:
            if _current.alive():
                return _current.client
            _close(_current)
            _current = None
        use_gateway = gateway_address() is not None if gateway is None else gateway
        if use_gateway:
            if gateway_address() is None:
                raise ValueError("no Dask Gateway here (DASK_GATEWAY__ADDRESS is not set)")
            _current = _start_gateway(minimum=minimum, maximum=maximum, options=options)
        else:
            _current = _start_local(options)
        return _current.client


def shutdown() -> None:
    """Close this kernel's client and stop its cluster (a joined Gateway cluster is left)."""
    global _current
    with _lock:
        if _current is not None:
            _close(_current)
            _current = None


@contextlib.contextmanager
def session(**options: Any) -> Iterator[Any]:
    """``with tl.compute.session() as client:``: :func:`client`, then :func:`shutdown`.

    A cluster that was already running when the block started is left running.
    """
    with _lock:
        running = _current is not None and _current.alive()
    result = client(**options)
    try:
        yield result
    finally:
        if not running:
            shutdown()


def local_cluster_options() -> dict[str, Any]:
    """Return the LocalCluster arguments terralab picks for this machine (see above)."""
    from dask.system import CPU_COUNT  # both follow cgroup (container) limits
    from distributed.system import MEMORY_LIMIT

    cores = max(1, int(CPU_COUNT))
    threads = 2 if cores >= 4 else 1
    workers = max(1, cores // threads)
    memory = int(MEMORY_LIMIT * 0.75 / workers)
    return {"n_workers": workers, "threads_per_worker": threads, "processes": True,
            "memory_limit": memory, "host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"}


def _start_local(options: dict[str, Any]) -> _Session:
    from distributed import Client, LocalCluster

    cluster = LocalCluster(**{**local_cluster_options(), **options})
    try:
        return _Session(client=Client(cluster, set_as_default=True), cluster=cluster,
                        kind="local")
    except BaseException:
        cluster.close()
        raise


def _start_gateway(*, minimum: int, maximum: int | None,
                   options: dict[str, Any]) -> _Session:
    from dask_gateway import Gateway

    gateway = Gateway()
    try:
        cluster = gateway.new_cluster(shutdown_on_close=True, **options)
        kind = "gateway"
    except ValueError as error:
        running = [report for report in gateway.list_clusters()
                   if report.status.name == "RUNNING"]
        if _LIMIT_REFUSAL not in str(error) or not running:
            gateway.close()
            raise
        newest = max(running, key=lambda report: report.start_time)
        logger.warning("%s; joining your running Dask cluster %s", error, newest.name)
        cluster = gateway.connect(newest.name, shutdown_on_close=False)
        kind = "joined"
    try:
        if kind == "gateway":
            cluster.adapt(minimum=minimum, maximum=maximum)
        dask_client = cluster.get_client(set_as_default=True)
    except BaseException:
        cluster.close()
        raise
    return _Session(client=dask_client, cluster=cluster, kind=kind)


def _close(current: _Session) -> None:
    """Close the client, then the cluster (stopping it unless it was joined)."""
    with contextlib.suppress(Exception):
        current.client.close()
    with contextlib.suppress(Exception):
        if current.kind == "joined":
            current.cluster.close(shutdown=False)
        else:
            current.cluster.close()
