"""A tool installed as a real plug-in into the tests' hub (entry point ``terralab.tools``).

The session hub (``tests/conftest.py``) starts with :func:`plugin_site` on ``PYTHONPATH``, so
its service, its workers and its users' servers find this tool like any plug-in, and the
no-code lab gives it a page with no notebook of its own (``tests/browser/test_tool_pages.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from terralab.tools.base import (
    RunContext,
    Tool,
    ToolInfo,
    ToolOutput,
    ToolParams,
    param,
    raster_input,
)

__all__ = ["PLUGIN_TOOL", "PageBrightness", "plugin_site"]

PLUGIN_TOOL = "test_page_brightness"


class PageBrightness(Tool):
    """A processing tool from a plug-in: the image's first band times a factor."""

    info = ToolInfo(name=PLUGIN_TOOL, title="Brightness (plug-in)", title_zh="亮度（插件）",
                    description="The first band of an image times a factor.",
                    resolution=(0.5, 30.0))

    class Params(ToolParams):
        image: Any = raster_input(help="Image", help_zh="影像")
        factor: float = param(1.5, help="Factor", help_zh="倍数", ge=0.1, le=10)

    def run(self, params: Any, context: RunContext) -> ToolOutput:
        data = context.open_raster(params.image)
        return ToolOutput(raster=(data.isel(band=[0]) * params.factor).astype("float32"),
                          name="brightness")


def plugin_site(folder: Path) -> Path:
    """Write the plug-in's ``.dist-info`` into ``folder`` and return ``folder``."""
    info = folder / "terralab_page_plugin-1.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: terralab-page-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        f"[terralab.tools]\n{PLUGIN_TOOL} = tests.browser.page_plugin:PageBrightness\n")
    return folder
