"""Hub start benchmark: from "start my server" to the user's Jupyter server answering.

Starts a real terralab hub the way the tests do (``python -m terralab.cli up`` on a temporary
TERRALAB_HOME, the embedded default: SQLite, configurable-http-proxy, the workshop spawner,
no demo data), logs in as ``demo`` through the login form and makes an API token, then
``--tries`` times:

1. stops demo's server if it runs (``DELETE /hub/api/users/demo/server``, waits until gone,
   then one second to settle);
2. ``POST /hub/api/users/demo/server`` and polls ``GET /user/demo/api/status`` (through the
   proxy, with the token) every 50 ms until it answers 200: that wall time is the result.

Where the time goes, per try, from the hub's log (``<home>/hub/jupyterhub.log``, which also
holds the user server's output): request → the spawner starts the process; process start →
the server's first log line (the interpreter and the imports of ``jupyterhub-singleuser`` and
of the server extensions); first line → "Jupyter Server … is running" (extensions linked and
loaded); running → the hub notices ("User demo took … to start"; the hub's readiness poll);
→ the proxy route added; → the POST answered; → the client's first 200.

Then, outside the hub, the imports of the user server's process (``python -X importtime`` of
the same modules, with terralab's start-up hook when there is one), three runs, medians.

Run from the repository root::

    .venv/bin/python benchmarks/hub.py            # 6 tries (~1 min)
    .venv/bin/python benchmarks/hub.py --tries 20
"""

from __future__ import annotations

import argparse
import calendar
import contextlib
import datetime as dt
import itertools
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests
from _run import hardware, header, work_folder

USER = "demo"
PASSWORD = "demo-pass-123"
POLL = 0.05

#: The modules the user server's process imports on start (what ``jupyterhub-singleuser``
#: imports, and the server extensions enabled in this environment).
SERVER_MODULES = ["jupyterhub.singleuser", "jupyterlab", "voila.server_extension",
                  "terralab.extension", "jupyter_server_mathjax", "jupyter_lsp",
                  "jupyter_server_terminals", "notebook_shim"]
#: Modules whose cumulative import time the breakdown shows (each once, where first imported).
IMPORT_SUSPECTS = ["jupyterhub.singleuser", "jupyter_server.serverapp", "jupyter_events",
                   "jsonschema", "rfc3987_syntax", "jupyterhub.singleuser.mixins",
                   "jupyterhub.orm", "terralab.extension", "httpx", "voila", "jupyterlab",
                   "jupyter_lsp", "jupyter_server_terminals", "jupyter_server_mathjax",
                   "notebook_shim"]


def _machine() -> str:
    import jupyter_server
    import jupyterhub
    import jupyterlab
    import voila

    return (f"{hardware()}; load average {os.getloadavg()[0]:.2f}; Python "
            f"{platform.python_version()}, JupyterHub {jupyterhub.__version__}, "
            f"jupyter_server {jupyter_server.__version__}, JupyterLab {jupyterlab.__version__}, "
            f"Voilà {voila.__version__}")


