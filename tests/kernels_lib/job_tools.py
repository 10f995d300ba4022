"""Tools for the queue tests, installed as a real plug-in (entry point ``terralab.tools``).

``plugin_site(folder)`` writes a ``.dist-info`` naming them into ``folder``; with ``folder``
on ``sys.path`` (and ``PYTHONPATH`` for worker processes) the registry finds them like any
plug-in.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import rioxarray  # noqa: F401 (the .rio accessor)
import xarray as xr
from rasterio.transform import from_origin

from terralab.tools.base import RunContext, Tool, ToolInfo, ToolOutput, ToolParams, param

MODEL_LOADS = "model-loads.txt"


def _raster(value: float, size: int) -> xr.DataArray:
    data = xr.DataArray(np.full((1, size, size), value, dtype="float32"), dims=("band", "y", "x"),
                        coords={"band": [1], "y": 4_000_000 - 10.0 * np.arange(size) - 5,
                                "x": 500_000 + 10.0 * np.arange(size) + 5})
    return data.rio.write_crs("EPSG:32650").rio.write_transform(
        from_origin(500_000, 4_000_000, 10, 10))


class SleepyAI(Tool):
    """An "AI" tool that runs for ``seconds``, reporting progress, with a warm model."""

    info = ToolInfo(name="test_sleepy_ai", title="Sleepy AI", title_zh="测试", kind="ai",
                    gpu=True)

    class Params(ToolParams):
        seconds: float = param(1.0, help="run time", help_zh="运行时间", ge=0)
        value: float = param(1.0, help="pixel value", help_zh="像元值")
        report: bool = param(True, help="report progress", help_zh="报告进度")

    def run(self, params: Any, context: RunContext) -> ToolOutput:
        def load(device: str) -> dict[str, str]:
            with (context.home / MODEL_LOADS).open("a") as handle:
                handle.write(f"{device}\n")
            return {"device": device}

        context.model(self.info.name, self.info.version, load)
        end = time.monotonic() + params.seconds
        while time.monotonic() < end:
            time.sleep(0.05)
            if params.report:
                left = end - time.monotonic()
                context.progress(70 * (1 - left / max(params.seconds, 1e-9)), "thinking")
        return ToolOutput(raster=_raster(params.value, 32), name="sleepy")


class QuickFill(Tool):
    """A processing tool that writes a small constant raster at once."""

    info = ToolInfo(name="test_quick_fill", title="Quick fill", title_zh="测试填充")

    class Params(ToolParams):
        value: float = param(1.0, help="pixel value", help_zh="像元值")
        fail: bool = param(False, help="fail on purpose", help_zh="故意失败")

    def run(self, params: Any, context: RunContext) -> ToolOutput:
        if params.fail:
            raise ValueError("failing as asked")
        return ToolOutput(raster=_raster(params.value, 16), name="fill")


def plugin_site(folder: Path) -> Path:
    """Write the plug-in's ``.dist-info`` into ``folder`` and return ``folder``."""
    info = folder / "terralab_job_test_tools-1.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: terralab-job-test-tools\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[terralab.tools]\n"
        "test_sleepy_ai = tests.kernels_lib.job_tools:SleepyAI\n"
        "test_quick_fill = tests.kernels_lib.job_tools:QuickFill\n")
    return folder
