"""Time-series animation: several dates (or index results) as one GIF or MP4 (PRODUCT.md §5).

Every frame is drawn on the first input's grid — its CRS and extent, its longer side at most
``max_size`` pixels; inputs on other grids (another CRS too) are warped onto it. Frames are
read decimated (GDAL uses the overviews), so memory follows ``max_size``, not the inputs' size.

Colours keep one meaning through the whole animation: the scale is fixed for all frames —
``rescale``, or by default each band's 2nd–98th percentile over **all** frames together,
computed from small decimated reads (a first pass) — never stretched frame by frame. One band
goes through a colormap (rio-tiler's, e.g. ``viridis``; grey by default), three bands make an
RGB (false-colour) composite. Nodata is black.

Each frame carries its label (by default the item's date, else a date in the file name such
as ``2009`` or ``20140720``, else the input's name) in a black box in one corner; an empty
label draws no box.

GIFs share one palette over all frames (built from the first pass, plus greys for the labels,
no dithering), so equal values get equal colours in every frame and the animation does not
shimmer; a GIF encoder keeps all frames (one byte a pixel) until it writes. MP4s are H.264
(yuv420p, playable in browsers; an odd frame side gets one black row or column), streamed frame
by frame through imageio-ffmpeg's ffmpeg.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import field_validator, model_validator

from terralab.tools.base import RunContext, Tool, ToolInfo, ToolOutput, ToolParams, param
from terralab.tools.inputs import InputError, resolve_raster
from terralab.tools.processing._animation_frames import (
    FrameSource,
    Grid,
    band_samples,
    colourise,
    draw_label,
    percentile_scale,
)

__all__ = ["MAX_FRAMES", "Animation"]

MAX_FRAMES = 500
_STATS_PIXELS = 2048**2  # pixels the first pass reads over all frames together
_LABEL_GREYS = 8  # palette entries a GIF keeps for the labels' black, white and greys


class Animation(Tool):
    """Make a GIF or MP4 of a time series, one frame per input, with a fixed colour scale."""

    info = ToolInfo(
        name="animation", title="Time-series animation", title_zh="时序动画",
        description_zh=("将多个日期或多期指数结果按顺序制成 GIF 或 MP4 动画，"
                        "所有帧使用同一色标并标注日期。"),
        inputs=("rasters",), outputs=("animation",),
        description="A GIF or MP4 of several dates or index results, in the order given, "
                    "on the first image's grid, with one colour scale for all frames and the "
                    "date written on each frame.")

    class Params(ToolParams):
        """The animation's parameters."""

        images: list[Any] = param(
            ..., min_length=2, max_length=MAX_FRAMES,
            help="The images, in order (dates or index results): item ids, files or "
                 "DataArrays; the first one's grid is used for all frames",
            help_zh="按顺序排列的影像（不同日期或指数结果）：数据项、文件或 DataArray；"
                    "所有帧都使用第一幅影像的网格",
            json_schema_extra={"terralab:input": "rasters"})
        labels: list[str] | None = param(
            None, help="One label per image (default: its date, else its name); an empty "
                       "label draws nothing",
            help_zh="每幅影像的标注（默认：日期，否则为名称）；空标注不绘制")
        format: Literal["gif", "mp4"] = param(
            "gif", help="GIF (plays everywhere) or MP4 (H.264, smaller for long series)",
            help_zh="GIF（通用）或 MP4（H.264，长序列更小）")
        fps: int = param(2, ge=1, le=30, help="Frames per second", help_zh="每秒帧数")
        bands: list[int] | None = param(
            None, min_length=1, max_length=3,
            help="1 band (with a colormap) or 3 bands (red, green, blue), numbered from 1; "
                 "default red, green, blue when named, else the first three, else band 1",
            help_zh="1 个波段（配色）或 3 个波段（红、绿、蓝），从 1 开始编号；默认按名称取"
                    "红绿蓝，否则取前三个，否则取第 1 波段", advanced=True)
        rescale: list[tuple[float, float]] | None = param(
            None, min_length=1, max_length=3,
            help="The colour scale, the same for all frames: one (min, max) for all bands or "
                 "one per band (default: 2nd–98th percentile over all frames)",
            help_zh="所有帧共用的拉伸范围：所有波段一个 (最小, 最大) 或每个波段一个"
                    "（默认：全部帧的 2%–98% 百分位）", advanced=True)
        colormap: str | None = param(
            None, help="Colormap for one band (viridis, magma, rdylgn…; default grey)",
            help_zh="单波段配色方案（viridis、magma、rdylgn…；默认灰度）", advanced=True)
        max_size: int = param(1024, ge=16, le=4096,
                              help="Longest side of the frames in pixels",
                              help_zh="帧的最长边（像素）", advanced=True)
        label_corner: Literal["top-left", "top-right", "bottom-left", "bottom-right"] = param(
            "top-left", help="Where the label goes", help_zh="标注位置", advanced=True)

        @field_validator("bands")
        @classmethod
        def _one_or_three(cls, value: list[int] | None) -> list[int] | None:
            if value is not None and (len(value) not in (1, 3) or min(value) < 1):
                raise ValueError("give 1 band or 3 bands, numbered from 1")
            return value

        @field_validator("rescale")
        @classmethod
        def _ranges(cls, value: list[tuple[float, float]] | None) -> Any:
            for low, high in value or []:
                if not (np.isfinite(low) and np.isfinite(high) and high > low):
                    raise ValueError(f"a colour scale is (min, max) with min < max, not "
                                     f"({low}, {high})")
            return value

        @field_validator("colormap")
        @classmethod
        def _known_colormap(cls, value: str | None) -> str | None:
            if value is None:
                return None
            from rio_tiler.colormap import cmap

            name = value.lower()
            if name not in cmap.list():
                raise ValueError(f"unknown colormap {value!r}; e.g. viridis, magma, rdylgn, "
                                 "greys, terrain")
            return name

        @model_validator(mode="after")
        def _labels_match(self) -> Any:
            if self.labels is not None and len(self.labels) != len(self.images):
                raise ValueError(f"{len(self.labels)} labels for {len(self.images)} images")
            return self

    def run(self, params: Any, context: RunContext) -> ToolOutput:
        """Read every input on the first one's grid and write the GIF or MP4."""
        sources = [FrameSource.of(resolve_raster(ref, user=context.user, home=context.home,
                                                 restricted=context.restricted), ref)
                   for ref in params.images]
        bands = list(params.bands or sources[0].default_bands())
        for number, source in enumerate(sources, start=1):
            if max(bands) > source.count:
                raise InputError(f"image {number} ({source.label}) has {source.count} bands; "
                                 f"band {max(bands)} was asked for")
        grid = sources[0].grid.fitted(params.max_size)
        scale, samples = _scale(params, sources, bands, grid, context)
        labels = params.labels if params.labels is not None else [s.label for s in sources]
        target = context.scratch / f"animation.{params.format}"
        palette = None
        if params.format == "gif":
            palette = _gif_palette(samples, scale, params.colormap)
        frames = (_frame(i, source, bands, grid, scale, labels[i], params, context)
                  for i, source in enumerate(sources))
        if params.format == "gif":
            _write_gif(target, frames, params.fps, palette)
        else:
            _write_mp4(target, frames, params.fps, grid)
        context.progress(75, "animation written")
        return ToolOutput(file=target, name="animation", extra={
            "frames": len(sources), "fps": params.fps, "format": params.format,
            "size": [grid.width, grid.height], "labels": list(labels), "bands": bands,
            "rescale": [list(pair) for pair in scale], "crs": grid.crs.to_string(),
            "footprint": grid.footprint_wgs84()})


