"""Whether a tool can run here: a deep tool needs an installed model.

One function decides, :func:`tool_readiness`, and every place that shows a tool says the
same: ``GET tools`` and ``GET tools/{name}`` (``"ready"``, ``"needs"``, ``"message"``,
``"message_zh"``), ``terralab tools list``, ``tl.tools.readiness(name)`` and the dashboard's
tool form, which shows the message instead of a Run button.

A tool is *not ready* when it declares ``needs_model`` (the deep tools of
:mod:`terralab.ai.deep`) and the model registry (:mod:`terralab.ai.models`) holds no
usable model for it: no folder ``models/<tool>/<version>/`` with a valid card and its
weights file. Running such a tool anyway still fails with
:class:`~terralab.ai.models.ModelNotInstalled`, which says how to install one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from terralab.ai.models import list_models
from terralab.tools.base import Tool
from terralab.tools.registry import default_registry

__all__ = ["NEEDS_MODEL", "NEEDS_MODEL_MESSAGE", "NEEDS_MODEL_MESSAGE_ZH", "READY", "Readiness",
           "tool_readiness"]

NEEDS_MODEL = "model"
"""The ``needs`` of a deep tool without an installed model."""

NEEDS_MODEL_MESSAGE = ("needs a model: an administrator installs one with "
                       "`terralab models import`")
NEEDS_MODEL_MESSAGE_ZH = "需要模型：请管理员使用 `terralab models import` 安装模型"


@dataclass(frozen=True)
class Readiness:
    """Whether a tool can run, and if not, what it needs.

    Attributes:
        ready: True when a run can start.
        needs: what is missing (:data:`NEEDS_MODEL`), or None.
        message: the English explanation for the user, or None when ready.
        message_zh: the Chinese explanation, or None when ready.
    """

    ready: bool
    needs: str | None = None
    message: str | None = None
    message_zh: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"ready", "needs", "message", "message_zh"}``."""
        return {"ready": self.ready, "needs": self.needs, "message": self.message,
                "message_zh": self.message_zh}


READY = Readiness(True)
"""What a tool that can run answers."""


def _has_model(name: str, home: Path | None) -> bool:
    return any(model.weights_path.is_file() for model in list_models(name, home=home))


def tool_readiness(tool: type[Tool] | str, *, home: Path | None = None) -> Readiness:
    """Whether ``tool`` can run with what is installed under ``home``.

    Args:
        tool: a tool class, or a registered tool's name.
        home: the terralab data folder (default: ``TERRALAB_HOME``).

    Raises:
        KeyError: for an unknown tool name (the message lists the tools).
    """
    cls = default_registry()[tool] if isinstance(tool, str) else tool
    if not getattr(cls, "needs_model", False) or _has_model(cls.info.name, home):
        return READY
    return Readiness(False, NEEDS_MODEL, NEEDS_MODEL_MESSAGE, NEEDS_MODEL_MESSAGE_ZH)
