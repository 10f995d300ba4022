"""Dask Gateway on the hub: settings, per-user limits and the managed service.

:class:`DaskSettings` is a traitlets mixin of :class:`terralab.hub.settings.TerralabHub`, so a
site sets ``c.TerralabHub.dask_*`` like any other terralab option. Its :meth:`~DaskSettings.
apply_dask` adds `dask-gateway-server <https://gateway.dask.org>`_ to the JupyterHub
configuration as a managed service named ``dask-gateway``:

- the gateway authenticates users with JupyterHub tokens
  (``dask_gateway_server.auth.JupyterHubAuthenticator``); the ``user`` and ``server`` roles get
  ``access:services!service=dask-gateway``, so the token of a user's server (which every kernel
  inherits as ``$JUPYTERHUB_API_TOKEN``) may create clusters, and the user's groups come with it;
- clusters run as local processes: :class:`terralab.hub.dask_gateway.WorkshopBackend` (all
  users share the hub's Unix account, the hub's "workshop" mode) or
  :class:`terralab.hub.dask_gateway.SystemBackend` (each user's own ``jupyter-<name>`` account,
  the "system" mode; needs root);
- per-user limits (cores, memory, clusters) with overrides per group, see :func:`user_limits`;
- idle clusters stop after ``dask_idle_timeout``; a cluster no client has been connected to for
  ``dask_no_client_timeout`` (its kernel died or restarted) stops too
  (:mod:`terralab.hub.dask_scheduler`);
- state lives in ``<home>/hub/dask-gateway/``: the generated ``dask_gateway_config.py``, the
  gateway's SQLite database and its encryption key, and the clusters' working folders (logs);
- user servers get the standard dask-gateway client settings (``DASK_GATEWAY__ADDRESS``,
  ``DASK_GATEWAY__PROXY_ADDRESS``, ``DASK_GATEWAY__PUBLIC_ADDRESS``,
  ``DASK_GATEWAY__AUTH__TYPE=jupyterhub``), which :func:`terralab.compute.client` uses.
"""

from __future__ import annotations

import base64
import importlib.util
import os
import re
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from traitlets import Bool, Dict, Float, HasTraits, Integer, Unicode, default, validate
from traitlets.config import Config

from terralab.hub.ports import free_port

__all__ = [
    "DASK_SERVICE_NAME",
    "DaskSettings",
    "Limits",
    "format_memory",
    "gateway_config_lines",
    "parse_memory",
    "user_limits",
]

DASK_SERVICE_NAME = "dask-gateway"
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)
# what the scheduler of a cluster is charged against the cluster's limits
SCHEDULER_CORES = 1
SCHEDULER_MEMORY = "512 M"


def parse_memory(value: str | int | float) -> int:
    """Return a memory size in bytes: ``"4 G"``, ``"512M"``, ``"2GiB"`` or a number of bytes.

    The units are binary (K = 1024), as in dask-gateway.

    Raises:
        ValueError: for anything else.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    match = _MEMORY.match(str(value))
    if not match:
        raise ValueError(f"not a memory size: {value!r} (e.g. '4 G', '512 M')")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def format_memory(size: int) -> str:
    """Return ``size`` bytes as dask-gateway writes memory (``"4 G"``, ``"1536 M"``)."""
    for unit in ("T", "G", "M", "K"):
        if size % _UNITS[unit] == 0:
            return f"{size // _UNITS[unit]} {unit}"
    return str(size)


@dataclass(frozen=True)
class Limits:
    """The Dask resources one user may hold.

    Attributes:
        cores: cores of one cluster, its scheduler's one included.
        memory: bytes of memory of one cluster, its scheduler's share included.
        clusters: clusters running (or starting) at once.
    """

    cores: float
    memory: int
    clusters: int

    def check(self, where: str) -> Limits:
        """Return these limits if a cluster can have a worker within them.

        Raises:
            ValueError: naming ``where`` when they leave no room for a worker.
        """
        if self.cores < SCHEDULER_CORES + 1:
            raise ValueError(f"{where}: cores must be at least {SCHEDULER_CORES + 1} "
                             f"(one is the scheduler's), got {self.cores}")
        if self.memory <= parse_memory(SCHEDULER_MEMORY):
            raise ValueError(f"{where}: memory must be more than the scheduler's "
                             f"{SCHEDULER_MEMORY}, got {format_memory(self.memory)}")
        if self.clusters < 1:
            raise ValueError(f"{where}: clusters must be at least 1, got {self.clusters}")
        return self


def _group_limits(name: str, value: Any, base: Limits) -> Limits:
    """One group's entry of ``dask_group_limits``, keys missing taken from ``base``."""
    if not isinstance(value, dict) or set(value) - {"cores", "memory", "clusters"}:
        raise ValueError(f"dask_group_limits[{name!r}]: expected a dict with keys cores, "
                         f"memory, clusters; got {value!r}")
    return Limits(cores=float(value.get("cores", base.cores)),
                  memory=parse_memory(value.get("memory", base.memory)),
                  clusters=int(value.get("clusters", base.clusters)))


