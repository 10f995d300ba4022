"""`--spawner system` (root): each hub user's server runs as a system user of its own."""

import os
import pwd
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import requests

from terralab.hub.ports import free_port
from tests.conftest import start_terralab_up
from tests.hub_helpers import RunningHub

PREFIX = "tltest-"


def _traversable_by_others(path: Path) -> bool:
    return all(p.stat().st_mode & stat.S_IXOTH for p in [path, *path.parents])


def _remove_test_users() -> None:
    for entry in pwd.getpwall():
        if entry.pw_name.startswith(PREFIX):
            subprocess.run(["userdel", entry.pw_name], check=False, capture_output=True)


@pytest.fixture
def system_hub():
    if os.geteuid() != 0:
        pytest.skip("system users need root")
    for needed in (Path(sys.prefix), Path(sys.executable).resolve().parent):
        if not _traversable_by_others(needed):
            pytest.skip(f"{needed} is not traversable by other users, so a system user cannot "
                        "run this Python (install it outside /root to run this test)")
    _remove_test_users()
    home = Path(tempfile.mkdtemp(prefix="terralab-system-"))
    home.chmod(0o755)
    site = home / "site_config.py"
    site.write_text(f'c.SystemUserSpawner.system_username_template = "{PREFIX}{{username}}"\n')
    port = free_port()
    process, _ = start_terralab_up(home, port, "--spawner", "system",
                                   env_extra={"TERRALAB_HUB_SITE_CONFIG": str(site)})
    yield RunningHub(url=f"http://127.0.0.1:{port}", home=home,
                     logins={"admin": "admin-pass-123", "demo": "demo-pass-123"})
    process.send_signal(signal.SIGINT)
    process.wait(90)
    _remove_test_users()
    subprocess.run(["rm", "-rf", str(home)], check=False)


def test_each_user_gets_a_private_system_user(system_hub):
    for user in ("demo", "admin"):
        system_hub.start_server(user)
    demo = pwd.getpwnam(f"{PREFIX}demo")
    workspace = system_hub.home / "users" / "demo"
    assert Path(demo.pw_dir) == workspace
    info = workspace.stat()
    assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (demo.pw_uid, 0o700)
    assert (workspace / "tutorials" / "01-getting-started.ipynb").stat().st_uid == demo.pw_uid

    # The server really runs as that user ...
    token = system_hub.token("demo")
    status = requests.get(f"{system_hub.url}/user/demo/api/status",
                          headers={"Authorization": f"token {token}"}, timeout=30)
    assert status.status_code == 200
    servers = [p for p in Path("/proc").iterdir() if p.name.isdigit()
               and b"terralab.hub.singleuser" in _read(p / "cmdline")
               and b"JUPYTERHUB_USER=demo" in _read(p / "environ").split(b"\0")]
    assert servers and all(p.stat().st_uid == demo.pw_uid for p in servers)

    # ... and cannot read another user's workspace.
    other = system_hub.home / "users" / "admin"
    denied = subprocess.run(["setpriv", f"--reuid={demo.pw_uid}", f"--regid={demo.pw_gid}",
                             "--clear-groups", "ls", str(other)], capture_output=True, text=True)
    assert denied.returncode != 0 and "Permission denied" in denied.stderr


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""