def start_hub(home: Path, port: int, config: list[str]) -> subprocess.Popen:
    """``terralab up`` on ``home`` (no demo data); returns once its banner is printed.

    ``config``: lines of a site configuration file (``$TERRALAB_HUB_SITE_CONFIG``), if any.
    """
    env = dict(os.environ, TERRALAB_HOME=str(home), TERRALAB_ADMIN_PASSWORD="admin-pass-123",
               TERRALAB_DEMO_PASSWORD=PASSWORD)
    if config:
        site = home / "site_config.py"
        site.write_text("".join(f"{line}\n" for line in config))
        env["TERRALAB_HUB_SITE_CONFIG"] = str(site)
    process = subprocess.Popen(
        [sys.executable, "-m", "terralab.cli", "up", "--port", str(port), "--home", str(home),
         "--no-demo-data"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    assert process.stdout is not None
    deadline = time.monotonic() + 240
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Press Ctrl-C to stop everything" in line:
            return process
    stop_hub(process)
    raise RuntimeError("terralab up did not start:\n" + "".join(lines))


def stop_hub(process: subprocess.Popen) -> None:
    """SIGTERM to ``terralab up`` (as Ctrl-C: it stops what it started); kill if stuck."""
    import psutil

    try:
        family = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(90)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for child in family:  # gone after a clean stop; psutil refuses a reused pid
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()


def login_token(url: str) -> str:
    """Log in as USER through the hub's form and make an API token."""
    session = requests.Session()
    session.get(f"{url}/hub/login", timeout=30).raise_for_status()
    response = session.post(f"{url}/hub/login", allow_redirects=False, timeout=30,
                            data={"username": USER, "password": PASSWORD,
                                  "_xsrf": session.cookies.get("_xsrf", "")})
    if response.status_code != 302:
        raise RuntimeError(f"login failed: HTTP {response.status_code}")
    made = session.post(f"{url}/hub/api/users/{USER}/tokens", timeout=30,
                        json={"note": "hub benchmark", "expires_in": 3600},
                        headers={"X-XSRFToken": session.cookies.get("_xsrf", "")})
    made.raise_for_status()
    return made.json()["token"]


def stop_server(url: str, headers: dict[str, str]) -> None:
    api = f"{url}/hub/api/users/{USER}"
    requests.delete(f"{api}/server", headers=headers, timeout=60)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if "" not in requests.get(api, headers=headers, timeout=30).json().get("servers", {}):
            return
        time.sleep(0.2)
    raise RuntimeError(f"the server of {USER} did not stop")


def one_try(url: str, headers: dict[str, str]) -> tuple[float, float, float]:
    """Start USER's server; returns (start time, POST answered, status 200) as epoch s."""
    started = time.time()
    response = requests.post(f"{url}/hub/api/users/{USER}/server", headers=headers, timeout=180)
    if response.status_code not in (201, 202):
        raise RuntimeError(f"start refused: HTTP {response.status_code} {response.text[:200]}")
    answered = time.time()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            status = requests.get(f"{url}/user/{USER}/api/status", headers=headers, timeout=10,
                                  allow_redirects=False)
            if status.status_code == 200:
                return started, answered, time.time()
        time.sleep(POLL)
    raise RuntimeError(f"the server of {USER} did not answer in 180 s")


_HUB_LINE = re.compile(r"^\[\w (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) (\S+)[^\]]*\] (.*)$")
_CHP_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z \[ConfigProxy\] .*?: (.*)$")


def _parse_log(text: str) -> list[tuple[float, str, str]]:
    """(epoch s, logger, message) of the hub's, the server's and the proxy's log lines."""
    events = []
    for line in text.splitlines():
        if found := _HUB_LINE.match(line):  # the hub and Jupyter servers log local time
            stamp = dt.datetime.strptime(found[1], "%Y-%m-%d %H:%M:%S.%f")
            events.append((time.mktime(stamp.timetuple()) + stamp.microsecond / 1e6,
                           found[2], found[3]))
        elif found := _CHP_LINE.match(line):  # configurable-http-proxy logs UTC
            stamp = dt.datetime.strptime(found[1], "%Y-%m-%dT%H:%M:%S.%f")
            events.append((calendar.timegm(stamp.timetuple()) + stamp.microsecond / 1e6,
                           "ConfigProxy", found[2]))
    return events


PHASES = ["request → process started", "process → first log line (imports)",
          "first log line → server running (extensions)", "running → hub noticed (hub poll)",
          "hub noticed → route added", "route added → POST answered",
          "POST answered → client saw 200"]


def breakdown(log: str, started: float, answered: float, ready: float) -> list[float] | None:
    """Seconds of each of PHASES in one try, from its part of the hub's log."""
    events = _parse_log(log)

    def first(test) -> float | None:
        return next((t for t, name, message in events if test(name, message)), None)

    spawned = first(lambda n, m: n == "JupyterHub" and m.startswith("Spawning")
                    and "singleuser" in m)
    if spawned is None:
        return None
    first_line = next((t for t, name, _ in events
                       if t >= spawned and name not in ("JupyterHub", "ConfigProxy")), None)
    running = first(lambda n, m: n == "ServerApp" and "is running at" in m)
    noticed = first(lambda n, m: n == "JupyterHub" and m.startswith(f"User {USER} took"))
    routed = first(lambda n, m: n == "ConfigProxy" and m.startswith(f"Route added /user/{USER}"))
    marks = [started, spawned, first_line, running, noticed, routed, answered, ready]
    if None in marks:
        return None
    return [b - a for a, b in itertools.pairwise(marks)]


def import_profile(hook: bool, rounds: int = 3) -> dict[str, float]:
    """Median cumulative import seconds of IMPORT_SUSPECTS in a fresh user-server process.

    With ``hook``, the process first runs terralab's start-up hook of user servers
    (``terralab.hub.singleuser.prepare``), as a server started by ``python -m
    terralab.hub.singleuser`` does; without it, as plain ``jupyterhub-singleuser``.
    """
    code = (("import terralab.hub.singleuser as s; s.prepare()\n" if hook else "")
            + f"for m in {SERVER_MODULES!r}: __import__(m)\n")
    runs: dict[str, list[float]] = {}
    for _ in range(rounds):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-X", "importtime", "-c", code],
                              capture_output=True, text=True, check=True)
        runs.setdefault("whole process (wall)", []).append(time.perf_counter() - started)
        seen = set()
        for line in done.stderr.splitlines():
            parts = line.split("|")
            if len(parts) != 3 or not parts[1].strip().isdigit():
                continue
            name = parts[2].strip()
            if name in IMPORT_SUSPECTS and name not in seen:
                seen.add(name)
                runs.setdefault(name, []).append(int(parts[1]) / 1e6)
        for name in IMPORT_SUSPECTS:
            if name not in seen:
                runs.setdefault(name, []).append(0.0)
    runs["python -c pass (wall)"] = [_wall([sys.executable, "-c", "pass"])
                                     for _ in range(rounds)]
    order = ["whole process (wall)", "python -c pass (wall)", *IMPORT_SUSPECTS]
    return {name: statistics.median(runs[name]) for name in order}


def _wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tries", type=int, default=6, help="server starts to time")
    parser.add_argument("--workdir", type=Path, help="TERRALAB_HOME (default: a temporary "
                        "folder, removed afterwards)")
    parser.add_argument("--keep", action="store_true", help="keep the workdir")
    parser.add_argument("--config", action="append", default=[], metavar="LINE",
                        help="a line of the hub's site configuration (repeatable), e.g. "
                        "the settings before issue 18: --config 'c.Spawner.cmd = "
                        "[\"jupyterhub-singleuser\"]' --config "
                        "'c.ReadyWaitSpawner.ready_poll_interval = 0'")
    parser.add_argument("--no-imports", action="store_true",
                        help="skip the import profile of the user server's process")
    args = parser.parse_args(argv)
    header("terralab hub start benchmark", _machine())
    with work_folder(args.workdir, keep=args.keep, prefix="terralab-hub-") as workdir:
        if args.keep:
            print(f"keeping {workdir} (hub log: {workdir / 'hub' / 'jupyterhub.log'})")
        return _bench(args, workdir)


def _bench(args: argparse.Namespace, workdir: Path) -> int:
    from terralab.hub.ports import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    began = time.perf_counter()
    for line in args.config:
        print(f"site config: {line}")
    hub = start_hub(workdir, port, args.config)
    print(f"hub up in {time.perf_counter() - began:.1f} s at {url}")
    log_path = workdir / "hub" / "jupyterhub.log"
    totals, phases = [], []
    try:
        headers = {"Authorization": f"token {login_token(url)}"}
        for number in range(args.tries):
            stop_server(url, headers)
            time.sleep(1)
            offset = log_path.stat().st_size
            started, answered, ready = one_try(url, headers)
            time.sleep(0.3)  # let the proxy's and the server's last lines reach the log
            with log_path.open("rb") as log:
                log.seek(offset)
                text = log.read().decode(errors="replace")
            split = breakdown(text, started, answered, ready)
            totals.append(ready - started)
            if split:
                phases.append(split)
            shown = " ".join(f"{s:5.2f}" for s in split) if split else "(log not parsed)"
            print(f"  try {number + 1}: {ready - started:5.2f} s  [{shown}]  "
                  f"load {os.getloadavg()[0]:.2f}", flush=True)
        stop_server(url, headers)
    finally:
        stop_hub(hub)
    print(f"\nstart-server-to-ready over {len(totals)} tries: median "
          f"{statistics.median(totals):.2f} s, min {min(totals):.2f} s, max {max(totals):.2f} s")
    if phases:
        print("\n| phase | median s | min s | max s |")
        print("|---|---:|---:|---:|")
        for index, name in enumerate(PHASES):
            values = [p[index] for p in phases]
            print(f"| {name} | {statistics.median(values):.2f} | {min(values):.2f} "
                  f"| {max(values):.2f} |")
    if not args.no_imports:
        hook = not any("jupyterhub-singleuser" in line for line in args.config)
        command = "python -m terralab.hub.singleuser" if hook else "jupyterhub-singleuser"
        print(f"\nimports of the user server's process as {command} starts it "
              "(python -X importtime, cumulative, median of 3):\n")
        print("| module | s |")
        print("|---|---:|")
        for name, seconds in import_profile(hook).items():
            print(f"| {name} | {seconds:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
