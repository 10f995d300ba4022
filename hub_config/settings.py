"""The terralab hub settings, as traitlets, and how they configure JupyterHub.

``jupyterhub_config.py`` builds :class:`TerralabHub` from the same config object JupyterHub
reads, so a site sets ``c.TerralabHub.<trait>`` (in a file named by
``TERRALAB_HUB_SITE_CONFIG``) exactly like any JupyterHub option. Environment variables
that ``terralab up`` sets give the defaults.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from traitlets import Dict, Enum, List, Unicode, default, validate
from traitlets.config import Config, LoggingConfigurable

from terralab.home import checkout_root, terralab_home
from terralab.hub.auth_settings import AuthSettings
from terralab.hub.catalog_settings import CatalogSettings
from terralab.hub.dask_settings import DaskSettings
from terralab.hub.logins import logins_path
from terralab.hub.ports import free_port
from terralab.hub.queue_settings import QueueSettings
from terralab.hub.quota_settings import QuotaSettings

__all__ = ["SERVICE_NAME", "TerralabHub", "find_proxy"]

SERVICE_NAME = "terralab"
DASHBOARD_HOME = "/voila/render/dashboards/home.ipynb"


def find_proxy() -> str:
    """Return the configurable-http-proxy command.

    ``$TERRALAB_PROXY_CMD``, else the one ``make up`` installed into the checkout's
    ``node_modules``, else the one on ``PATH``.

    Raises:
        FileNotFoundError: if none is found, with how to install it.
    """
    explicit = os.environ.get("TERRALAB_PROXY_CMD")
    if explicit:
        return explicit
    root = checkout_root()
    if root is not None:
        local = root / "node_modules" / ".bin" / "configurable-http-proxy"
        if local.exists():
            return str(local)
    found = shutil.which("configurable-http-proxy")
    if found:
        return found
    raise FileNotFoundError(
        "configurable-http-proxy not found: run `make up` (it installs it from npm into the "
        "checkout) or `npm install -g configurable-http-proxy`, or set TERRALAB_PROXY_CMD."
    )


def _port(variable: str) -> int:
    """Return the port in environment ``variable``, else a free loopback port."""
    return int(os.environ.get(variable) or free_port())


class TerralabHub(AuthSettings, CatalogSettings, DaskSettings, QueueSettings, QuotaSettings,
                  LoggingConfigurable):
    """Settings of a terralab JupyterHub deployment."""

    home = Unicode(
        config=True,
        help="The terralab data folder (TERRALAB_HOME): catalog, users' data, hub state.",
    )

    @default("home")
    def _default_home(self) -> str:
        return str(terralab_home())

    bind_url = Unicode(
        config=True,
        help="The public URL the hub listens on ($TERRALAB_HUB_URL, else 127.0.0.1:8000).",
    )

    @default("bind_url")
    def _default_bind_url(self) -> str:
        return os.environ.get("TERRALAB_HUB_URL", "http://127.0.0.1:8000")

    spawner_mode = Enum(
        ["workshop", "system"],
        config=True,
        help="""How user servers run.

        "workshop" (default): as the hub's own Unix user, without root and without isolation
        between users (single-trust: a laptop, a class, a workshop). "system": one real
        system user per hub user (needs root), so users cannot read each other's files.
        Production deployments set c.JupyterHub.spawner_class to DockerSpawner or
        KubeSpawner after this (see hub_config/README.md).""",
    )

    @default("spawner_mode")
    def _default_spawner_mode(self) -> str:
        return os.environ.get("TERRALAB_SPAWNER_MODE", "workshop")

    admin_users = List(
        Unicode(), ["admin"], config=True, help="Hub users who are admins (approve sign-ups)."
    )

    dashboard_groups = List(
        Unicode(),
        ["dashboards"],
        config=True,
        help="""Groups whose members land on the dashboards (Voilà) instead of JupyterLab:
        the non-coders' entry. The groups are created empty; admins add members in the
        hub's admin page.""",
    )

    dashboard_url = Unicode(
        DASHBOARD_HOME, config=True, help="Where members of dashboard_groups land."
    )

    def apply(self, c: Config) -> None:
        """Add this deployment's JupyterHub configuration to ``c``.

        Values already in ``c`` (a site file's own JupyterHub options) win over terralab's.
        """
        ours = self.jupyterhub_config()
        ours.merge(c)
        c.merge(ours)

    def jupyterhub_config(self) -> Config:
        """Return the JupyterHub configuration of these settings."""
        c = Config()
        home = Path(self.home)
        state = home / "hub"
        state.mkdir(parents=True, exist_ok=True)

        c.JupyterHub.bind_url = self.bind_url
        c.JupyterHub.hub_ip = "127.0.0.1"
        c.JupyterHub.hub_port = _port("TERRALAB_HUB_API_PORT")
        c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
        c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
        c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
        c.JupyterHub.cleanup_servers = True

        c.ConfigurableHTTPProxy.command = [find_proxy()]
        c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{_port('TERRALAB_PROXY_API_PORT')}"
        c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")

        self._apply_auth(c, home)
        self._apply_spawner(c, home)
        self._apply_service(c, home)
        self.apply_dask(c, home, spawner_mode=self.spawner_mode)
        return c

    def _apply_auth(self, c: Config, home: Path) -> None:
        """Sign-up with admin approval; lock-out and name rules; who may reach the service."""
        c.JupyterHub.authenticator_class = "terralab.hub.authenticator.TerralabAuthenticator"
        self.apply_auth_policy(c)
        c.Authenticator.admin_users = set(self.admin_users)
        # NativeAuthenticator decides who may log in (approved accounts only).
        c.Authenticator.allow_all = True
        c.TerralabAuthenticator.bootstrap_logins_file = str(logins_path(home))
        c.JupyterHub.load_groups = {name: {"users": []} for name in self.dashboard_groups}
        access = f"access:services!service={SERVICE_NAME}"
        c.JupyterHub.load_roles = [
            {"name": "user", "description": "terralab user", "scopes": ["self", access]},
            {"name": "server", "description": "a user's server",
             "scopes": ["users:activity!user", "access:servers!server", access]},
            # the quota month starts on the account's registration day (its "created" time)
            {"name": "terralab-service", "description": "read users' created time and groups",
             "services": [SERVICE_NAME], "scopes": ["read:users"]},
        ]

    def _apply_spawner(self, c: Config, home: Path) -> None:
        """User servers: JupyterLab by default, the dashboards for dashboard groups."""
        if self.spawner_mode == "system":
            c.JupyterHub.spawner_class = "terralab.hub.spawners.SystemUserSpawner"
            c.SystemUserSpawner.home_dir_template = str(home / "users" / "{username}")
        else:
            c.JupyterHub.spawner_class = "terralab.hub.spawners.WorkshopSpawner"
            c.WorkshopSpawner.home_dir_template = str(home / "users" / "{username}")
        c.Spawner.cmd = [str(Path(sys.prefix) / "bin" / "jupyterhub-singleuser")]
        c.Spawner.default_url = "/lab"
        c.Spawner.http_timeout = 120
        c.Spawner.start_timeout = 120
        c.Spawner.environment = {
            "TERRALAB_HOME": str(home),
            "TERRALAB_SERVICE": SERVICE_NAME,
            # the catalog API of a user's kernel calls the hub service here (terralab.catalog)
            "TERRALAB_SERVICE_URL": f"{self.service_url}/services/{SERVICE_NAME}/",
        }
        c.Spawner.args = ["--VoilaConfiguration.template=terralab"]
        c.Spawner.group_overrides = {
            "10-dashboards": {
                "groups": list(self.dashboard_groups),
                "spawner_override": {"default_url": self.dashboard_url},
            }
        }

    service_url = Unicode(
        config=True,
        help="""Where the terralab hub service listens (http://127.0.0.1:<port>; the port from
        $TERRALAB_SERVICE_PORT, else a free one). User servers reach the service here.""",
    )

    @default("service_url")
    def _default_service_url(self) -> str:
        return f"http://127.0.0.1:{_port('TERRALAB_SERVICE_PORT')}"

    storage_quota = Unicode(
        "300GB",
        config=True,
        help="""How much data each user may keep in my data (uploads and results), e.g.
        "300GB", "10 MB" or a number of bytes. storage_quota_users and storage_quota_groups
        override it (a user's own value first, else the largest of their groups').""",
    )

    storage_quota_users = Dict(
        config=True, help='Storage quotas of single users, e.g. {"alice": "1TB"}.'
    )

    storage_quota_groups = Dict(
        config=True, help='Storage quotas of groups, e.g. {"teachers": "2TB"}.'
    )

    upload_limits = Dict(
        config=True,
        help="""Changes to the upload rules (terralab.mydata.limits.UploadLimits), e.g.
        {"max_bytes": 10737418240, "min_side": 512, "crs": "any", "band_counts": "1,3,4",
        "dtypes": "uint8,uint16,float32"}. Keys: max_bytes, min_side, max_side, band_counts,
        dtypes, crs, zip_max_entries, zip_max_unpacked, zip_max_ratio, refused_drain_bytes
        (the largest body of a refused upload PUT that the service reads and drops before
        answering, so the proxy keeps its connections; default 64 MiB).""",
    )

    @validate("storage_quota", "storage_quota_users", "storage_quota_groups", "upload_limits")
    def _check_sizes(self, proposal: dict) -> object:
        self._policy_env({proposal["trait"].name: proposal["value"]})
        return proposal["value"]

    def _policy_env(self, changes: dict | None = None) -> dict[str, str]:
        """The service's environment for the quota and upload settings (checked)."""
        from terralab.mydata.limits import UploadLimits
        from terralab.quotas.policy import StoragePolicy
        from terralab.sizes import parse_size

        values = {"storage_quota": self.storage_quota, "upload_limits": self.upload_limits,
                  "storage_quota_users": self.storage_quota_users,
                  "storage_quota_groups": self.storage_quota_groups, **(changes or {})}
        policy = StoragePolicy(
            default=parse_size(values["storage_quota"]),
            users={k: parse_size(v) for k, v in values["storage_quota_users"].items()},
            groups={k: parse_size(v) for k, v in values["storage_quota_groups"].items()})
        env = policy.to_env()
        for key, value in values["upload_limits"].items():
            if key not in UploadLimits.__dataclass_fields__:
                raise ValueError(f"upload_limits: unknown rule {key!r}")
            text = ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
            env[f"TERRALAB_UPLOAD_{key.upper()}"] = text
        UploadLimits.from_env(env)  # refuses bad values now, not at the first upload
        return env

    def _apply_service(self, c: Config, home: Path) -> None:
        """Run the terralab hub service and the worker pool as managed JupyterHub services."""
        environment = {**self._policy_env(), **self.quota_env(), **self.queue_env(),
                       **self.cookie_env(), **self.catalog_env()}
        c.JupyterHub.services = [
            {
                "name": SERVICE_NAME,
                "url": self.service_url,
                "command": [sys.executable, "-m", "terralab.hub.service"],
                "environment": {"TERRALAB_HOME": str(home), **environment},
                "oauth_no_confirm": True,
                "display": True,
                "info": {"description": "terralab queue, quotas, catalog and accounts"},
            },
            self.workers_service(home, environment),
        ]