def user_limits(groups: set[str] | list[str], default: Limits,
                group_limits: dict[str, dict[str, Any]]) -> Limits:
    """Return the limits of a user in ``groups``.

    For each resource, the largest value that one of the user's groups sets wins; a resource
    that none of the user's groups sets keeps the default (the storage quota's rule).
    """
    mine = [value for name, value in group_limits.items() if name in set(groups)]

    def pick(key: str, convert: Any, fallback: Any) -> Any:
        values = [convert(value[key]) for value in mine if key in value]
        return max(values) if values else fallback

    return Limits(cores=pick("cores", float, default.cores),
                  memory=pick("memory", parse_memory, default.memory),
                  clusters=pick("clusters", int, default.clusters))


def gateway_config_lines(values: dict[str, Any], *, key_file: Path | None = None) -> str:
    """Return a dask-gateway-server config file setting ``values`` (``"Class.trait"`` keys)."""
    lines = ['"""dask-gateway-server configuration, generated by terralab: do not edit.',
             "",
             "Change c.TerralabHub.dask_* settings in the site config instead.",
             '"""', ""]
    if key_file is not None:
        lines += ["from pathlib import Path", "",
                  f"c.DBBackendBase.db_encrypt_keys = [Path({str(key_file)!r}).read_text()"
                  ".strip()]"]
    lines += [f"c.{name} = {value!r}" for name, value in values.items()]
    return "\n".join(lines) + "\n"


