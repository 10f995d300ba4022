"""Cropland change detection (耕地变化检测): a deep tool on the shared engine (PRODUCT.md §4).

Cropland lost and gained between two dates. It needs a trained model in the model registry
(``terralab models list``); without one it says so and how to install one. See
:mod:`terralab.ai.deep` for how the model runs.
"""

from __future__ import annotations

from terralab.ai.deep import DeepChangeTool
from terralab.tools.base import ToolInfo

__all__ = ["CroplandChange"]


class CroplandChange(DeepChangeTool):
    """Cropland change detection."""

    info = ToolInfo(
        name="cropland_change",
        title="Cropland change detection",
        title_zh="耕地变化检测",
        description_zh="检测两个时相之间耕地的减少和增加。",
        kind="ai",
        inputs=("raster_pair",),
        outputs=("raster", "vector"),
        resolution=(0.5, 2.0),
        gpu=True,
        description="Cropland lost and gained between two dates.",
    )
    classes_zh = ("未变化", "耕地减少", "耕地增加")
