"""Fixtures of the queue tests: the test tools as a plug-in, a platform on SQLite or PostgreSQL."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import fixture_env
from tests.kernels_lib.job_tools import plugin_site

ROOT = Path(__file__).resolve().parents[2]


def _reset_registry() -> None:
    import terralab.tools.registry as registry

    registry._default = None


@pytest.fixture(scope="module")
def job_plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The test tools installed as a plug-in for one module (so the registry of later tests
    holds the real tools only); yields the folder to put on PYTHONPATH."""
    site = plugin_site(tmp_path_factory.mktemp("plugin-site"))
    sys.path.insert(0, str(site))
    _reset_registry()
    yield site
    sys.path.remove(str(site))
    _reset_registry()


@pytest.fixture(params=["sqlite", "postgresql"])
def platform(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             job_plugin: Path) -> dict[str, str]:
    """A fresh TERRALAB_HOME whose platform database is SQLite or a real PostgreSQL.

    Returns the environment worker processes need (home, database URL, plug-in path).
    """
    home = tmp_path / "home"
    (home / "users").mkdir(parents=True)
    env = {"TERRALAB_HOME": str(home), "TERRALAB_LOCAL_WORKER": "0",
           "PYTHONPATH": os.pathsep.join([str(job_plugin), str(ROOT)])}
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        env["TERRALAB_PLATFORM_DB_URL"] = server.create_database("jobs")
    for key, value in env.items():
        if key.startswith("TERRALAB_"):
            monkeypatch.setenv(key, value)
    return env


@pytest.fixture(scope="module")
def demo_copy(request: pytest.FixtureRequest, demo_home: Path,
              tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A writable copy of the demo home for one module (its catalog still reads the
    session's demo files, a configured data root for the tests using it), with a user folder
    for alice."""
    folder = tmp_path_factory.mktemp("demo-copy") / "home"
    shutil.copytree(demo_home, folder)
    (folder / "users" / "alice").mkdir(parents=True, exist_ok=True)
    fixture_env(request, TERRALAB_CATALOG_ROOTS=str(demo_home / "catalog"))
    return folder


@pytest.fixture
def env(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The module's ``home`` as TERRALAB_HOME, alice as the user, no hub, no worker thread."""
    monkeypatch.setenv("TERRALAB_HOME", str(home))
    monkeypatch.setenv("TERRALAB_USER", "alice")
    monkeypatch.setenv("TERRALAB_LOCAL_WORKER", "0")
    return home
