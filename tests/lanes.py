"""The test lanes: markers given to each test from the heavy things it uses.

A test is marked

- ``hub`` when its fixtures include the session's ``hub`` (or start ``terralab up``),
- ``browser`` when they include ``chromium_browser``,
- ``postgres`` when they include ``postgres_server`` / ``postgres_url``, or when the test is
  the ``postgresql`` case of a fixture parametrised over the database,
- ``gateway`` when they include a dask-gateway server (``gateway``, ``dask_hub``),
- ``memory`` when they include ``peak_memory`` (a check that memory stays bounded, on rasters
  of hundreds of megapixels),
- ``subprocess`` when the test, one of its fixtures, or a test helper they call starts a
  process (``subprocess``, a Jupyter kernel, a process pool); the processes of the fixtures
  above do not count.

Everything is found by looking at the test: its fixture closure (``item.fixturenames``, which
holds the fixtures its fixtures depend on too) and the code of the test and of the tests'
own fixtures and helpers, followed call by call. ``make test-fast`` runs the tests with none
of these markers.

Spread over pytest-xdist workers (``--dist loadgroup``, as ``make test`` runs), a test runs
in its :func:`group` (:mod:`tests.xdist_lanes`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from types import CodeType
from typing import Any

import pytest

__all__ = ["LANES", "distribute", "group", "lane_markers"]

#: The lane markers (declared, with their help text, in pyproject.toml).
LANES = ("hub", "browser", "postgres", "gateway", "memory", "subprocess")

#: Fixtures that are heavy by themselves; their own code is not scanned further.
FIXTURE_LANES = {
    "hub": "hub",
    "chromium_browser": "browser",
    "postgres_server": "postgres",
    "postgres_url": "postgres",
    "gateway": "gateway",
    "dask_hub": "gateway",
    "peak_memory": "memory",
}

#: Test helpers that start a heavy thing when a test or fixture calls them.
HELPER_LANES = {
    "start_terralab_up": "hub",
    "running_postgres": "postgres",
}

#: Parameters of a fixture parametrised over the platform database that need PostgreSQL.
POSTGRES_PARAMS = frozenset({"postgresql"})

#: Names whose use in code means a process is started.
_SPAWNING = frozenset({"Popen", "check_output", "check_call", "ProcessPoolExecutor",
                       "multiprocessing", "NotebookClient", "KernelManager"})
_SUBPROCESS_CALLS = frozenset({"run", "call"})


def _codes(code: CodeType) -> Iterator[CodeType]:
    """``code`` and the code of the functions, lambdas and comprehensions defined in it."""
    yield code
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _codes(const)


def _is_test_code(func: Any) -> bool:
    """Whether ``func`` is a plain function written in this test suite."""
    return (inspect.isfunction(func)
            and (func.__module__ or "").partition(".")[0] in {"tests", "conftest"})


def _code_lanes(func: Callable[..., Any], seen: set[CodeType]) -> set[str]:
    """The lanes the code of ``func`` (and the test helpers it calls) puts a test in."""
    func = inspect.unwrap(func)
    if not _is_test_code(func) or func.__code__ in seen:
        return set()
    seen.add(func.__code__)
    lanes: set[str] = set()
    for code in _codes(func.__code__):
        names = set(code.co_names)
        if names & _SPAWNING or ("subprocess" in names and names & _SUBPROCESS_CALLS):
            lanes.add("subprocess")
        for name in names:
            if name in HELPER_LANES:
                lanes.add(HELPER_LANES[name])
                continue
            target = func.__globals__.get(name)
            if target is not None and _is_test_code(inspect.unwrap(target)):
                lanes |= _code_lanes(target, seen)
    return lanes


def lane_markers(item: pytest.Item) -> set[str]:
    """The lane markers of a collected test (an empty set for a fast test)."""
    lanes: set[str] = set()
    seen: set[CodeType] = set()
    info = getattr(item, "_fixtureinfo", None)
    definitions = info.name2fixturedefs if info is not None else {}
    for name in getattr(item, "fixturenames", ()):
        if name in FIXTURE_LANES:
            lanes.add(FIXTURE_LANES[name])
        elif definitions.get(name):
            lanes |= _code_lanes(definitions[name][-1].func, seen)
    callspec = getattr(item, "callspec", None)
    if callspec is not None and any(isinstance(value, str) and value in POSTGRES_PARAMS
                                    for value in callspec.params.values()):
        lanes.add("postgres")
    function = getattr(item, "function", None)
    if function is not None:
        lanes |= _code_lanes(function, seen)
    return lanes


HUB_GROUPS = ("hub", "hub-browser")
"""The groups of the session hub's tests: those that drive Chromium, and the others. Each
group runs on one worker, which starts a hub of its own, so the two run side by side."""


def group(item: pytest.Item) -> str:
    """The group a test runs in on pytest-xdist: one of :data:`HUB_GROUPS` for the session
    hub's tests, else its module (:mod:`tests.xdist_lanes`)."""
    names = getattr(item, "fixturenames", ())
    if "hub" in names:
        return "hub-browser" if "chromium_browser" in names else "hub"
    return item.nodeid.partition("::")[0]


def distribute(items: list[pytest.Item]) -> list[pytest.Item]:
    """The tests in the order to hand their groups out: the hub's groups, then the modules
    with heavy tests, then the rest (each in its own order)."""
    heavy = {group(item) for item in items
             if any(item.get_closest_marker(name) for name in LANES)}
    rank = {name: (0 if name in HUB_GROUPS else 1 if name in heavy else 2)
            for name in map(group, items)}
    return sorted(items, key=lambda item: rank[group(item)])
