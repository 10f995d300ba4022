"""The dask-gateway-server backends of a terralab hub: local processes, per-user limits.

Loaded by ``dask-gateway-server`` itself (the generated config names them, see
:mod:`terralab.hub.dask_settings`), never by JupyterHub or a kernel.

- :class:`WorkshopBackend`: schedulers and workers run as the gateway's own Unix user (the
  hub's "workshop" mode; dask-gateway's ``UnsafeLocalBackend``): no isolation between users.
- :class:`SystemBackend`: they run as the user's system account ``jupyter-<name>`` (the hub's
  "system" mode; dask-gateway's ``LocalBackend``; needs root), the account the user's server
  runs as, so workers read and write exactly what the user's kernel may.

Both enforce, per user (:func:`terralab.hub.dask_settings.user_limits`, groups from
JupyterHub): the cores and memory of one cluster (``cluster_max_cores``/``cluster_max_memory``
of dask-gateway: a scale or adapt request beyond them is capped to the workers that fit, with
a warning to the client) and the number of clusters (a request for one more is refused with
HTTP 422 and a message). Users may choose ``worker_cores`` and ``worker_memory`` (GiB) within
their limits. Schedulers load :mod:`terralab.hub.dask_scheduler` (no-client shutdown).
"""

from __future__ import annotations

import asyncio
import grp
import os
import pwd
import sys
from collections.abc import Callable
from typing import Any

from dask_gateway_server.backends.base import PublicException
from dask_gateway_server.backends.local import (
    LocalBackend,
    LocalClusterConfig,
    UnsafeLocalBackend,
)
from dask_gateway_server.models import User
from dask_gateway_server.options import Float as FloatOption
from dask_gateway_server.options import Integer as IntegerOption
from dask_gateway_server.options import Options
from dask_gateway_server.traitlets import Type
from traitlets import Dict, Float, HasTraits, Integer, Unicode, default

from terralab.hub.dask_scheduler import NO_CLIENT_TIMEOUT_ENV
from terralab.hub.dask_settings import (
    SCHEDULER_CORES,
    SCHEDULER_MEMORY,
    Limits,
    parse_memory,
    user_limits,
)

__all__ = ["SystemBackend", "TerralabClusterConfig", "WorkshopBackend"]

_GIB = 2**30


class TerralabClusterConfig(LocalClusterConfig):
    """Cluster defaults: ``python -m distributed.cli.…`` of the gateway's Python.

    ``dask-scheduler``/``dask-worker`` (dask-gateway's defaults) are no longer installed by
    current ``distributed``; the module form also needs no ``PATH``.
    """

    @default("scheduler_cmd")
    def _default_scheduler_cmd(self) -> list[str]:
        return [sys.executable, "-m", "distributed.cli.dask_scheduler",
                "--preload", "terralab.hub.dask_scheduler"]

    @default("worker_cmd")
    def _default_worker_cmd(self) -> list[str]:
        return [sys.executable, "-m", "distributed.cli.dask_worker"]

    @default("scheduler_memory")
    def _default_scheduler_memory(self) -> int:
        return parse_memory(SCHEDULER_MEMORY)

    @default("worker_memory")
    def _default_worker_memory(self) -> int:
        return _GIB


