"""``publish_upload``: the heavy half of an upload (COG, overviews, statistics, thumbnail).

The hub service checks a received upload's header at once and queues this tool as a job of
kind ``publish`` (:mod:`terralab.mydata.upload_jobs`), so publishing runs on the workers,
counts in the owner's job limit, shows its progress like any job (``GET jobs/{id}``) and is
never charged to the AI-time quota. It publishes only an upload of the job's own owner that
the service handed to this job.
"""

from __future__ import annotations

from typing import Any

from terralab.tools.base import RunContext, Tool, ToolInfo, ToolOutput, ToolParams, param

__all__ = ["PublishUpload"]


class PublishUpload(Tool):
    """Publish a received upload into its owner's data."""

    info = ToolInfo(
        name="publish_upload", title="Publish an upload", title_zh="发布上传数据",
        kind="publish", inputs=("none",), outputs=("raster", "vector"), internal=True,
        description="Turns a received upload into an item of my data: a Cloud-Optimized "
                    "GeoTIFF with overviews, statistics and a thumbnail, or a GeoPackage.")

    class Params(ToolParams):
        """The upload to publish."""

        upload: str = param(help="The upload's id (from POST mydata/uploads).",
                            help_zh="上传数据的编号", min_length=1, max_length=200)

    def run(self, params: Any, context: RunContext) -> ToolOutput:
        """Publish the upload; its item is the job's result."""
        from terralab.mydata.upload_jobs import publish_received

        record = publish_received(context.user, params.upload, job_id=context.job_id,
                                  home=context.home, progress=context.progress)
        return ToolOutput(record=record, name=record.title)
