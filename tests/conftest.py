"""Shared fixtures: the real sample data, a running terralab hub, a headless Chromium.

Also the test lanes (markers from the heavy fixtures a test uses, :mod:`tests.lanes`) and a
clean environment: no test sees a ``TERRALAB_*`` or ``JUPYTERHUB_*`` variable it did not set,
or that a wider-scoped fixture it uses did not ask for through :func:`fixture_env`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from terralab.hub.ports import free_port
from tests.hub_helpers import RunningHub
from tests.hub_site_config import SITE_LINES
from tests.lanes import distribute, group, lane_markers
from tests.memory_probe import Peak, measure_peak
from tests.postgres_server import PostgresServer, running_postgres

ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = ROOT.parent / "shared" / "data" / "real"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Prefixes of the variables that configure terralab and JupyterHub's single-user servers.
ENV_PREFIXES = ("TERRALAB_", "JUPYTERHUB_")
# variables that the running module- or session-scoped fixtures give the tests using them
_FIXTURE_ENV: dict[str, dict[str, str]] = {}


def pytest_configure(config: pytest.Config) -> None:
    """Spread the tests over pytest-xdist's workers by group (``--dist loadgroup``)."""
    if config.getoption("dist", "no") == "loadgroup" and not hasattr(config, "workerinput"):
        from tests.xdist_lanes import XdistLanes

        config.pluginmanager.register(XdistLanes(), "terralab-xdist-lanes")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with the lanes of the heavy fixtures and processes it uses; on a
    pytest-xdist worker of a ``--dist loadgroup`` run, also order the tests and tell the
    controller their groups."""
    for item in items:
        for name in sorted(lane_markers(item)):
            item.add_marker(getattr(pytest.mark, name))
    if config.getoption("loadgroup", False):  # set on the workers only
        from tests.xdist_lanes import write_groups

        items[:] = distribute(items)
        write_groups(config, {item.nodeid: group(item) for item in items})


def platform_variables() -> list[str]:
    """The names of the ``TERRALAB_*`` / ``JUPYTERHUB_*`` variables now set."""
    return [name for name in os.environ if name.startswith(ENV_PREFIXES)]


def fixture_env(request: pytest.FixtureRequest, **values: str) -> None:
    """Give the tests that use the calling (module- or session-scoped) fixture ``values``.

    The variables are set, for each such test, after :func:`clean_environment` has cleared
    the others, and are forgotten when the fixture is torn down.
    """
    name = request.fixturename
    _FIXTURE_ENV[name] = dict(values)
    request.addfinalizer(lambda: _FIXTURE_ENV.pop(name, None))


@pytest.fixture(scope="session", autouse=True)
def clean_session_environment() -> Iterator[None]:
    """The session's fixtures (the hub, servers, workers) start without the caller's
    ``TERRALAB_*`` / ``JUPYTERHUB_*`` variables, e.g. those of a user server running pytest."""
    with pytest.MonkeyPatch.context() as patch:
        for name in platform_variables():
            patch.delenv(name)
        yield


@pytest.fixture(autouse=True)
def clean_environment(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no ``TERRALAB_*`` / ``JUPYTERHUB_*`` variable but those that its
    wider-scoped fixtures ask for (:func:`fixture_env`); a test sets the ones it needs."""
    for name in platform_variables():
        monkeypatch.delenv(name)
    for fixture in request.fixturenames:
        for name, value in _FIXTURE_ENV.get(fixture, {}).items():
            monkeypatch.setenv(name, value)


