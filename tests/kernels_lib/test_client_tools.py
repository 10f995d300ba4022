"""``tl.run`` and ``tl.tools.<name>``: the client layer's tool calls, hub-aware.

Inside a hub an AI tool goes to the shared queue (:func:`terralab.client.queue.run_queued`)
and a processing tool runs in the kernel; without a hub every tool runs in the kernel
(:func:`terralab.tools.run`, the in-process path). The queue's own path is tested with a
real hub in tests/security/test_quota_holes.py.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

import terralab as tl
import terralab.client.tools as client_tools


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, dict[str, Any]]]:
    """Which path each run took: ``("queue"|"here", tool, arguments)``."""
    seen: list[tuple[str, str, dict[str, Any]]] = []
    monkeypatch.setattr(client_tools, "run_queued",
                        lambda name, **kw: seen.append(("queue", name, kw)) or "queued")
    monkeypatch.setattr(client_tools, "run_here",
                        lambda name, **kw: seen.append(("here", name, kw)) or "here")
    return seen


def test_tl_tools_and_tl_run_are_the_client_calls():
    assert "terralab.tools" in sys.modules  # the domain package loaded first
    assert tl.run is client_tools.run and tl.tools.run is client_tools.run
    assert tl.tools.list_tools is client_tools.list_tools
    import terralab.tools.registry as registry  # through tl.tools: still the submodule

    assert registry.__name__ == "terralab.tools.registry"
    names = [info.name for info in tl.tools.list_tools()]
    assert "index" in names and "sar_water" in names
    assert tl.tools.get("index") is sys.modules["terralab.tools"].get("index")
    index = tl.tools.index
    assert index.__name__ == "index" and "run the 'index' tool" in index.__doc__
    with pytest.raises(AttributeError, match="no_such_tool"):
        tl.tools.no_such_tool  # noqa: B018


def test_in_a_hub_ai_tools_are_queued_and_processing_tools_run_here(monkeypatch, calls):
    monkeypatch.setattr(client_tools, "in_hub", lambda: True)
    assert tl.run("sar_water", image="scene-1", title="water", save=False) == "queued"
    assert tl.tools.index(image="scene-1", index="ndvi") == "here"
    assert calls == [("queue", "sar_water", {"title": "water", "image": "scene-1"}),
                     ("here", "index", {"save": True, "title": None, "image": "scene-1",
                                        "index": "ndvi"})]


def test_without_a_hub_every_tool_runs_here(monkeypatch, calls):
    monkeypatch.setattr(client_tools, "in_hub", lambda: False)
    assert tl.run("sar_water", image="scene-1", save=False) == "here"
    assert calls == [("here", "sar_water", {"save": False, "title": None, "image": "scene-1"})]
    with pytest.raises(KeyError, match="nope"):
        tl.run("nope")
