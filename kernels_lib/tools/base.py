"""What a terralab tool is: metadata, a parameter model and one method doing the work.

Every AI or processing tool is one module holding one :class:`Tool` subclass (DESIGN.md "One
tool definition drives everything"). The same definition gives the Python call
(``tl.run("ndvi", image=…)``, ``tl.tools.ndvi(image=…)``), the queued job, the REST endpoint and
the dashboard form, which is built field by field from :attr:`Tool.Params`: each field's type,
range, default, English help (``description``) and Chinese help (``help_zh``) — see
:func:`param` and :func:`raster_input`.

A tool's :meth:`Tool.run` works on lazy data (xarray + dask, GeoDataFrames) and returns a
:class:`ToolOutput`; the runner (:mod:`terralab.tools.runner`) writes it and saves it as a
result in the user's data.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ADVANCED", "INPUT", "INPUT_KINDS", "JOB_KINDS", "OUTPUT_KINDS", "RunContext",
           "Tool", "ToolInfo", "ToolOutput", "ToolParams", "param", "raster_input",
           "vector_input"]

INPUT_KINDS = ("raster", "raster_pair", "rasters", "vector", "geometry", "none")
OUTPUT_KINDS = ("raster", "vector", "animation", "file")
INPUT = "terralab:input"
"""The JSON-schema key marking a parameter as a data input (``raster``, ``rasters``, ``vector``)."""
ADVANCED = "terralab:advanced"
"""The JSON-schema key of an expert parameter: forms fold it under "Advanced" (:func:`param`)."""
JOB_KINDS = ("processing", "ai", "publish")
"""What a tool's queued job counts as: only ``ai`` jobs are charged to the AI-time quota;
``publish`` is the platform's own publishing of an upload (an internal tool)."""