@pytest.fixture
def peak_memory() -> Callable[..., AbstractContextManager[Peak]]:
    """:func:`tests.memory_probe.measure_peak`; a test using it is in the ``memory`` lane."""
    return measure_peak


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The real samples of ../shared/data/real (skips when absent)."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"real sample data not found at {REAL_DATA}")
    return REAL_DATA


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Folder for screenshots and other test outputs (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def _default_sigint() -> None:
    """In a child about to start: Ctrl-C (SIGINT) stops it, even where pytest itself runs
    with SIGINT ignored (a background job of a shell without job control)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stop_terralab_up(process: subprocess.Popen, timeout: float = 60) -> None:
    """Stop ``terralab up`` with Ctrl-C; past ``timeout``, kill it and what it started."""
    import psutil

    try:
        family = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for child in family:  # gone after a clean stop; psutil refuses a reused pid
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()


def start_terralab_up(home: Path, port: int, *extra: str,
                      env_extra: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """Run ``terralab up`` as a user would and wait for its banner.

    Returns:
        The process and everything it printed up to the banner's last line.
    """
    env = dict(os.environ)
    env.update(
        TERRALAB_HOME=str(home),
        TERRALAB_ADMIN_PASSWORD="admin-pass-123",
        TERRALAB_DEMO_PASSWORD="demo-pass-123",
    )
    env.update(env_extra or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "terralab.cli", "up", "--port", str(port), "--home", str(home),
         *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_default_sigint,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 240
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Press Ctrl-C to stop everything" in line:
            return process, "".join(lines)
    process.kill()
    log = home / "hub" / "jupyterhub.log"
    tail = log.read_text()[-4000:] if log.exists() else ""
    raise RuntimeError("terralab up did not start:\n" + "".join(lines) + "\n" + tail)


#: Where this run keeps the one small demo region its tests copy (set by ``demo_cache``).
_DEMO_CACHE: list[Path] = []


@pytest.fixture(scope="session", autouse=True)
def demo_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """One folder per run, shared by pytest-xdist's workers, for the small demo region."""
    base = tmp_path_factory.getbasetemp()
    run = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    _DEMO_CACHE[:] = [run / "small-demo-cache"]


def write_small_demo(home: Path) -> Path:
    """Write a small demo region into ``home`` and index it; returns ``home``.

    The region (256 px, seed 42) is generated once per run, under a lock shared by the
    workers, and copied; the copy is indexed where it lies. The tests of the generator itself
    (tests/kernels_lib/test_demo_data.py) call it directly.
    """
    import fcntl

    from terralab.catalog.bootstrap import index_demo_data
    from terralab.demo import write_demo_data

    if not _DEMO_CACHE:  # called outside a test session
        write_demo_data(home, size=256, seed=42)
    else:
        cache = _DEMO_CACHE[0]
        cache.mkdir(parents=True, exist_ok=True)
        with (cache / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            region = cache / "home"
            if not (region / ".complete").exists():
                shutil.rmtree(region, ignore_errors=True)
                write_demo_data(region, size=256, seed=42)
                (region / ".complete").touch()
        shutil.copytree(region, home, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".complete"))
    index_demo_data(home)
    return home


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A terralab home holding a small demo region, indexed in the catalog (read-only use)."""
    return write_small_demo(tmp_path_factory.mktemp("demo-home"))


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    """A real terralab hub (JupyterHub + configurable-http-proxy + the hub service).

    Its home holds a small demo region, indexed, so the catalog endpoints have items; its
    site configuration is ``tests.hub_site_config.SITE_LINES``; one tool is installed as a
    plug-in (``tests.browser.page_plugin``: on the ``PYTHONPATH`` of the hub, its service,
    workers and users' servers).
    """
    from tests.browser.page_plugin import plugin_site

    home = write_small_demo(tmp_path_factory.mktemp("terralab-home"))
    site = home / "site_config.py"
    site.write_text("".join(f"{line}\n" for line in SITE_LINES))
    plugins = plugin_site(tmp_path_factory.mktemp("hub-plugins"))
    python_path = os.pathsep.join(filter(None, [str(plugins), str(ROOT),
                                                os.environ.get("PYTHONPATH", "")]))
    port = free_port()
    process, output = start_terralab_up(home, port,
                                        env_extra={"TERRALAB_HUB_SITE_CONFIG": str(site),
                                                   "PYTHONPATH": python_path})
    logins = dict(re.findall(r"^\s+(\w+)\s+password: (\S+)$", output, flags=re.M))
    running = RunningHub(url=f"http://127.0.0.1:{port}", home=home, logins=logins)
    yield running
    stop_terralab_up(process)


@pytest.fixture(scope="session")
def chromium_browser():
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed (make test installs it)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS,
                                             headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for the session (skips when its binaries are missing)."""
    with running_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """The ``postgresql://`` URL of a fresh database on the session's PostgreSQL server."""
    return postgres_server.create_database("terralab")
