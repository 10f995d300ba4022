"""Greenhouse extraction (大棚提取): a deep tool on the shared engine (PRODUCT.md §4).

Agricultural greenhouses (plastic and glass) as a mask and polygons. It needs a trained
model in the model registry (``terralab models list``); without one it says so and how to
install one. See :mod:`terralab.ai.deep` for how the model runs.
"""

from __future__ import annotations

from terralab.ai.deep import DeepImageTool
from terralab.tools.base import ToolInfo

__all__ = ["GreenhouseExtraction"]


class GreenhouseExtraction(DeepImageTool):
    """Greenhouse extraction."""

    info = ToolInfo(
        name="greenhouse_extraction",
        title="Greenhouse extraction",
        title_zh="大棚提取",
        description_zh="提取农业大棚（塑料和玻璃温室）的掩膜和多边形。",
        kind="ai",
        inputs=("raster",),
        outputs=("raster", "vector"),
        resolution=(0.01, 2.0),
        gpu=True,
        description="Agricultural greenhouses (plastic and glass) as a mask and polygons.",
    )
    classes_zh = ("背景", "大棚")
