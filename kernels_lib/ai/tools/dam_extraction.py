"""Dam extraction (水坝提取): a deep tool on the shared engine (PRODUCT.md §4).

Dams and reservoir embankments as a mask and polygons. It needs a trained model in the model
registry (``terralab models list``); without one it says so and how to install one. See
:mod:`terralab.ai.deep` for how the model runs.
"""

from __future__ import annotations

from terralab.ai.deep import DeepImageTool
from terralab.tools.base import ToolInfo

__all__ = ["DamExtraction"]


class DamExtraction(DeepImageTool):
    """Dam extraction."""

    info = ToolInfo(
        name="dam_extraction",
        title="Dam extraction",
        title_zh="水坝提取",
        description_zh="提取水坝和水库堤坝（掩膜和多边形）。",
        kind="ai",
        inputs=("raster",),
        outputs=("raster", "vector"),
        resolution=(0.5, 2.0),
        gpu=True,
        description="Dams and reservoir embankments as a mask and polygons.",
    )
    classes_zh = ("背景", "水坝")
