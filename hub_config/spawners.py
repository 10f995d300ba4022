"""Spawners of the embedded default.

- :class:`WorkshopSpawner` (default): every user server runs as the hub's own Unix user,
  in ``<TERRALAB_HOME>/users/<name>``. No root needed, **no isolation between users**: a
  single-trust mode for a laptop, a class or a workshop where everyone trusts each other.
- :class:`SystemUserSpawner`: when the hub runs as root, each hub user gets a real system
  user (``jupyter-<name>``, created on first start, TLJH-style) whose workspace is mode
  0700, so one user cannot read another's files.

DockerSpawner and KubeSpawner are the production choices (see ``hub_config/README.md``).
"""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner, SimpleLocalProcessSpawner, set_user_setuid
from traitlets import Unicode

from terralab.hub.material import provision_workspace

__all__ = ["SystemUserSpawner", "WorkshopSpawner"]


class WorkshopSpawner(SimpleLocalProcessSpawner):
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


class SystemUserSpawner(LocalProcessSpawner):
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
