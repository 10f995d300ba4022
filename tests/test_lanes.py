"""The test lanes (markers from the heavy fixtures a test uses) and the clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from tests.conftest import fixture_env
from tests.lanes import LANES, distribute, group, lane_markers


def _item(*fixtures: str, function=None, params: dict | None = None) -> SimpleNamespace:
    """A stand-in for a collected test with these fixtures (no fixture definitions)."""
    callspec = SimpleNamespace(params=params) if params is not None else None
    return SimpleNamespace(fixturenames=list(fixtures), _fixtureinfo=None, callspec=callspec,
                           function=function)


def _starts_the_cli() -> str:
    return subprocess.run([sys.executable, "-c", "print(1)"], capture_output=True,
                          text=True, check=True).stdout


def _calls_a_helper_that_starts_a_process() -> None:
    assert _starts_the_cli() == "1\n"


def _pure() -> None:
    assert sorted([2, 1]) == [1, 2]


# reached through a dict, so that the test below does not call them itself as far as the
# lanes' code scan can see (it would be in the subprocess lane)
SPAWNING = {"direct": _starts_the_cli, "helper": _calls_a_helper_that_starts_a_process}


def test_heavy_fixtures_give_their_lanes() -> None:
    assert lane_markers(_item("tmp_path", "hub")) == {"hub"}
    assert lane_markers(_item("chromium_browser", "hub")) == {"browser", "hub"}
    assert lane_markers(_item("postgres_url", "postgres_server")) == {"postgres"}
    assert lane_markers(_item("dask_hub", "hub")) == {"gateway", "hub"}
    assert lane_markers(_item("tmp_path", "peak_memory")) == {"memory"}
    assert lane_markers(_item("tmp_path", "monkeypatch", function=_pure)) == set()


def test_only_the_postgresql_case_of_a_parametrised_platform_needs_postgres() -> None:
    assert lane_markers(_item("platform", params={"platform": "postgresql"})) == {"postgres"}
    assert lane_markers(_item("platform", params={"platform": "sqlite"})) == set()


def test_a_test_that_starts_a_process_through_a_helper_is_in_the_subprocess_lane() -> None:
    assert lane_markers(_item(function=SPAWNING["helper"])) == {"subprocess"}
    assert lane_markers(_item(function=SPAWNING["direct"])) == {"subprocess"}


def _collected(nodeid: str, *fixtures: str, lane: str | None = None) -> SimpleNamespace:
    """A stand-in for a collected, marked test."""
    return SimpleNamespace(nodeid=nodeid, fixturenames=list(fixtures),
                           get_closest_marker=lambda name: name if name == lane else None)


def test_the_hubs_tests_are_two_groups_and_go_first_then_heavy_modules() -> None:
    items = [_collected("tests/a.py::test_1"),
             _collected("tests/b.py::test_1", lane="subprocess"),
             _collected("tests/c.py::test_1", "hub", lane="hub"),
             _collected("tests/b.py::test_2"),
             _collected("tests/e.py::test_1", "hub", "chromium_browser", lane="hub"),
             _collected("tests/d.py::test_1", "hub", lane="hub")]
    assert [group(item) for item in items] == ["tests/a.py", "tests/b.py", "hub", "tests/b.py",
                                               "hub-browser", "hub"]
    ordered = [item.nodeid for item in distribute(items)]  # type: ignore[arg-type]
    assert ordered == ["tests/c.py::test_1", "tests/e.py::test_1", "tests/d.py::test_1",
                       "tests/b.py::test_1", "tests/b.py::test_2", "tests/a.py::test_1"]


def test_every_collected_test_carries_the_markers_of_its_lanes(
        request: pytest.FixtureRequest) -> None:
    for item in request.session.items:
        assert lane_markers(item) <= {mark.name for mark in item.iter_markers()}, item.nodeid
    assert not {mark.name for mark in request.node.iter_markers()} & set(LANES)


@pytest.fixture(scope="module")
def leaky() -> Iterator[str]:
    """A module fixture that leaves a variable behind and asks for another one properly."""
    os.environ["TERRALAB_LEAKED_BY_A_FIXTURE"] = "1"
    os.environ["JUPYTERHUB_LEAKED_BY_A_FIXTURE"] = "1"
    yield "x"
    del os.environ["TERRALAB_LEAKED_BY_A_FIXTURE"]
    del os.environ["JUPYTERHUB_LEAKED_BY_A_FIXTURE"]


@pytest.fixture(scope="module")
def asks(request: pytest.FixtureRequest, leaky: str) -> str:
    fixture_env(request, TERRALAB_ASKED_BY_A_FIXTURE=leaky)
    return leaky


def test_a_test_sees_no_terralab_or_jupyterhub_variable_it_did_not_set(leaky: str) -> None:
    assert not [name for name in os.environ if name.startswith(("TERRALAB_", "JUPYTERHUB_"))]


def test_a_wider_fixture_gives_its_tests_the_variables_it_asked_for(asks: str) -> None:
    found = {k: v for k, v in os.environ.items() if k.startswith(("TERRALAB_", "JUPYTERHUB_"))}
    assert found == {"TERRALAB_ASKED_BY_A_FIXTURE": "x"}


def test_a_test_that_does_not_use_the_fixture_does_not_get_its_variables() -> None:
    assert "TERRALAB_ASKED_BY_A_FIXTURE" not in os.environ
