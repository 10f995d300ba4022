"""`terralab up`: prints the URL and the logins, and Ctrl-C stops everything it started."""

import signal
from pathlib import Path

import requests

from terralab.hub.ports import free_port
from terralab.settings import DOCUMENT_VARIABLE, read_settings
from tests.conftest import start_terralab_up
from tests.hub_helpers import RunningHub


def processes_with_home(home: Path) -> set[int]:
    """PIDs of the processes of this home: ``TERRALAB_HOME=home`` (the hub, the proxy) or a
    settings document naming it (the service, the workers, users' servers)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            pairs = (entry / "environ").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        env = dict(pair.split("=", 1) for pair in pairs if "=" in pair)
        if env.get("TERRALAB_HOME") == str(home):
            found.add(int(entry.name))
        elif DOCUMENT_VARIABLE in env:
            try:
                if read_settings({DOCUMENT_VARIABLE: env[DOCUMENT_VARIABLE]}).home == home:
                    found.add(int(entry.name))
            except ValueError:
                continue
    return found


def alive(pid: int) -> bool:
    try:
        status = (Path("/proc") / str(pid) / "status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def test_up_prints_logins_and_ctrl_c_stops_everything(tmp_path):
    port = free_port()
    process, output = start_terralab_up(tmp_path, port)
    url = f"http://127.0.0.1:{port}"
    assert f"terralab is running at {url}/" in output
    assert "admin  password: admin-pass-123" in output
    assert "demo   password: demo-pass-123" in output
    assert (tmp_path / "catalog" / "demo" / "catalog.json").is_file()  # demo data made

    hub = RunningHub(url=url, home=tmp_path, logins={"demo": "demo-pass-123"})
    hub.start_server("demo")
    started = processes_with_home(tmp_path) - {process.pid}
    commands = {pid: (Path("/proc") / str(pid) / "cmdline").read_bytes() for pid in started}
    joined = b" ".join(commands.values())
    for part in (b"jupyterhub", b"configurable-http-proxy", b"terralab.hub.service",
                 b"terralab.hub.singleuser"):  # jupyterhub-singleuser, by terralab
        assert part in joined, f"{part!r} not among {commands}"

    process.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal sends
    assert process.wait(90) == 0
    assert not [pid for pid in started if alive(pid)], "processes left running after Ctrl-C"
    try:
        requests.get(f"{url}/hub/health", timeout=5)
        raise AssertionError("the hub still answers after Ctrl-C")
    except requests.ConnectionError:
        pass
