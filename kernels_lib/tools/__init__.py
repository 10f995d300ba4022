"""terralab's tools: one registry for every AI and processing tool (DESIGN.md).

In a notebook ``tl.run("ndvi", image=…)``, ``tl.tools.list_tools()`` and
``tl.tools.ndvi(image=…)`` are the client layer's calls (:mod:`terralab.client.tools`),
which send an AI tool inside a hub to the shared queue; :func:`run` here is the in-process
path they take otherwise (and what a script without a hub may call directly).

From a shell: ``terralab tools list`` and ``terralab run ndvi --param image=…``. A tool is one
module holding one :class:`Tool` subclass (:mod:`terralab.tools.base`); plug-ins register
through the ``terralab.tools`` entry point group.
"""

from __future__ import annotations

from typing import Any

from terralab.identity import current_user
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
from terralab.tools.runner import RunResult, ToolParameterError, run_tool

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
    """Run tool ``name`` with ``params`` in this process for the current user.

    The result goes to the user's data under the local ``TERRALAB_HOME``. Notebooks call
    ``tl.run`` (:func:`terralab.client.tools.run`), which inside a hub sends AI tools to
    the shared queue instead.

    Args:
        name: a registered tool (:func:`list_tools`).
        save: save the output in my data (default); False returns the lazy output only.
        title: the result's name in my data.
        **params: the tool's parameters (``terralab tools show NAME`` lists them).
    """
    return run_tool(name, user=current_user(), save=save, title=title, **params)
