"""Land-cover classification into the 10 terralab classes; today a spectral-rule baseline.

``method="baseline"`` (the default) needs no trained model: a decision list on spectral
indices (NDVI, MNDWI / NDWI, soil redness, brightness) of Landsat, Sentinel-2, or 3/4-band
images, with clouds and snow from the QA_PIXEL / SCL band where there is one (see
:mod:`terralab.ai.spectral_rules` for every rule and what it cannot tell apart). It is
labelled as a baseline in the result. ``method="model"`` runs the installed deep land-cover
model (:mod:`terralab.ai.models`; a clear error while none is installed).

The output is a ``uint8`` class map on the image's grid (Sentinel-2: the 10 m grid) with the
codes of :mod:`terralab.landcover` (1 cropland … 10 unknown / cloud-snow, 0 no data); the
legend, colours and Chinese names are in the result's notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import xarray as xr

from terralab.ai.engine import tiled
from terralab.ai.spectral_inputs import open_spectral
from terralab.ai.spectral_rules import BANDS, MERGED, OUTPUT_CODES, classify
from terralab.landcover import CLASSES, NODATA
from terralab.tools.base import (
    RunContext,
    Tool,
    ToolInfo,
    ToolOutput,
    ToolParams,
    param,
    raster_input,
)

__all__ = ["BASELINE_NOTE", "LandCover", "legend"]

BASELINE_NOTE = (
    "Spectral-rule baseline, not the deep model: building, road and structure are one "
    "built-up class (written as building); excavated land is written as bare land; "
    "cropland versus grass is told by greenness on one date only (a bare or winter field "
    "looks like bare land or grass); without a QA/SCL band clouds are found by brightness "
    "only when SWIR bands exist, and cloud shadows not at all.")


def legend() -> dict[str, Any]:
    """The class codes with English and Chinese names and colours (for maps and legends)."""
    return {"classes": {c.code: c.name for c in CLASSES},
            "titles": {c.code: c.title for c in CLASSES},
            "titles_zh": {c.code: c.title_zh for c in CLASSES},
            "colormap": {c.code: c.color for c in CLASSES}, "nodata": NODATA}


class LandCover(Tool):
    """Land-cover classification (10 classes): spectral-rule baseline or the deep model."""

    info = ToolInfo(
        name="land_cover", title="Land-cover classification", title_zh="地物分类",
        description_zh=("生成 10 类土地覆盖分类图（耕地、林地、草地、建筑、水体等）。"
                        "默认使用光谱指数基线方法，也可运行已安装的深度模型。"),
        kind="ai", inputs=("raster",), outputs=("raster",), resolution=(0.01, 2.0), gpu=False,
        version="1",
        description="A 10-class land-cover map (cropland, forest, grass, building, road, "
                    "structure, excavated land, bare land, water, unknown/cloud-snow). The "
                    "default is a spectral-index baseline for Landsat, Sentinel-2 and 3/4-band "
                    "images (clouds and snow from QA/SCL) that merges the classes spectra "
                    "cannot tell apart; method=\"model\" runs an installed deep model.")

    class Params(ToolParams):
        """Parameters of land-cover classification."""

        image: Any = raster_input(
            help="The image: a Landsat or Sentinel-2 item, a my-data item, a file or a "
                 "DataArray",
            help_zh="影像：Landsat 或 Sentinel-2 条目、我的数据条目、文件或 DataArray")
        method: Literal["baseline", "model"] = param(
            "baseline", help='"baseline": rules on spectral indices (no model needed); '
                             '"model": the installed deep land-cover model',
            help_zh="baseline：基于光谱指数的规则（无需模型）；model：已安装的深度学习地物分类模型")
        model_version: str | None = param(
            None, help='Model version for method="model" (default: the newest installed)',
            help_zh="method=model 时的模型版本（默认最新安装的版本）", advanced=True)
        band_map: dict[str, int] | None = param(
            None, help='Band numbers by name for a file that does not name its bands, e.g. '
                       '{"red": 1, "green": 2, "blue": 3, "nir": 4}',
            help_zh='文件未注明波段时按名称指定波段序号，如 {"red": 1, "green": 2, '
                    '"blue": 3, "nir": 4}', advanced=True)
        scale: float | None = param(
            None, gt=0, help="Reflectance = value × scale + offset for a file (default: 8-bit "
                             "÷ 255, other integers ÷ 10000, floats as they are)",
            help_zh="文件数值转反射率：反射率 = 数值 × scale + offset（默认：8 位除以 255，"
                    "其他整数除以 10000，浮点不变）", advanced=True)
        offset: float = param(0.0, help="See scale", help_zh="见 scale", advanced=True)
        chunk: int = param(1024, ge=64, le=8192,
                           help="Processing block size in pixels (memory per block)",
                           help_zh="分块处理的块大小（像素，决定内存占用）", advanced=True)

    @classmethod
    def required_bands(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        """An optical image: the baseline reads blue, green and red at least."""
        if params.get("band_map") or params.get("method") == "model":
            return ()
        return ("blue", "green", "red")

    def run(self, params: Any, context: RunContext) -> ToolOutput:
        """Classify the image with the baseline rules, or hand it to the deep model."""
        if params.method == "model":
            return self._model(params, context)
        context.progress(5, "reading the bands")
        image = open_spectral(params.image, context, band_map=params.band_map,
                              scale=params.scale, offset=params.offset, chunk=params.chunk)
        names = [name for name in BANDS if name in image.bands]
        layers = [image.bands[name] for name in names]
        if image.quality is not None:
            layers.append(image.quality.astype("float32"))
        red = image.bands["red"]
        stack = xr.concat([layer.drop_vars("band", errors="ignore") for layer in layers],
                          dim="band", coords="minimal", compat="override", join="override")
        stack = stack.assign_coords(band=np.arange(1, len(layers) + 1))
        stack = stack.rio.write_crs(red.rio.crs).rio.write_transform(red.rio.transform())
        has_quality = image.quality is not None

        def rules(block: np.ndarray) -> np.ndarray:
            bands = {name: block[i] for i, name in enumerate(names)}
            quality = block[len(names)].astype("uint8") if has_quality else None
            return classify(bands, quality)[None]

        context.progress(20, "classifying")
        classes = tiled(stack, rules, bands=1, dtype="uint8", chunk=params.chunk)
        extra: dict[str, Any] = {
            "method": "baseline", "baseline": True, "note": BASELINE_NOTE,
            "classes_used": list(OUTPUT_CODES),
            "merged": {name: list(group) for name, group in MERGED.items()},
            **legend(), **image.notes}
        return ToolOutput(raster=classes, name="land_cover", band_names=("class",),
                          nodata=NODATA, extra=extra)

    def _model(self, params: Any, context: RunContext) -> ToolOutput:
        """Run the installed deep land-cover model (a clear error while none is installed)."""
        from terralab.ai.models import require_model

        require_model(self.info.name, params.model_version, home=context.home)
        from terralab.ai.deep import DeepImageTool

        info = self.info

        class _Model(DeepImageTool):
            """The deep engine run under this tool's name (not registered on its own)."""

            classes_zh = tuple(c.title_zh for c in CLASSES)
            extraction = False

        _Model.info = info
        deep = _Model.Params(image=params.image, model_version=params.model_version,
                             polygons=False)
        output = _Model().run(deep, context)
        output.extra |= {"method": "model", "baseline": False, **legend()}
        return output
