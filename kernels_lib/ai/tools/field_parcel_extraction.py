"""Farm field parcel extraction (耕地地块提取): a deep tool on the shared engine (PRODUCT.md §4).

Farm field parcels from a high-resolution image (mask and parcel polygons). It needs a
trained model in the model registry (``terralab models list``); without one it says so and
how to install one. See :mod:`terralab.ai.deep` for how the model runs.
"""

from __future__ import annotations

from terralab.ai.deep import DeepImageTool
from terralab.tools.base import ToolInfo

__all__ = ["FieldParcelExtraction"]


class FieldParcelExtraction(DeepImageTool):
    """Farm field parcel extraction."""

    info = ToolInfo(
        name="field_parcel_extraction",
        title="Farm field parcel extraction",
        title_zh="耕地地块提取",
        description_zh="从高分辨率影像中提取耕地地块（掩膜和地块多边形）。",
        kind="ai",
        inputs=("raster",),
        outputs=("raster", "vector"),
        resolution=(0.01, 1.0),
        gpu=True,
        description="Farm field parcels from a high-resolution image (mask and parcel polygons).",
    )
    classes_zh = ("背景", "地块")
