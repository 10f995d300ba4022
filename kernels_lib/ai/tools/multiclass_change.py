"""Multi-class change detection (多类变化检测): a deep tool on the shared engine (PRODUCT.md §4).

What changed into what between two dates (from-to classes, as the model defines them). It
needs a trained model in the model registry (``terralab models list``); without one it says
so and how to install one. See :mod:`terralab.ai.deep` for how the model runs.
"""

from __future__ import annotations

from terralab.ai.deep import DeepChangeTool
from terralab.tools.base import ToolInfo

__all__ = ["MulticlassChange"]


class MulticlassChange(DeepChangeTool):
    """Multi-class change detection."""

    info = ToolInfo(
        name="multiclass_change",
        title="Multi-class change detection",
        title_zh="多类变化检测",
        description_zh="检测两个时相之间的地类变化（从何类变为何类）。",
        kind="ai",
        inputs=("raster_pair",),
        outputs=("raster", "vector"),
        resolution=(0.5, 2.0),
        gpu=True,
        description="What changed into what between two dates (from-to classes of the model).",
    )
    classes_zh = ()
