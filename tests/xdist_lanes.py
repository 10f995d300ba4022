"""Spreading the suite over pytest-xdist workers by group (``--dist loadgroup``).

A group goes to one worker as a whole: the tests that use the session's hub form two groups,
those driving Chromium and the others (each worker that takes one starts one hub for all of
its tests, and the two run side by side), every other module is a group of its own (so its
module-scoped fixtures, a Jupyter server, a gateway, a demo region, are made once).

pytest-xdist's own ``loadgroup`` reads groups from a suffix it writes into each test's node
id, which pytest 9.2 no longer lets a plugin change; so the workers, which collect the tests,
write each test's group into a file the controller names (``pytest_configure_node``), and the
controller's scheduler (:class:`LaneScheduling`) reads them from there. The groups are handed
out in the order the workers collected them: :func:`tests.lanes.distribute` puts the hub's
groups and the modules with heavy tests first, so that no long module runs alone at the end.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

__all__ = ["LaneScheduling", "XdistLanes", "write_groups"]

GROUPS_KEY = "terralab_test_groups"


def write_groups(config: pytest.Config, groups: dict[str, str]) -> None:
    """On a worker: write the group of each collected test where the controller reads it."""
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if not workerinput or GROUPS_KEY not in workerinput:
        return
    target = Path(workerinput[GROUPS_KEY]) / f"{workerinput['workerid']}.json"
    partial = target.with_suffix(".part")
    partial.write_text(json.dumps(groups))
    partial.replace(target)


class LaneScheduling(LoadScopeScheduling):
    """xdist's scope scheduling with the groups the workers wrote (module by default)."""

    def __init__(self, config: pytest.Config, folder: Path, log: Any = None) -> None:
        super().__init__(config, log)
        self._folder = folder
        self._groups: dict[str, str] | None = None

    def _split_scope(self, nodeid: str) -> str:
        if self._groups is None:
            self._groups = {}
            for path in sorted(self._folder.glob("*.json")):
                self._groups.update(json.loads(path.read_text()))
        return self._groups.get(nodeid) or nodeid.partition("::")[0]


class XdistLanes:
    """The controller's side: a folder for the workers' groups and the scheduler reading it."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="terralab-test-groups-"))

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[GROUPS_KEY] = str(self.folder)

    @pytest.hookimpl(tryfirst=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        if config.getoption("dist") == "loadgroup":
            return LaneScheduling(config, self.folder, log.loadgroupsched)
        return None

    def pytest_unconfigure(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