class ToolParams(BaseModel):
    """Base of every tool's parameter model: unknown names are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


def param(default: Any = ..., *, help: str, help_zh: str, advanced: bool = False,
          **constraints: Any) -> Any:
    """A tool parameter with English and Chinese help (and pydantic constraints: ``ge=`` …).

    Args:
        default: the default value (``...``: required).
        help: the English help, shown next to the field.
        help_zh: the Chinese help.
        advanced: an expert setting (window sizes, chunk sizes, a threshold's method …):
            its schema says ``"terralab:advanced": true`` and the dashboard form folds it
            under "Advanced", keeping the common choices in view.
        **constraints: pydantic's ``Field`` options (``ge``, ``le``, ``pattern`` …).
    """
    extra = dict(constraints.pop("json_schema_extra", {}) or {})
    if advanced:
        extra[ADVANCED] = True
    return Field(default, description=help,
                 json_schema_extra={"help_zh": help_zh, **extra}, **constraints)


def raster_input(*, help: str, help_zh: str, default: Any = ...,
                 advanced: bool = False) -> Any:
    """A raster input: a file path, a my-data or catalog item id, or an xarray DataArray.

    See :func:`terralab.tools.inputs.open_raster` for what a reference may be. A tool whose
    input needs bands of a kind says so with :meth:`Tool.required_bands` (the form offers
    only the images that have them).
    """
    return param(default, help=help, help_zh=help_zh, advanced=advanced,
                 json_schema_extra={INPUT: "raster"})


def vector_input(*, help: str, help_zh: str, default: Any = ...,
                 advanced: bool = False) -> Any:
    """A vector input: a file path, a my-data item id, a GeoDataFrame or GeoJSON.

    The dashboard form also offers the area drawn on its map (as GeoJSON).
    """
    return param(default, help=help, help_zh=help_zh, advanced=advanced,
                 json_schema_extra={INPUT: "vector"})


@dataclass(frozen=True)
class ToolInfo:
    """What a tool is, for listings, forms and the queue.

    Attributes:
        name: the registered name (``"ndvi"``, ``"reproject"``), lower case.
        title: the English title.
        title_zh: the Chinese title.
        kind: ``"processing"`` or ``"ai"``.
        inputs: the kinds of input (:data:`INPUT_KINDS`).
        outputs: the kinds of output (:data:`OUTPUT_KINDS`).
        description: one paragraph for the user.
        description_zh: the Chinese description ("" when there is none: the English one is
            shown); its first sentence is the tool's one-line purpose on the gallery's card.
        resolution: the suggested input pixel size range in metres, or None.
        gpu: whether the tool wants a GPU (AI tools).
        version: the tool's version (workers cache models by name and version).
        internal: a tool of the platform itself (publishing an upload on the workers): the
            queue and the workers find it by name, but it is left out of every listing
            (``GET tools``, ``tl.tools``, the dashboards).
    """

    name: str
    title: str
    title_zh: str
    kind: str = "processing"
    inputs: tuple[str, ...] = ("raster",)
    outputs: tuple[str, ...] = ("raster",)
    description: str = ""
    description_zh: str = ""
    resolution: tuple[float, float] | None = None
    gpu: bool = False
    version: str = "1"
    internal: bool = False

    def __post_init__(self) -> None:
        if not self.name or self.name != self.name.lower() or not self.name.replace(
                "_", "").isalnum():
            raise ValueError(f"a tool name is lower-case letters, digits and _: {self.name!r}")
        if self.kind not in JOB_KINDS:
            raise ValueError(f"tool kind is one of {', '.join(JOB_KINDS)}, not {self.kind!r}")
        if self.kind == "publish" and not self.internal:
            raise ValueError("only internal tools publish uploads (kind 'publish')")
        for kind in self.inputs:
            if kind not in INPUT_KINDS:
                raise ValueError(f"unknown input kind {kind!r}; known: {INPUT_KINDS}")
        for kind in self.outputs:
            if kind not in OUTPUT_KINDS:
                raise ValueError(f"unknown output kind {kind!r}; known: {OUTPUT_KINDS}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready metadata."""
        return {"name": self.name, "title": self.title, "title_zh": self.title_zh,
                "kind": self.kind, "inputs": list(self.inputs), "outputs": list(self.outputs),
                "description": self.description, "description_zh": self.description_zh,
                "resolution": list(self.resolution) if self.resolution else None,
                "gpu": self.gpu, "version": self.version}


@dataclass
class RunContext:
    """What a running tool may use besides its parameters.

    Attributes:
        user: the user the tool runs for (inputs are resolved with their rights).
        home: the terralab data folder.
        scratch: a private temporary folder, removed after the run.
        progress: ``progress(percent, message)``, reported into the job.
        restricted: file inputs must stay inside the user's folder (a shared worker).
        job_id: the queued job this run is (None for ``tl.run``).
        models: the worker's model cache (:class:`terralab.ai.model_cache.ModelCache`),
            which keeps loaded models warm between jobs; None outside a worker.
        device: where models run (a worker's: ``"cuda"`` when it has a GPU, else
            ``"cpu"``); None when the caller did not choose: a tool that runs a model picks
            one (:func:`terralab.ai.model_cache.pick_device`).
    """

    user: str
    home: Path
    scratch: Path
    progress: Callable[[float, str], None] = field(default=lambda percent, message: None)
    restricted: bool = False
    job_id: str | None = None
    models: Any = None
    device: str | None = None

    def model(self, tool: str, version: str, loader: Callable[[str], Any]) -> Any:
        """Return the model ``(tool, version)``, loaded once per worker with ``loader(device)``.

        Outside a worker (no cache) the model is loaded for this run only.
        """
        if self.models is None:
            return loader(self.device)
        return self.models.get(tool, version, loader)

    def open_raster(self, ref: Any, **options: Any) -> Any:
        """Open a raster input lazily with this user's rights (``inputs.open_raster``)."""
        from terralab.tools.inputs import open_raster

        return open_raster(ref, user=self.user, home=self.home, restricted=self.restricted,
                           **options)

    def open_bands(self, ref: Any, names: list[str], **options: Any) -> Any:
        """Open bands of an input by common name, physically (``inputs.open_bands``)."""
        from terralab.tools.inputs import open_bands

        return open_bands(ref, names, user=self.user, home=self.home,
                          restricted=self.restricted, **options)

    def open_vector(self, ref: Any) -> Any:
        """Open a vector input with this user's rights (``inputs.open_vector``)."""
        from terralab.tools.inputs import open_vector

        return open_vector(ref, user=self.user, home=self.home, restricted=self.restricted)


@dataclass
class ToolOutput:
    """What a tool produced (exactly one of ``raster``, ``vector``, ``file``).

    Attributes:
        raster: a lazy DataArray (``band, y, x`` or ``y, x``) with a CRS; written as a COG.
        vector: a GeoDataFrame; written as a GeoPackage.
        file: a file the tool wrote itself (an animation …) in the scratch folder.
        name: the result's file stem (``"ndvi"``).
        band_names: names of the raster's bands.
        nodata: the raster's nodata value.
        extra: notes for the user (area change, thresholds used …).
        follow: more outputs made from this one once it is written, e.g. the polygons of an
            extraction tool's mask: ``follow(path_of_the_written_file) -> [ToolOutput, …]``;
            each is saved as a result of its own.
        record: an item the tool saved in my data itself (the internal ``publish_upload``
            tool publishes an upload); the runner saves nothing more and answers it.
    """

    raster: Any = None
    vector: Any = None
    file: Path | None = None
    name: str = "result"
    band_names: tuple[str, ...] | None = None
    nodata: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    follow: Callable[[Path], list[ToolOutput]] | None = field(default=None, repr=False)
    record: Any = None

    def __post_init__(self) -> None:
        given = [x is not None for x in (self.raster, self.vector, self.file, self.record)]
        if sum(given) != 1:
            raise ValueError("a ToolOutput holds exactly one of raster, vector, file, record")


class Tool(ABC):
    """A terralab tool: subclass it in a module of its own, set ``info`` and ``Params``.

    Example::

        class Ndvi(Tool):
            info = ToolInfo(name="ndvi", title="NDVI", title_zh="归一化植被指数")

            class Params(ToolParams):
                image: Any = raster_input(help="Image", help_zh="影像")

            def run(self, params, context):
                ...
                return ToolOutput(raster=ndvi, name="ndvi")
    """

    info: ClassVar[ToolInfo]
    Params: ClassVar[type[ToolParams]]
    needs_model: ClassVar[bool] = False
    """A deep tool that runs an installed model (``terralab models import``): without one it
    is not ready (:func:`terralab.ai.readiness.tool_readiness`) and its form has no Run."""

    @classmethod
    def required_bands(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        """The bands (common names) an image input needs with ``params``; () when any will do.

        An entry ``"vv|vh"`` is satisfied by either band. The dashboard form offers only
        the images whose known bands fit (an image whose bands are unknown is offered).

        Args:
            params: the parameters chosen so far (possibly incomplete).
        """
        return ()

    @abstractmethod
    def run(self, params: Any, context: RunContext) -> ToolOutput:
        """Do the work on lazy data and return what was made."""

    @classmethod
    def schema(cls) -> dict[str, Any]:
        """The JSON schema of the parameters (for REST clients and dashboard forms)."""
        return cls.Params.model_json_schema()