class _Limits(HasTraits):
    """Per-user limits and cluster options, mixed into a dask-gateway backend."""

    cluster_config_class = Type(
        "terralab.hub.dask_gateway.TerralabClusterConfig",
        klass="dask_gateway_server.backends.base.ClusterConfig",
        help="The cluster config class to use",
        config=True,
    )
    max_cores = Float(4, config=True, help="Cores of one cluster (scheduler included).")
    max_memory = Integer(4 * _GIB, config=True,
                         help="Bytes of memory of one cluster (scheduler included).")
    max_clusters = Integer(2, config=True, help="Clusters one user may run at once.")
    group_limits = Dict(config=True,
                        help='Limits per group: {"group": {"cores", "memory", "clusters"}}.')
    no_client_timeout = Float(
        300, config=True,
        help="Seconds without any client after which a cluster stops (0: never).")

    _start_lock: asyncio.Lock | None = None

    def limits_for(self, user: User) -> Limits:
        """The limits of ``user`` (their JupyterHub groups' values, else the defaults)."""
        base = Limits(cores=self.max_cores, memory=self.max_memory, clusters=self.max_clusters)
        return user_limits(user.groups, base, self.group_limits)

    @default("cluster_options")
    def _default_cluster_options(self) -> Callable[[User], Options]:
        return self.options_for

    def options_for(self, user: User) -> Options:
        """The cluster options ``user`` may set, bounded by their limits."""
        limits = self.limits_for(user)
        cores = max(1, int(limits.cores) - SCHEDULER_CORES)
        memory = max(0.25, (limits.memory - parse_memory(SCHEDULER_MEMORY)) / _GIB)
        return Options(
            IntegerOption("worker_cores", default=1, min=1, max=cores,
                          label="Cores per worker"),
            FloatOption("worker_memory", default=min(1.0, memory), min=0.25, max=memory,
                        label="Memory per worker (GiB)"),
            handler=self._overrides,
        )

    def _overrides(self, options: Any, user: User) -> dict[str, Any]:
        limits = self.limits_for(user)
        return {"worker_cores": int(options.worker_cores),
                "worker_memory": int(options.worker_memory * _GIB),
                "cluster_max_cores": float(limits.cores),
                "cluster_max_memory": int(limits.memory)}

    async def start_cluster(self, user: User, cluster_options: dict[str, Any]) -> str:
        """Start a cluster unless ``user`` already runs as many as they may.

        Raises:
            PublicException: over the user's cluster limit (HTTP 422 with the message).
        """
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            limit = self.limits_for(user).clusters
            running = await self.list_clusters(username=user.name)
            if len(running) >= limit:
                raise PublicException(
                    f"{user.name} already runs {len(running)} Dask cluster(s), the most "
                    f"allowed ({limit}): stop one (cluster.shutdown() or "
                    "terralab.compute.shutdown()), or join it with gateway.connect(name)")
            return await super().start_cluster(user, cluster_options)  # type: ignore[misc]

    def get_env(self, cluster: Any) -> dict[str, str]:
        """Tell the scheduler preload when to stop a cluster without clients."""
        env = super().get_env(cluster)  # type: ignore[misc]
        env[NO_CLIENT_TIMEOUT_ENV] = str(self.no_client_timeout)
        return env


class WorkshopBackend(_Limits, UnsafeLocalBackend):
    """Clusters as local processes of the gateway's Unix user (the hub's workshop mode)."""


class SystemBackend(_Limits, LocalBackend):
    """Clusters as local processes of the user's system account (system mode, root)."""

    system_username_template = Unicode(
        "jupyter-{username}",
        config=True,
        help="The system user of a hub user, as SystemUserSpawner names it.",
    )

    def system_user(self, username: str) -> pwd.struct_passwd:
        """The system account of hub user ``username``."""
        return pwd.getpwnam(self.system_username_template.format(username=username))

    def set_file_permissions(self, paths: list[str], username: str) -> None:
        """Give the cluster's folder and certificates to the user's system account."""
        entry = self.system_user(username)
        for path in paths:
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def make_preexec_fn(self, cluster: Any) -> Callable[[], None]:
        """Run scheduler and workers as the user's system account, in the cluster folder."""
        entry = self.system_user(cluster.username)
        groups = [g.gr_gid for g in grp.getgrall() if entry.pw_name in g.gr_mem]
        workdir = cluster.state["workdir"]

        def preexec() -> None:  # pragma: no cover - runs in the child
            os.setgid(entry.pw_gid)
            os.setgroups(groups)
            os.setuid(entry.pw_uid)
            os.chdir(workdir)

        return preexec

    def get_env(self, cluster: Any) -> dict[str, str]:
        """USER and HOME of the system account."""
        env = super().get_env(cluster)
        entry = self.system_user(cluster.username)
        env.update(USER=entry.pw_name, HOME=entry.pw_dir)
        return env
