"""terralab's tools: one registry for every AI and processing tool (DESIGN.md).

In a notebook::

    import terralab as tl
    tl.tools.list_tools()                         # names, titles, kinds
    result = tl.run("ndvi", image="deqing-s2-20240601")
    result.record                                 # saved in my data as a result
    lazy = tl.run("ndvi", image=..., save=False).data     # a lazy DataArray, nothing written
    tl.tools.ndvi(image=...)                      # the same call, by attribute

From a shell: ``terralab tools list`` and ``terralab run ndvi --param image=…``. A tool is one
module holding one :class:`Tool` subclass (:mod:`terralab.tools.base`); plug-ins register
through the ``terralab.tools`` entry point group.
"""

from __future__ import annotations

from typing import Any

from terralab.tools.base import (
    RunContext,
    Tool,
    ToolInfo,
    ToolOutput,
    ToolParams,
    param,
    raster_input,
    vector_input,
)
from terralab.tools.inputs import InputError
from terralab.tools.registry import ToolRegistry, default_registry
from terralab.tools.runner import RunResult, ToolParameterError

__all__ = ["InputError", "RunContext", "RunResult", "Tool", "ToolInfo", "ToolOutput",
           "ToolParameterError", "ToolParams", "ToolRegistry", "get", "list_tools", "param",
           "raster_input", "run", "vector_input"]


def get(name: str) -> type[Tool]:
    """Return the registered tool ``name``.

    Raises:
        KeyError: naming the known tools.
    """
    return default_registry()[name]


def list_tools(kind: str | None = None) -> list[ToolInfo]:
    """Return the registered tools' metadata, by name (``kind``: processing or ai)."""
    registry = default_registry()
    infos = [registry[name].info for name in registry]
    return [info for info in infos if kind is None or info.kind == kind]


def run(name: str, /, *, save: bool = True, title: str | None = None, **params: Any) -> RunResult:
    """Run tool ``name`` with ``params`` for the current user; the result goes to my data.

    Inside a terralab hub an AI tool does not run in this process: it runs as a job of the
    shared queue that this call waits for (:func:`terralab.client.queue.run_queued`), so the hub
    checks and charges its AI time (a kernel cannot be trusted to charge itself); its result
    is then always saved in my data. Processing tools, and every tool without a hub, run
    here.

    Args:
        name: a registered tool (:func:`list_tools`).
        save: save the output in my data (default); False returns the lazy output only.
        title: the result's name in my data.
        **params: the tool's parameters (``terralab tools show NAME`` lists them).
    """
    from terralab.client.queue import in_hub, run_queued
    from terralab.identity import current_user
    from terralab.tools.runner import run_tool

    if get(name).info.kind == "ai" and in_hub():
        return run_queued(name, title=title, **params)
    return run_tool(name, user=current_user(), save=save, title=title, **params)


def __getattr__(name: str) -> Any:
    """``tl.tools.<tool name>(**params)``: the tool as a function."""
    registry = default_registry()
    if name in registry:
        def call(**params: Any) -> RunResult:
            return run(name, **params)

        call.__name__ = name
        call.__doc__ = f"{registry[name].info.title}: run the {name!r} tool (see tl.run)."
        return call
    raise AttributeError(f"module 'terralab.tools' has no attribute {name!r}")
