"""PV power plant extraction (光伏电站提取): a deep tool on the shared engine (PRODUCT.md §4).

Solar (photovoltaic) power plants: panel arrays as a mask and polygons. It needs a trained
model in the model registry (``terralab models list``); without one it says so and how to
install one. See :mod:`terralab.ai.deep` for how the model runs.
"""

from __future__ import annotations

from terralab.ai.deep import DeepImageTool
from terralab.tools.base import ToolInfo

__all__ = ["PvExtraction"]


class PvExtraction(DeepImageTool):
    """PV power plant extraction."""

    info = ToolInfo(
        name="pv_extraction",
        title="PV power plant extraction",
        title_zh="光伏电站提取",
        description_zh="提取光伏电站（光伏板阵列）的掩膜和多边形。",
        kind="ai",
        inputs=("raster",),
        outputs=("raster", "vector"),
        resolution=(0.5, 2.0),
        gpu=True,
        description="Solar (photovoltaic) power plants: panel arrays as a mask and polygons.",
    )
    classes_zh = ("背景", "光伏")
