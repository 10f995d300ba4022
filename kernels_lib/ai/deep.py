"""The deep-learning AI tools: one engine run of an installed segmentation model.

A deep tool names its classes and its inputs (one image, or two dates); everything else is
shared here: the newest installed model of the tool (or the pinned ``model_version``) is
found in the model registry (:mod:`terralab.ai.models`; a clear "no model installed" error
otherwise), the input bands are picked by the model card's common names, normalised as the
card says, and run through :func:`terralab.ai.engine.predict` — overlapping windows blended,
batches on the worker's device (CUDA with mixed precision when present), the model kept
warm in the worker between jobs. The output has two bands: the class (``uint8``, 0 = no
data) and the confidence in percent; extraction tools add polygons (class, area,
confidence), optionally smoothed by the polygon optimisation.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import xarray as xr

from terralab.ai.checks import resolution_warning, two_dates
from terralab.ai.engine import predict
from terralab.ai.model_cache import pick_device
from terralab.ai.polygons import polygons_follow
from terralab.tools.base import RunContext, Tool, ToolOutput, ToolParams, param, raster_input
from terralab.tools.inputs import InputError

__all__ = ["DeepChangeTool", "DeepImageTool", "torch_predictor"]


def torch_predictor(network: Any, device: str) -> Any:
    """A numpy → numpy softmax predictor of a torch network for the engine (thread-safe)."""
    import torch

    lock = threading.Lock()
    autocast = device.startswith("cuda")

    def run(batch: np.ndarray) -> np.ndarray:
        with lock, torch.inference_mode():
            tensor = torch.from_numpy(np.ascontiguousarray(batch)).to(device)
            with torch.autocast("cuda", enabled=autocast):
                scores = network(tensor)
            return torch.softmax(scores.float(), dim=1).cpu().numpy()

    return run


def _model_bands(ref: Any, names: list[str], context: RunContext,
                 notes: dict[str, Any]) -> xr.DataArray:
    """The bands the model card names, by common name.

    A file without band names gives its first bands in the card's order (said in the notes).
    """
    try:
        return context.open_bands(ref, names)
    except InputError as error:
        data = context.open_raster(ref)
        if data.sizes["band"] < len(names) or "no band named" not in str(error):
            raise InputError(f"the model takes {len(names)} bands ({', '.join(names)}): "
                             f"{error}") from None
        notes["bands"] = (f"the image does not name its bands: its first {len(names)} were "
                          f"taken as {', '.join(names)}")
        return data.isel(band=slice(0, len(names)))


class _DeepParams(ToolParams):
    model_version: str | None = param(None, help="Model version (default: the newest)",
                                      help_zh="模型版本（默认最新）", advanced=True)
    batch_size: int = param(8, help="Windows per batch on the device",
                            help_zh="每批处理的窗口数", ge=1, le=256, advanced=True)
    polygons: bool = param(True, help="Also make polygons", help_zh="同时生成矢量面")
    min_area_m2: float = param(0.0, help="Smallest polygon kept (m²)",
                               help_zh="保留的最小面积（平方米）", ge=0)
    smooth: bool = param(False, help="Smooth and simplify the polygons",
                         help_zh="平滑并简化矢量面")


class _Base(Tool):
    """Shared run of the deep tools (abstract: subclasses set ``info`` and ``Params``)."""

    classes_zh: ClassVar[tuple[str, ...]] = ()
    extraction: ClassVar[bool] = True
    needs_model: ClassVar[bool] = True  # not ready until a model is imported

    def _model(self, params: Any, context: RunContext) -> tuple[Any, Any]:
        from terralab.ai.models import build_model, find_model

        installed = find_model(self.info.name, params.model_version, home=context.home)
        card = installed.card
        if context.device is None:  # a kernel: its GPU when it has one
            context = replace(context, device=pick_device())
        network = context.model(self.info.name, card.version,
                                lambda device: build_model(installed, device))
        return card, torch_predictor(network, context.device)

    def _run(self, data: xr.DataArray, card: Any, predictor: Any, params: Any,
             notes: dict[str, Any]) -> ToolOutput:
        bands = data.sizes["band"]
        mean = np.asarray(card.input.mean or [0.0] * bands, "float32")[:, None, None]
        std = np.asarray(card.input.std or [1.0] * bands, "float32")[:, None, None]
        if mean.shape[0] != bands or std.shape[0] != bands:
            raise InputError(f"the model card normalises {mean.shape[0]} bands; the input "
                             f"has {bands}")

        def prepare(block: np.ndarray) -> np.ndarray:
            values = block.astype("float32") * card.input.scale + card.input.offset
            values = (values - mean) / std
            return np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)

        def finish(scores: np.ndarray, block_valid: Any = None) -> np.ndarray:
            classes = np.argmax(scores, axis=0).astype("uint8") + 1  # 0 stays "no data"
            confidence = np.round(np.max(scores, axis=0) * 100).astype("uint8")
            return np.stack([classes, confidence])

        out = predict(data, predictor, outputs=len(card.classes), window=card.window,
                      overlap=card.overlap, batch_size=params.batch_size, prepare=prepare,
                      finish=finish, dtype="uint8", bands=2)
        valid = data.notnull().all("band") if np.issubdtype(data.dtype, np.floating) \
            else None
        if valid is not None:
            out = xr.where(valid, out, np.uint8(0)).astype("uint8")
            out = out.rio.write_crs(data.rio.crs).rio.write_transform(data.rio.transform())
        legend = {i + 1: name for i, name in enumerate(card.classes)}
        notes |= {"model": f"{card.tool} {card.version}", "classes": legend,
                  "classes_zh": dict(zip(legend, self.classes_zh, strict=False)),
                  "output_bands": ["class", "confidence_percent"]}
        follow = None
        if self.extraction and params.polygons:
            wanted = {value: name for value, name in legend.items()
                      if name not in ("background", "no change", "unchanged")}
            follow = polygons_follow(classes=wanted, min_area=params.min_area_m2,
                                     confidence_band=2,
                                     optimise={"iterations": 1, "tolerance": float(
                                         np.mean(np.abs(data.rio.resolution())))}
                                     if params.smooth else None)
        return ToolOutput(raster=out, name=self.info.name, nodata=0,
                          band_names=("class", "confidence"), extra=notes, follow=follow)


class DeepImageTool(_Base):
    """A deep tool on one image (extraction or classification)."""

    class Params(_DeepParams):
        """Parameters of a one-image deep tool."""

        image: Any = raster_input(help="Image", help_zh="影像")

    def run(self, params: Any, context: RunContext) -> ToolOutput:
        """Classify ``params.image`` with the installed model."""
        card, predictor = self._model(params, context)
        if card.input.dates != 1:
            raise InputError(f"the installed {self.info.name} model takes two dates")
        notes: dict[str, Any] = {}
        data = _model_bands(params.image, list(card.input.bands), context, notes)
        warning = resolution_warning(data, card.resolution or self.info.resolution,
                                     tool=self.info.name)
        if warning:
            notes["warning"] = warning
        return self._run(data, card, predictor, params, notes)


class DeepChangeTool(_Base):
    """A deep tool on two dates (their bands stacked: before, then after)."""

    class Params(_DeepParams):
        """Parameters of a two-date deep tool."""

        before: Any = raster_input(help="Earlier image", help_zh="前时相影像")
        after: Any = raster_input(help="Later image", help_zh="后时相影像")
        align: str = param("refuse", help='Different grids: "refuse" or "reproject" the '
                           "later image onto the earlier one's grid",
                           help_zh="网格不同时：拒绝（refuse）或将后时相重投影（reproject）",
                           pattern="^(refuse|reproject)$")

    def run(self, params: Any, context: RunContext) -> ToolOutput:
        """Detect changes between ``params.before`` and ``params.after``."""
        card, predictor = self._model(params, context)
        if card.input.dates != 2:
            raise InputError(f"the installed {self.info.name} model takes one image")
        before, after, notes = two_dates(params.before, params.after, context,
                                         align=params.align)
        wanted = len(card.input.bands)
        if before.sizes["band"] < wanted:
            raise InputError(f"{self.info.name} needs {wanted} bands "
                             f"({', '.join(card.input.bands)}); the images have "
                             f"{before.sizes['band']}")
        before, after = before.isel(band=slice(0, wanted)), after.isel(band=slice(0, wanted))
        stacked = xr.concat([before, after.assign_coords(band=after.band + wanted)], "band")
        stacked = stacked.rio.write_crs(before.rio.crs).rio.write_transform(
            before.rio.transform())
        warning = resolution_warning(before, card.resolution or self.info.resolution,
                                     tool=self.info.name)
        if warning:
            notes["warning"] = warning
        return self._run(stacked, card, predictor, params, notes)