def _scale(params: Any, sources: list[FrameSource], bands: list[int], grid: Grid,
           context: RunContext) -> tuple[list[tuple[float, float]], list[np.ma.MaskedArray]]:
    """The fixed colour scale, and the small first-pass frames it was measured on."""
    side = max(32, min(256, int((_STATS_PIXELS / len(sources)) ** 0.5)))
    small = grid.fitted(side)
    samples = []
    for number, source in enumerate(sources):
        context.progress(30 * number / len(sources), "measuring the colour scale")
        samples.append(source.read(bands, small))
    if params.rescale is not None:
        if len(params.rescale) not in (1, len(bands)):
            raise InputError(f"rescale has {len(params.rescale)} ranges for {len(bands)} "
                             "bands: give one for all bands or one per band")
        pairs = [(float(low), float(high)) for low, high in params.rescale]
        return pairs * (len(bands) // len(pairs)), samples
    per_frame = [band_samples(frame) for frame in samples]
    return [percentile_scale([values[b] for values in per_frame])
            for b in range(len(bands))], samples


def _frame(index: int, source: FrameSource, bands: list[int], grid: Grid,
           scale: list[tuple[float, float]], label: str, params: Any,
           context: RunContext) -> np.ndarray:
    """Read, colour and label one frame."""
    context.progress(30 + 45 * index / len(params.images), f"frame {index + 1}")
    rgb = colourise(source.read(bands, grid), scale, params.colormap)
    return draw_label(rgb, label, params.label_corner)


def _gif_palette(samples: list[np.ma.MaskedArray], scale: list[tuple[float, float]],
                 colormap: str | None) -> Any:
    """One palette for all frames: the colours of the first pass, black, white and greys."""
    from PIL import Image

    mosaic = np.concatenate([colourise(frame, scale, colormap) for frame in samples], axis=0)
    colours = Image.fromarray(mosaic).quantize(256 - _LABEL_GREYS,
                                               method=Image.Quantize.MEDIANCUT)
    table = list(colours.getpalette() or [])[: 3 * (256 - _LABEL_GREYS)]
    table += [0] * (3 * (256 - _LABEL_GREYS) - len(table))
    for grey in np.linspace(0, 255, _LABEL_GREYS).round().astype(int):
        table += [int(grey)] * 3
    palette = Image.new("P", (1, 1))
    palette.putpalette(table)
    return palette


def _write_gif(target: Path, frames: Any, fps: int, palette: Any) -> None:
    from PIL import Image

    images = [Image.fromarray(rgb).quantize(palette=palette, dither=Image.Dither.NONE)
              for rgb in frames]
    images[0].save(target, save_all=True, append_images=images[1:], loop=0,
                   duration=round(1000 / fps), optimize=False, disposal=1)


def _write_mp4(target: Path, frames: Any, fps: int, grid: Grid) -> None:
    """Stream the frames to ffmpeg; an odd side gets one black row or column (yuv420p)."""
    import imageio_ffmpeg

    width, height = grid.width + grid.width % 2, grid.height + grid.height % 2
    writer = imageio_ffmpeg.write_frames(
        str(target), (width, height), fps=fps, codec="libx264",
        pix_fmt_in="rgb24", pix_fmt_out="yuv420p", macro_block_size=2, quality=8,
        ffmpeg_log_level="error", output_params=["-movflags", "+faststart"])
    writer.send(None)
    try:
        for rgb in frames:
            padded = np.zeros((height, width, 3), dtype=np.uint8)
            padded[: rgb.shape[0], : rgb.shape[1]] = rgb
            writer.send(padded)
    finally:
        writer.close()
