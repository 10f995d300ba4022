"""Building extraction (建筑物提取): a deep tool on the shared engine (PRODUCT.md §4).

Outlines of buildings from a high-resolution image (mask and polygons). It needs a trained
model in the model registry (``terralab models list``); without one it says so and how to
install one. See :mod:`terralab.ai.deep` for how the model runs.
"""

from __future__ import annotations

from terralab.ai.deep import DeepImageTool
from terralab.tools.base import ToolInfo

__all__ = ["BuildingExtraction"]


class BuildingExtraction(DeepImageTool):
    """Building extraction."""

    info = ToolInfo(
        name="building_extraction",
        title="Building extraction",
        title_zh="建筑物提取",
        description_zh="从高分辨率影像中提取建筑物轮廓（掩膜和多边形）。",
        kind="ai",
        inputs=("raster",),
        outputs=("raster", "vector"),
        resolution=(0.01, 2.0),
        gpu=True,
        description="Outlines of buildings from a high-resolution image (mask and polygons).",
    )
    classes_zh = ("背景", "建筑物")
