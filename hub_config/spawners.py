"""Spawners of the embedded default.

- :class:`WorkshopSpawner` (default): every user server runs as the hub's own Unix user,
  in ``<TERRALAB_HOME>/users/<name>``. No root needed, **no isolation between users**: a
  single-trust mode for a laptop, a class or a workshop where everyone trusts each other.
- :class:`SystemUserSpawner`: when the hub runs as root, each hub user gets a real system
  user (``jupyter-<name>``, created on first start, TLJH-style) whose workspace is mode
  0700, so one user cannot read another's files.

Both wait for the server they start to answer before handing it to the hub
(:class:`ReadyWaitSpawner`), so the hub need not find it with its own, backing-off poll.

DockerSpawner and KubeSpawner are the production choices (see ``hub_config/README.md``).
"""

from __future__ import annotations

import asyncio
import os
import pwd
import subprocess
import time
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner, SimpleLocalProcessSpawner, set_user_setuid
from jupyterhub.utils import url_path_join
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from traitlets import Float, Unicode

from terralab.hub.material import provision_workspace

__all__ = ["ReadyWaitSpawner", "SystemUserSpawner", "WorkshopSpawner"]


class ReadyWaitSpawner(LocalProcessSpawner):
    """Return from ``start`` once the server answers, polling it at a short fixed interval.

    JupyterHub checks a started server with an exponential back-off with random jitter
    (waits drawn from 0–0.2 s, 0–0.4 s, 0–0.8 s, … up to 0–5 s), so a server that answers
    after 3 s is often noticed one to four seconds later (``benchmarks/hub.py``). Waiting here,
    every ``ready_poll_interval`` seconds, for the same answer the hub waits for (any answer
    but a 5xx from ``<server>/api``) makes the hub's first check succeed at once. If the
    process exits, or nothing answers within ``http_timeout``, the wait ends and the hub
    handles it exactly as before.
    """

    ready_poll_interval = Float(
        0.05,
        config=True,
        help="""Seconds between checks that a started server answers, before the server is
        handed to the hub. 0: do not wait (the hub's own back-off only).""",
    )

    async def start(self):
        """Start the server (the parent's ``start``), then wait until it answers."""
        ip, port = await super().start()
        await self.wait_until_answering(ip, port)
        return ip, port

    async def wait_until_answering(self, ip: str, port: int) -> bool:
        """Poll ``http://ip:port<base_url>api``; True once it answers, False if it did not."""
        if self.ready_poll_interval <= 0 or self.internal_ssl or self.server is None:
            return False
        url = url_path_join(f"http://{ip}:{port}{self.server.base_url}", "api")
        client = AsyncHTTPClient()
        deadline = time.monotonic() + self.http_timeout
        while time.monotonic() < deadline:
            if await self.poll() is not None:  # exited: the hub reports it as before
                return False
            try:
                await client.fetch(url, follow_redirects=False, connect_timeout=1,
                                   request_timeout=5)
                return True
            except HTTPClientError as error:
                if error.code < 500:  # 403 and the like: the server is up
                    return True
            except OSError:  # not listening yet
                pass
            await asyncio.sleep(self.ready_poll_interval)
        return False


class WorkshopSpawner(ReadyWaitSpawner, SimpleLocalProcessSpawner):
    """Run each user's server as the hub's Unix user in ``<home>/users/<name>``."""

    def get_args(self) -> list[str]:
        """Add ``--allow-root`` when the hub itself runs as root (single-trust mode)."""
        args = super().get_args()
        if os.geteuid() == 0:
            args.append("--allow-root")
        return args

    async def start(self):
        """Provision the workspace with the shared material, then start the server."""
        provision_workspace(Path(self.home_dir))
        return await super().start()


class SystemUserSpawner(ReadyWaitSpawner, LocalProcessSpawner):
    """Run each user's server as a system user of its own, created when missing (root only)."""

    system_username_template = Unicode(
        "jupyter-{username}",
        config=True,
        help="The system user name of a hub user; {username} is the hub user name.",
    )
    home_dir_template = Unicode(
        "",
        config=True,
        help="""The home (and workspace) of a new system user; {username} is the hub user
        name. Empty: the system default (/home/<system user>).""",
    )

    @property
    def system_username(self) -> str:
        """The system user this hub user's server runs as."""
        return self.system_username_template.format(username=self.user.name)

    def ensure_system_user(self) -> pwd.struct_passwd:
        """Create the system user (and its private home) if it does not exist yet."""
        name = self.system_username
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
        cmd = ["useradd", "--create-home", "--shell", "/bin/bash", "--user-group"]
        if self.home_dir_template:
            home = self.home_dir_template.format(username=self.user.name)
            Path(home).parent.mkdir(parents=True, exist_ok=True)
            cmd += ["--home-dir", home]
        subprocess.run([*cmd, name], check=True, capture_output=True)
        entry = pwd.getpwnam(name)
        os.chmod(entry.pw_dir, 0o700)
        return entry

    def make_preexec_fn(self, name: str):
        """Switch to the hub user's system user, not a system user of the hub name."""
        return set_user_setuid(self.system_username)

    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        """Set USER, HOME and SHELL of the system user."""
        entry = pwd.getpwnam(self.system_username)
        env.update(USER=entry.pw_name, HOME=entry.pw_dir, SHELL=entry.pw_shell or "/bin/bash")
        return env

    async def start(self):
        """Create the system user and provision its workspace, then start the server."""
        entry = self.ensure_system_user()
        provision_workspace(Path(entry.pw_dir), owner=(entry.pw_uid, entry.pw_gid))
        self.notebook_dir = entry.pw_dir
        return await super().start()
