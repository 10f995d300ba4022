"""Running a tool: validate the parameters, run it, write the output, save it in my data.

``tl.run(name, **params)`` is the in-process transport; the queued job (issue 6) runs the same
:func:`run_tool` in a worker, with ``restricted=True`` so that file inputs stay inside the
user's folder.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from terralab.home import terralab_home
from terralab.tools.base import RunContext, ToolOutput
from terralab.tools.outputs import write_output
from terralab.tools.registry import default_registry

__all__ = ["RunResult", "ToolParameterError", "run_tool", "validate_params"]


class ToolParameterError(ValueError):
    """Parameters a tool does not accept; the message lists each problem."""


@dataclass
class RunResult:
    """What a run made.

    Attributes:
        tool: the tool name.
        params: the validated parameters (as given, JSON-ready where possible).
        output: the tool's output (a lazy DataArray, a GeoDataFrame or a file).
        record: the result saved in the user's data (None with ``save=False``).
        extra: the tool's notes for the user.
        records: every result saved: ``record`` first, then those of ``output.follow``
            (an extraction tool's polygons).
    """

    tool: str
    params: dict[str, Any]
    output: ToolOutput
    record: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    records: list[Any] = field(default_factory=list)

    @property
    def data(self) -> Any:
        """The lazy raster or the GeoDataFrame made (the file path for a file output)."""
        out = self.output
        return out.raster if out.raster is not None else (
            out.vector if out.vector is not None else out.file)

    @property
    def path(self) -> Path | None:
        """The saved result's data file."""
        if self.record is None:
            return None
        return Path(self.record.item["assets"]["data"]["href"])


def validate_params(name: str, params: dict[str, Any]) -> Any:
    """Return the tool's validated parameter model.

    Raises:
        KeyError: for an unknown tool (the message lists the tools).
        ToolParameterError: for parameters the tool does not accept.
    """
    tool = default_registry()[name]
    try:
        return tool.Params.model_validate(params)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'parameters'}: {e['msg']}"
            for e in error.errors())
        raise ToolParameterError(f"{name}: {problems}") from None


def run_tool(name: str, /, *, user: str, home: Path | None = None, save: bool = True,
             title: str | None = None, restricted: bool = False,
             progress: Callable[[float, str], None] | None = None,
             result_id: str | None = None, context: dict[str, Any] | None = None,
             **params: Any) -> RunResult:
    """Run the registered tool ``name`` for ``user``.

    Args:
        name: the tool (``terralab tools list``).
        user: whose rights resolve inputs and whose data receives the result.
        home: the terralab data folder.
        save: write the output and save it as a result in the user's data; with False the
            lazy output is returned and nothing is written.
        title: the result's name in my data (default: the tool and its input).
        restricted: file inputs must stay inside the user's folder (shared workers).
        progress: ``progress(percent, message)``.
        result_id: the id of the result in my data (a queued job's, so that a retry
            replaces it); default a new one.
        context: more fields of the :class:`RunContext` (a worker's ``job_id``, ``models``,
            ``device``); without ``device`` an AI tool picks its own (CUDA when torch sees a
            GPU, :func:`terralab.ai.model_cache.pick_device`).
        **params: the tool's parameters.

    Raises:
        KeyError: unknown tool. ToolParameterError: bad parameters. Other errors: the tool's.
    """
    home = home or terralab_home()
    model = validate_params(name, params)
    tool = default_registry()[name]()
    scratch = home / "staging" / f"run-{user}-{uuid.uuid4().hex[:12]}"
    scratch.mkdir(parents=True, mode=0o700)
    report = progress or (lambda percent, message: None)
    run_context = RunContext(user=user, home=home, scratch=scratch, progress=report,
                             restricted=restricted, **(context or {}))
    keep = False
    try:
        output = tool.run(model, run_context)
        records: list[Any] = []
        if output.record is not None:  # the tool saved its item itself (publish_upload)
            records.append(output.record)
        elif save:
            named = title or _title(name, params)
            report(80, "writing the result")
            records.append(_save(output, name, named, user, home, scratch, report, result_id))
            if output.follow is not None:
                report(96, "making the derived results")
                path = Path(records[0].item["assets"]["data"]["href"])
                for number, more in enumerate(output.follow(path), start=1):
                    rid = f"{result_id}-{number}" if result_id else None
                    records.append(_save(more, name, f"{named} ({more.name})", user, home,
                                         scratch, None, rid))
            report(100, "saved in my data")
        keep = not save and output.file is not None  # the caller reads the file
        return RunResult(tool=name, params=model.model_dump(mode="python"), output=output,
                         record=records[0] if records else None, extra=dict(output.extra),
                         records=records)
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)


def _save(output: ToolOutput, tool: str, title: str, user: str, home: Path, scratch: Path,
          report: Callable[[float, str], None] | None, result_id: str | None) -> Any:
    """Write one output (block by block, progress 80…95 %) and publish it into my data."""
    from terralab.mydata.media import MEDIA_TYPES, publish_media
    from terralab.mydata.results import publish_result

    folder = scratch / f"out-{uuid.uuid4().hex[:6]}"
    path = write_output(output, folder, progress=None if report is None else
                        (lambda done: report(80 + 15 * done, "writing the result")))
    if path.suffix.lower() in MEDIA_TYPES:  # an animation: GIF or MP4
        return publish_media(user, path, tool=tool, title=title,
                             footprint=output.extra.get("footprint"), home=home,
                             item_id=result_id)
    return publish_result(user, path, tool=tool, title=title,
                          bands=list(output.band_names) if output.band_names else None,
                          home=home, move=path.is_relative_to(scratch), item_id=result_id)


def _title(name: str, params: dict[str, Any]) -> str:
    """``index of field.tif`` from the tool's (first) input."""
    for key in ("image", "images", "layer", "area", "before"):
        value = params.get(key)
        if isinstance(value, list | tuple) and value:
            value = value[0]
            more = f" and {len(params[key]) - 1} more" if len(params[key]) > 1 else ""
        else:
            more = ""
        if isinstance(value, str | Path) and value:
            return f"{name} of {Path(str(value)).name}{more}"
    return name
