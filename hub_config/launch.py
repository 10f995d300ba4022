"""``terralab up``: start JupyterHub on the embedded default and stop it cleanly.

The hub runs in a process session of its own; Ctrl-C (or SIGTERM) asks it to stop, and
JupyterHub then stops what it started (the proxy, the terralab service, user servers).
Anything still alive after a grace period is killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from terralab.hub.logins import load_logins
from terralab.hub.settings import find_proxy

__all__ = [
    "HubStartError",
    "check_can_start",
    "config_file",
    "start_hub",
    "stop_hub",
    "wait_until_ready",
]

_GRACE_SECONDS = 30


class HubStartError(RuntimeError):
    """The hub did not come up; the message says why."""


def config_file() -> Path:
    """Return the path of terralab's ``jupyterhub_config.py``."""
    return Path(__file__).resolve().parent / "jupyterhub_config.py"


def start_hub(home: Path, url: str, *, spawner_mode: str = "workshop") -> subprocess.Popen:
    """Start JupyterHub with terralab's configuration.

    Args:
        home: the terralab data folder.
        url: the public URL, e.g. ``http://127.0.0.1:8000``.
        spawner_mode: ``workshop`` or ``system`` (see :mod:`terralab.hub.spawners`).

    Returns:
        The hub process (in a session of its own).

    Raises:
        HubStartError: before starting anything, if the port is taken or the proxy missing.
    """
    check_can_start(url)
    load_logins(home)
    env = dict(os.environ)
    env.update(
        TERRALAB_HOME=str(home),
        TERRALAB_HUB_URL=url,
        TERRALAB_SPAWNER_MODE=spawner_mode,
        PATH=os.pathsep.join([str(Path(sys.prefix) / "bin"), env.get("PATH", "")]),
    )
    state = home / "hub"
    state.mkdir(parents=True, exist_ok=True)
    with (state / "jupyterhub.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(config_file())],
            cwd=state,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def check_can_start(url: str) -> None:
    """Refuse early, with a clear message, what would only show up in the hub log.

    Raises:
        HubStartError: if the address of ``url`` is in use or configurable-http-proxy is
            missing.
    """
    try:
        find_proxy()
    except FileNotFoundError as error:
        raise HubStartError(str(error)) from None
    parsed = urlparse(url)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((parsed.hostname or "127.0.0.1", parsed.port or 80))
        except OSError as error:
            raise HubStartError(
                f"cannot listen on {parsed.hostname}:{parsed.port} ({error.strerror}); "
                "stop what uses it or pick another port with --port"
            ) from None


def _ok(url: str) -> bool:
    """Return True when ``url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def wait_until_ready(process: subprocess.Popen, url: str, timeout: float = 120) -> None:
    """Wait until the hub and the terralab service answer through the proxy.

    Raises:
        HubStartError: if the hub exits or does not answer within ``timeout`` seconds.
    """
    base = url.rstrip("/")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise HubStartError(f"JupyterHub exited with code {process.returncode}")
        if _ok(f"{base}/hub/health") and _ok(f"{base}/services/terralab/health"):
            return
        time.sleep(0.5)
    raise HubStartError(f"JupyterHub did not answer at {base} within {timeout:.0f} s")


def stop_hub(process: subprocess.Popen) -> None:
    """Ask the hub to stop (SIGTERM), then kill its process group after a grace period."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(_GRACE_SECONDS)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def banner(url: str, home: Path) -> str:
    """Return the text printed once the hub is up: the URL and the demo logins."""
    logins = load_logins(home)
    lines = [
        "",
        f"terralab is running at {url}/",
        "",
        "  logins (kept in " + str(home / "hub" / "logins.json") + "):",
        *(f"    {name:<6} password: {password}" for name, password in logins.items()),
        "",
        f"  new users sign up at {url}/hub/signup; the admin approves them at "
        f"{url}/hub/authorize",
        f"  hub log: {home / 'hub' / 'jupyterhub.log'}",
        "",
        "Press Ctrl-C to stop everything.",
    ]
    return "\n".join(lines)
