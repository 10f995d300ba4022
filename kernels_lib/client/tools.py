"""The tool calls of ``import terralab as tl``: ``tl.run`` and ``tl.tools.<name>(...)``.

In a notebook::

    import terralab as tl
    tl.tools.list_tools()                         # names, titles, kinds
    result = tl.run("ndvi", image="S2A_MSIL2A_20250507T023551_R089_T51RTP_20250507T061010")
    result.record                                 # saved in my data as a result
    lazy = tl.run("ndvi", image=..., save=False).data     # a lazy DataArray, nothing written
    tl.tools.ndvi(image=...)                      # the same call, by attribute
    tl.tools.readiness("building_extraction")     # {"ready": False, "needs": "model", …}

Inside a terralab hub an AI tool does not run in the kernel: it runs as a job of the shared
queue that ``tl.run`` waits for (:func:`terralab.client.queue.run_queued`), so the hub
checks and charges its AI time (a kernel cannot be trusted to charge itself); its result is
then always saved in my data. Processing tools, and every tool without a hub, run in this
process (:func:`terralab.tools.run`, the runner of :mod:`terralab.tools.runner`).
"""

from __future__ import annotations

from typing import Any

from terralab.client.queue import in_hub, run_queued
from terralab.service.local import transport
from terralab.tools import default_registry, get, list_tools
from terralab.tools import run as run_here
from terralab.tools.runner import RunResult

__all__ = ["RunResult", "get", "list_tools", "readiness", "run"]


def run(name: str, /, *, save: bool = True, title: str | None = None, **params: Any) -> RunResult:
    """Run tool ``name`` with ``params`` for the current user; the result goes to my data.

    Args:
        name: a registered tool (:func:`list_tools`).
        save: save the output in my data (default); False returns the lazy output only
            (inside a hub an AI tool's result is saved all the same).
        title: the result's name in my data.
        **params: the tool's parameters (``terralab tools show NAME`` lists them).

    Raises:
        KeyError: an unknown tool. terralab.tools.ToolParameterError: bad parameters.
        terralab.queue.JobError, terralab.queue.JobFailed, terralab.quotas.QuotaExceeded:
            inside a hub, an AI tool's job refused or failed.
    """
    if get(name).info.kind == "ai" and in_hub():
        return run_queued(name, title=title, **params)
    return run_here(name, save=save, title=title, **params)


def readiness(name: str) -> dict[str, Any]:
    """Whether tool ``name`` can run here, as the platform says (``GET tools/{name}``).

    A deep tool without an installed model is not ready: running it fails until an
    administrator installs one with ``terralab models import``.

    Returns:
        ``{"ready": bool, "needs": "model" or None, "message": str or None,
        "message_zh": str or None}``.

    Raises:
        terralab.service.error_table.NotFound: an unknown tool.
    """
    answer = transport().request("tools.get", name=name)
    return {key: answer.get(key) for key in ("ready", "needs", "message", "message_zh")}


def __getattr__(name: str) -> Any:
    """``tl.tools.<tool name>(**params)``: the tool as a function (:func:`run`)."""
    registry = default_registry()
    if name in registry:
        def call(**params: Any) -> RunResult:
            return run(name, **params)

        call.__name__ = name
        call.__doc__ = f"{registry[name].info.title}: run the {name!r} tool (see tl.run)."
        return call
    raise AttributeError(f"module 'terralab.client.tools' has no attribute {name!r}")