class DaskSettings(HasTraits):
    """Dask Gateway settings of a terralab hub (mixed into ``TerralabHub``)."""

    dask_gateway = Bool(
        config=True,
        help="""Run dask-gateway-server as the hub service "dask-gateway", so that
        terralab.compute.client() in a user's kernel gets a Dask cluster of its own within the
        user's limits. Default: on when dask_gateway_server is installed. Off: kernels use a
        LocalCluster inside the user's server.""",
    )

    @default("dask_gateway")
    def _default_dask_gateway(self) -> bool:
        return importlib.util.find_spec("dask_gateway_server") is not None

    dask_cluster_max_cores = Float(
        4,
        config=True,
        help="""Cores one user's Dask cluster may use, its scheduler's one included (so 4
        gives 3 one-core workers). dask_group_limits overrides it per group.""",
    )

    dask_cluster_max_memory = Unicode(
        "4 G",
        config=True,
        help="""Memory one user's Dask cluster may use, its scheduler's 512 M included
        ("4 G", "512 M"; binary units). dask_group_limits overrides it per group.""",
    )

    dask_max_clusters = Integer(
        2,
        config=True,
        help="""Dask clusters one user may run at once; a request for one more is refused
        (terralab.compute.client() then joins the user's running cluster).
        dask_group_limits overrides it per group.""",
    )

    dask_idle_timeout = Float(
        1800,
        config=True,
        help="""Seconds after which a Dask cluster that runs no task is shut down (0: never).""",
    )

    dask_no_client_timeout = Float(
        300,
        config=True,
        help="""Seconds after which a Dask cluster that no client has been connected to is
        shut down, even before dask_idle_timeout: the cluster of a kernel that died or
        restarted (0: never).""",
    )

    dask_group_limits = Dict(
        config=True,
        help="""Limits per group, e.g. {"teachers": {"cores": 16, "memory": "32 G",
        "clusters": 4}}. A user gets, for each of cores, memory and clusters, the largest
        value among their groups; what none of their groups sets stays at
        dask_cluster_max_cores, dask_cluster_max_memory and dask_max_clusters.""",
    )

    @validate("dask_cluster_max_memory")
    def _check_dask_memory(self, proposal: dict) -> str:
        parse_memory(proposal["value"])
        return proposal["value"]

    @validate("dask_group_limits")
    def _check_dask_groups(self, proposal: dict) -> dict:
        base = Limits(cores=2.0, memory=2**30, clusters=1)
        for name, value in proposal["value"].items():
            _group_limits(name, value, base).check(f"dask_group_limits[{name!r}]")
        return proposal["value"]

    def dask_limits(self) -> Limits:
        """The default per-user limits (checked).

        Raises:
            ValueError: for limits that leave no room for a worker.
        """
        return Limits(cores=float(self.dask_cluster_max_cores),
                      memory=parse_memory(self.dask_cluster_max_memory),
                      clusters=int(self.dask_max_clusters)).check("dask_cluster_max_*")

    def apply_dask(self, c: Config, home: Path, *, spawner_mode: str = "workshop") -> None:
        """Add the Dask Gateway service, its roles and the user servers' settings to ``c``.

        Call it after the service, the roles and ``Spawner.environment`` are set: it extends
        them. Does nothing when :attr:`dask_gateway` is off.

        Args:
            c: the JupyterHub configuration being built.
            home: the terralab data folder (state goes to ``<home>/hub/dask-gateway/``).
            spawner_mode: ``"workshop"`` or ``"system"`` (the hub's spawner mode).
        """
        if not self.dask_gateway:
            return
        state = Path(home) / "hub" / DASK_SERVICE_NAME
        (state / "clusters").mkdir(parents=True, exist_ok=True)
        os.chmod(state / "clusters", 0o711)  # system users reach their own cluster folders
        key_file = state / "encrypt_key"
        if not key_file.exists():
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(base64.b64encode(secrets.token_bytes(32)).decode())
        api, http, tcp = (f"127.0.0.1:{free_port()}" for _ in range(3))
        prefix = f"/services/{DASK_SERVICE_NAME}"
        config_file = state / "dask_gateway_config.py"
        config_file.write_text(gateway_config_lines(
            self._gateway_values(state, spawner_mode, c, api=api, http=http, tcp=tcp,
                                 prefix=prefix), key_file=key_file))

        services = list(c.JupyterHub.services) if "services" in c.JupyterHub else []
        services.append({
            "name": DASK_SERVICE_NAME,
            "url": f"http://{http}",
            "command": [sys.executable, "-m", "dask_gateway_server", "-f", str(config_file)],
            "environment": {"TERRALAB_HOME": str(home)},
            "display": False,
            "info": {"description": "Dask clusters for users' kernels"},
        })
        c.JupyterHub.services = services
        access = f"access:services!service={DASK_SERVICE_NAME}"
        roles = [dict(role) for role in c.JupyterHub.load_roles] \
            if "load_roles" in c.JupyterHub else []
        for role in roles:
            if role.get("name") in ("user", "server") and access not in role["scopes"]:
                role["scopes"] = [*role["scopes"], access]
        c.JupyterHub.load_roles = roles
        environment = dict(c.Spawner.environment) if "environment" in c.Spawner else {}
        environment.update({
            "DASK_GATEWAY__ADDRESS": f"http://{http}{prefix}",
            "DASK_GATEWAY__PROXY_ADDRESS": f"gateway://{tcp}",
            # dashboard links open through the hub's own address, whatever it is
            "DASK_GATEWAY__PUBLIC_ADDRESS": prefix,
            "DASK_GATEWAY__AUTH__TYPE": "jupyterhub",
        })
        c.Spawner.environment = environment

    def _gateway_values(self, state: Path, spawner_mode: str, c: Config, *, api: str,
                        http: str, tcp: str, prefix: str) -> dict[str, Any]:
        """The dask-gateway-server settings (``"Class.trait"`` → value)."""
        limits = self.dask_limits()
        backend = "SystemBackend" if spawner_mode == "system" else "WorkshopBackend"
        values: dict[str, Any] = {
            "DaskGateway.address": api,
            "DaskGateway.authenticator_class":
                "dask_gateway_server.auth.JupyterHubAuthenticator",
            "DaskGateway.backend_class": f"terralab.hub.dask_gateway.{backend}",
            "JupyterHubAuthenticator.jupyterhub_service_name": DASK_SERVICE_NAME,
            "Proxy.address": http,
            "Proxy.tcp_address": tcp,
            "Proxy.prefix": prefix,
            "DBBackendBase.db_url": f"sqlite:///{state / 'gateway.sqlite'}",
            "LocalBackend.clusters_directory": str(state / "clusters"),
            "ClusterConfig.idle_timeout": float(self.dask_idle_timeout),
            f"{backend}.max_cores": limits.cores,
            f"{backend}.max_memory": limits.memory,
            f"{backend}.max_clusters": limits.clusters,
            f"{backend}.group_limits": dict(self.dask_group_limits),
            f"{backend}.no_client_timeout": float(self.dask_no_client_timeout),
        }
        if spawner_mode == "system":  # the accounts SystemUserSpawner makes (a site may rename)
            site = getattr(self, "config", None) or Config()
            template = (c.SystemUserSpawner.get("system_username_template")
                        or site.SystemUserSpawner.get("system_username_template")
                        or "jupyter-{username}")
            values["SystemBackend.system_username_template"] = template
        return values
