"""The terralab hub settings, as traitlets, and how they configure JupyterHub.

``jupyterhub_config.py`` builds :class:`TerralabHub` from the same config object JupyterHub
reads, so a site sets ``c.TerralabHub.<trait>`` (in a file named by
``TERRALAB_HUB_SITE_CONFIG``) exactly like any JupyterHub option. What ``terralab up`` hands
the hub process (``launch`` of :mod:`terralab.settings`) gives the defaults.

The platform's part of these settings reaches the hub service, the workers and every user's
server as one document, ``$TERRALAB_SETTINGS`` (:meth:`TerralabHub.settings_environment`),
which :func:`terralab.settings.settings` reads there.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from traitlets import Dict, Enum, Int, List, TraitError, Unicode, default, validate
from traitlets.config import Config, LoggingConfigurable

from terralab.home import checkout_root, terralab_home
from terralab.hub.auth_settings import AuthSettings
from terralab.hub.catalog_settings import CatalogSettings
from terralab.hub.dask_settings import DaskSettings
from terralab.hub.logins import logins_path
from terralab.hub.ports import free_port
from terralab.hub.queue_settings import QueueSettings
from terralab.hub.quota_settings import QuotaSettings
from terralab.hub.raster_settings import RasterSettings
from terralab.settings import DOCUMENT_VARIABLE, Settings, UploadSettings, document, problems
from terralab.settings import settings as current_settings
from terralab.sizes import parse_size

__all__ = ["SERVICE_NAME", "TerralabHub", "find_proxy"]

SERVICE_NAME = "terralab"
DASHBOARD_HOME = "/voila/render/dashboards/home.ipynb"


def find_proxy() -> str:
    """Return the configurable-http-proxy command.

    The settings' ``launch.proxy_cmd`` (``$TERRALAB_PROXY_CMD``), else the one ``make up``
    installed into the checkout's ``node_modules``, else the one on ``PATH``.

    Raises:
        FileNotFoundError: if none is found, with how to install it.
    """
    explicit = current_settings().launch.proxy_cmd
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


def _port(port: int | None) -> int:
    """Return ``port`` (a ``launch`` setting), else a free loopback port."""
    return port or free_port()


class TerralabHub(AuthSettings, CatalogSettings, DaskSettings, QueueSettings, QuotaSettings,
                  RasterSettings, LoggingConfigurable):
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
        return current_settings().launch.hub_url

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
        return current_settings().launch.spawner_mode

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

    dashboard_kernel_cull = Int(
        120,
        config=True,
        help="""Seconds after which an idle kernel with no open page is shut down in the
        servers of dashboard_groups members: the kernel of a closed or refreshed Voilà page
        (Voilà also asks for it when the page unloads; this catches what that misses).
        0 keeps them.""",
    )

    kernel_cull = Int(
        3600,
        config=True,
        help="""The same for everybody else's servers (JupyterLab users): an idle kernel with
        no open notebook or page is shut down after this many seconds. 0 keeps them.""",
    )

    def _server_args(self, cull: int) -> list[str]:
        """The user server's command-line options.

        The Voilà template, the browser's language for the pages (``HTTP_ACCEPT_LANGUAGE``
        in their kernels), no tracebacks in pages, and the culling of idle kernels.
        """
        args = ["--VoilaConfiguration.template=terralab",
                "--VoilaConfiguration.http_header_envs=Accept-Language",
                "--VoilaConfiguration.show_tracebacks=False"]
        if cull > 0:
            args += [f"--MappingKernelManager.cull_idle_timeout={cull}",
                     f"--MappingKernelManager.cull_interval={max(5, min(60, cull // 2))}",
                     "--MappingKernelManager.cull_connected=False"]
        return args

    def apply(self, c: Config) -> None:
        """Add this deployment's JupyterHub configuration to ``c``.

        Values already in ``c`` (a site file's own JupyterHub options) win over terralab's;
        the site's ``c.Spawner.environment`` is added to terralab's (the settings document
        stays).
        """
        ours = self.jupyterhub_config()
        environment = {**ours.Spawner.environment,
                       **(c.Spawner.environment if "environment" in c.Spawner else {})}
        ours.merge(c)
        c.merge(ours)
        c.Spawner.environment = environment

    def jupyterhub_config(self) -> Config:
        """Return the JupyterHub configuration of these settings."""
        c = Config()
        home = Path(self.home)
        state = home / "hub"
        state.mkdir(parents=True, exist_ok=True)

        c.JupyterHub.bind_url = self.bind_url
        c.JupyterHub.hub_ip = "127.0.0.1"
        launch = current_settings().launch
        c.JupyterHub.hub_port = _port(launch.hub_api_port)
        c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
        c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
        c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
        c.JupyterHub.cleanup_servers = True

        c.ConfigurableHTTPProxy.command = [find_proxy()]
        c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{_port(launch.proxy_api_port)}"
        c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")

        self._apply_auth(c, home)
        self._apply_spawner(c, home)
        self._apply_service(c, home)
        self.apply_dask(c, home, spawner_mode=self.spawner_mode)
        return c

    def _apply_auth(self, c: Config, home: Path) -> None:
        """Sign-up with admin approval; lock-out and name rules; who may reach the service."""
        c.JupyterHub.authenticator_class = "terralab.hub.authenticator.TerralabAuthenticator"
        # terralab's page.html: JupyterHub's own, with the login page's show-password button
        # drawn with the hub's Font Awesome (its emoji is a box without an emoji font)
        c.JupyterHub.template_paths = [str(Path(__file__).parent / "templates")]
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
        # jupyterhub-singleuser, with terralab's start-up hook (terralab.hub.singleuser)
        c.Spawner.cmd = [sys.executable, "-m", "terralab.hub.singleuser"]
        c.Spawner.default_url = "/lab"
        c.Spawner.http_timeout = 120
        c.Spawner.start_timeout = 120
        # one document: home, the service's URL (tl.* calls go there), quotas, rules …
        c.Spawner.environment = self.settings_environment(home)
        c.Spawner.args = self._server_args(self.kernel_cull)
        c.Spawner.group_overrides = {
            "10-dashboards": {
                "groups": list(self.dashboard_groups),
                "spawner_override": {"default_url": self.dashboard_url,
                                     "args": self._server_args(self.dashboard_kernel_cull)},
            }
        }

    service_url = Unicode(
        config=True,
        help="""Where the terralab hub service listens (http://127.0.0.1:<port>; the port from
        $TERRALAB_SERVICE_PORT, else a free one). User servers reach the service here.""",
    )

    @default("service_url")
    def _default_service_url(self) -> str:
        return f"http://127.0.0.1:{_port(current_settings().launch.service_port)}"

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
        from terralab.mydata.limits import UploadLimits

        name, value = proposal["trait"].name, proposal["value"]
        try:
            if name == "upload_limits":
                unknown = sorted(set(value) - set(UploadSettings.model_fields))
                if unknown:
                    raise ValueError(f"unknown rule {unknown[0]!r}")
                # refuses bad values now, not at the first upload
                UploadLimits.from_settings(UploadSettings.model_validate(value))
            elif name == "storage_quota":
                parse_size(value)
            else:
                for size in value.values():
                    parse_size(size)
        except ValidationError as error:
            raise TraitError(f"{name}: {problems(error)}") from None
        except ValueError as error:
            raise TraitError(f"{name}: {error}") from None
        return value

    def platform_settings(self, home: Path | str | None = None) -> Settings:
        """The platform's settings of this deployment (:class:`terralab.settings.Settings`).

        What the hub service, the workers and users' servers read: the data folder, where
        the service is, the platform database, quotas, upload rules, the queue, the catalog's
        asset rules, Dask. Only the fields set here go into the settings document; the
        others keep their variables (e.g. ``$TERRALAB_GEOCODER`` in ``c.Spawner.environment``)
        or defaults.

        Args:
            home: the data folder (default: the ``home`` traitlet).
        """
        values: dict[str, Any] = {
            "home": str(home or self.home),
            "service": {"url": f"{self.service_url}/services/{SERVICE_NAME}/",
                        "name": SERVICE_NAME},
            "quotas": {**self.quota_settings(), "storage": parse_size(self.storage_quota),
                       "storage_users": {k: parse_size(v)
                                         for k, v in self.storage_quota_users.items()},
                       "storage_groups": {k: parse_size(v)
                                          for k, v in self.storage_quota_groups.items()}},
            "uploads": dict(self.upload_limits),
            "queue": self.queue_settings(),
            "catalog": self.catalog_settings(),
            "dask": {"no_client_timeout": float(self.dask_no_client_timeout)},
            "raster": self.raster_settings(),
        }
        if self.platform_db_url:
            values["platform_db_url"] = self.platform_db_url
        return Settings.model_validate(values)

    def settings_environment(self, home: Path | str | None = None, *,
                             service: bool = False) -> dict[str, str]:
        """The environment that hands a process :meth:`platform_settings`.

        One variable, ``$TERRALAB_SETTINGS``, holding the settings document.

        Args:
            home: the data folder (default: the ``home`` traitlet).
            service: for the hub service and the workers; users' servers' document (False)
                leaves out the platform database's URL.
        """
        return {DOCUMENT_VARIABLE: document(self.platform_settings(home), service=service)}

    def _apply_service(self, c: Config, home: Path) -> None:
        """Run the terralab hub service and the worker pool as managed JupyterHub services."""
        environment = {**self.settings_environment(home, service=True), **self.cookie_env()}
        c.JupyterHub.services = [
            {
                "name": SERVICE_NAME,
                "url": self.service_url,
                "command": [sys.executable, "-m", "terralab.hub.service"],
                "environment": environment,
                "oauth_no_confirm": True,
                "display": True,
                "info": {"description": "terralab queue, quotas, catalog and accounts"},
            },
            self.workers_service(environment),
        ]
