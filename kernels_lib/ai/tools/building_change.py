"""Building change detection (建筑物变化检测): a deep tool on the shared engine (PRODUCT.md §4).

New, rebuilt and demolished buildings between two dates. It needs a trained model in the
model registry (``terralab models list``); without one it says so and how to install one.
See :mod:`terralab.ai.deep` for how the model runs.
"""

from __future__ import annotations

from terralab.ai.deep import DeepChangeTool
from terralab.tools.base import ToolInfo

__all__ = ["BuildingChange"]


class BuildingChange(DeepChangeTool):
    """Building change detection."""

    info = ToolInfo(
        name="building_change",
        title="Building change detection",
        title_zh="建筑物变化检测",
        description_zh="检测两个时相之间新建、改建和拆除的建筑物。",
        kind="ai",
        inputs=("raster_pair",),
        outputs=("raster", "vector"),
        resolution=(0.01, 2.0),
        gpu=True,
        description="New, rebuilt and demolished buildings between two dates.",
    )
    classes_zh = ("未变化", "新建", "改建", "拆除")
