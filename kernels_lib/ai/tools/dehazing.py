"""Dehazing: the dark channel prior with guided-filter refinement (He, Sun & Tang, PAMI 2011).

A hazy image follows the atmospheric scattering model ``I = J·t + A·(1 − t)``: the scene
radiance ``J`` attenuated by the transmission ``t`` plus the airlight ``A``. In haze-free
outdoor patches at least one colour band is nearly black (shadows, vegetation, dark objects:
the *dark channel prior*), so the dark channel of the normalised image,
``min over a patch of min over bands of I/A``, measures the haze: ``t̃ = 1 − ω·dark(I/A)``.

The tool, lazily and chunk by chunk:

1. computes the dark channel of the visible bands (a ``patch``² minimum) and, in the same
   pass, a histogram of it with the sum of every band per histogram bin; the atmospheric
   light ``A`` is the mean colour of the brightest ``top_fraction`` (0.1 %) dark-channel
   pixels of the **whole** image (from those sums; nodata left out);
2. computes ``t̃``, refines it with the guided filter (guide: the grey image, radius
   ``radius``, ``eps``), floors it at ``t0`` and recovers ``J = (I − A)/max(t, t0) + A``,
   each chunk with a halo of ``patch // 2 + 2·radius`` pixels, so tiles match the whole image;
3. writes the result with the input's data type (uint8 / uint16), band count, grid and
   nodata (valid pixels never take the nodata value).

Bands: 3 bands are taken as visible (any order); with 4 bands the 4th is near infrared,
which haze affects much less (and vegetation makes bright, so it would break the prior): it
is left out of the dark channel and ``A``, and by default copied unchanged
(``nir="keep"``); ``nir="dehaze"`` corrects it with ``t^0.66``, the visible transmission
scaled by an Ångström exponent of 1 from 0.55 µm to 0.83 µm, and its own airlight.
Weak spots (He et al.): large bright surfaces without shadows (snow, white roofs bigger than
the patch, bright sand) look like haze and are darkened; sky is absent from nadir images,
so ``A`` may come from the brightest land surface when the haze is thin.
"""

from __future__ import annotations

from typing import Any, Literal

import dask.array as da
import numpy as np
import xarray as xr

from terralab.ai.checks import check_band_count, resolution_warning
from terralab.ai.engine import tiled
from terralab.ai.tools._filters import guided_filter, min_filter
from terralab.tools.base import (
    RunContext,
    Tool,
    ToolInfo,
    ToolOutput,
    ToolParams,
    param,
    raster_input,
)
from terralab.tools.inputs import InputError

__all__ = ["NIR_EXPONENT", "Dehazing", "atmospheric_light", "dark_channel", "dehaze_block"]

NIR_EXPONENT = 0.55 / 0.83
"""``t_nir = t^NIR_EXPONENT``: scattering ∝ λ⁻¹ (Ångström exponent 1), 0.55 → 0.83 µm."""


def _valid(block: np.ndarray, nodata: float | None) -> np.ndarray:
    """Pixels holding data: not every band equal to nodata."""
    if nodata is None:
        return np.ones(block.shape[1:], dtype=bool)
    if np.isnan(nodata):
        return ~np.isnan(block).all(axis=0)
    return ~(block == nodata).all(axis=0)


def dark_channel(block: np.ndarray, patch: int, valid: np.ndarray | None = None) -> np.ndarray:
    """The dark channel of ``block`` (``(bands, h, w)``): min over bands, then over a patch.

    Looks ``patch // 2`` pixels around. Nodata pixels (``valid`` False) are left out; where
    a whole patch is nodata the result is NaN.
    """
    lowest = np.min(block, axis=0).astype("float32")
    if valid is not None:
        lowest = np.where(valid, lowest, np.nan)
    dark = min_filter(lowest, patch)
    return np.where(np.isinf(dark), np.nan, dark)


def _bin_width(dtype: np.dtype) -> int:
    return 1 if dtype == np.uint8 else 16  # uint16: 4096 bins of 16 values


def _light_statistics(dark: np.ndarray, block: np.ndarray, valid: np.ndarray,
                      width: int, bins: int) -> np.ndarray:
    """Per dark-channel bin: the pixel count and each band's sum (``(1 + bands, bins)``)."""
    keep = valid & np.isfinite(dark)
    index = np.clip((dark[keep] // width).astype("int64"), 0, bins - 1)
    rows = [np.bincount(index, minlength=bins).astype("float64")]
    rows += [np.bincount(index, weights=band[keep].astype("float64"), minlength=bins)
             for band in block]
    return np.stack(rows)


def atmospheric_light(statistics: np.ndarray, top_fraction: float) -> np.ndarray:
    """``A``: the mean colour of the brightest ``top_fraction`` of dark-channel pixels.

    Args:
        statistics: ``(1 + bands, bins)`` from the whole image: counts, then band sums.
        top_fraction: the share of pixels to average (whole bins: at least that share).

    Raises:
        ValueError: for an image without valid pixels.
    """
    counts = statistics[0]
    total = counts.sum()
    if total == 0:
        raise ValueError("the image holds no valid pixel")
    from_top = np.cumsum(counts[::-1])[::-1]  # pixels in this bin and brighter
    cut = int(np.nonzero(from_top >= max(1.0, top_fraction * total))[0][-1])
    return statistics[1:, cut:].sum(axis=1) / counts[cut:].sum()


def dehaze_block(block: np.ndarray, *, light: np.ndarray, nodata: float | None, patch: int,
                 omega: float, t0: float, radius: int, eps: float, refine: bool,
                 nir: str, maximum: float) -> np.ndarray:
    """Dehaze one chunk (``(bands, h, w)``; bands 1–3 visible, 4 NIR).

    Looks ``patch // 2 + 2·radius`` pixels around (``patch // 2`` without ``refine``).

    Returns:
        The dehazed chunk as float64, rounded and clipped to ``0…maximum``; nodata pixels
        hold ``nodata``, valid pixels never do.
    """
    values = np.asarray(block, dtype="float64")
    valid = _valid(values, nodata)
    visible = values[:3] / light[:3, None, None]
    dark = dark_channel(visible, patch, valid)
    rough = 1.0 - omega * np.where(np.isfinite(dark), dark, 0.0)
    if refine:
        grey = visible.mean(axis=0)
        transmission = guided_filter(np.where(valid, grey, 0.0), rough, radius, eps,
                                     weight=valid.astype("float64"))
        transmission = np.where(np.isfinite(transmission), transmission, rough)
    else:
        transmission = rough
    transmission = np.clip(transmission, t0, 1.0)
    out = np.empty_like(values)
    for band in range(values.shape[0]):
        if band < 3 or nir == "dehaze":
            t = transmission if band < 3 else np.maximum(transmission ** NIR_EXPONENT, t0)
            out[band] = (values[band] - light[band]) / t + light[band]
        else:
            out[band] = values[band]
    out = np.clip(np.rint(out), 0, maximum)
    if nodata is not None and not np.isnan(nodata):
        nudge = nodata + 1 if nodata < maximum else nodata - 1
        out[:, valid] = np.where(out[:, valid] == nodata, nudge, out[:, valid])
        out[:, ~valid] = nodata
    return out


class Dehazing(Tool):
    """Haze removal by the dark channel prior."""

    info = ToolInfo(
        name="dehazing", title="Dehazing", title_zh="影像去雾", kind="ai",
        description_zh=("用暗通道先验和导向滤波去除 3 或 4 波段影像中的雾霾，保留数据类型、"
                        "波段和地理参考。"),
        outputs=("raster",), resolution=(0.5, 2.0), gpu=False, version="1",
        description="Removes haze from a 3- or 4-band 8/16-bit image with the dark channel "
                    "prior and guided-filter refinement (He et al.); keeps the data type, "
                    "bands, nodata and georeferencing.")

    class Params(ToolParams):
        """Parameters of dehazing."""

        image: Any = raster_input(
            help="The hazy image: 3 bands (RGB) or 4 (RGB + NIR), 8 or 16 bit",
            help_zh="有雾影像：3 波段（RGB）或 4 波段（RGB + 近红外），8 位或 16 位")
        patch: int = param(15, ge=3, le=61, help="Dark channel patch size (pixels, odd)",
                           help_zh="暗通道窗口大小（像素，奇数）", advanced=True)
        omega: float = param(0.95, ge=0.5, le=1.0,
                             help="How much haze to remove (1 = all; 0.95 keeps a little "
                                  "for depth)",
                             help_zh="去雾程度（1 为全部去除；0.95 保留少量以保持纵深感）",
                             advanced=True)
        t0: float = param(0.1, ge=0.01, le=0.9, help="Lowest transmission (limits noise "
                                                     "amplification in dense haze)",
                          help_zh="最小透射率（限制浓雾处的噪声放大）", advanced=True)
        top_fraction: float = param(
            0.001, gt=0, le=0.05, help="Share of the brightest dark-channel pixels whose "
                                       "mean colour is the atmospheric light",
            help_zh="暗通道最亮像素的比例，其平均颜色作为大气光", advanced=True)
        refine: bool = param(True, help="Refine the transmission with the guided filter",
                             help_zh="使用导向滤波细化透射率")
        radius: int = param(40, ge=1, le=200, help="Guided filter radius (pixels)",
                            help_zh="导向滤波半径（像素）", advanced=True)
        eps: float = param(1e-3, gt=0, le=1, help="Guided filter regularisation",
                           help_zh="导向滤波正则化参数", advanced=True)
        nir: Literal["keep", "dehaze"] = param(
            "keep", help="4-band images: copy the NIR band unchanged, or correct it with the "
                         "visible transmission (Ångström exponent 1)",
            help_zh="4 波段影像：近红外波段保持不变，或按可见光透射率（Ångström 指数 1）校正")
        chunk: int = param(1024, ge=64, le=8192,
                           help="Processing block size in pixels (memory per block)",
                           help_zh="分块处理的块大小（像素，决定内存占用）", advanced=True)

    def run(self, params: Any, context: RunContext) -> ToolOutput:
        """Find the atmospheric light over the whole image, then dehaze chunk by chunk."""
        context.progress(5, "reading the image")
        data = context.open_raster(params.image, chunks=params.chunk)
        label = ("the DataArray" if isinstance(params.image, xr.DataArray)
                 else repr(str(params.image)))
        check_band_count(data, (3, 4), tool="dehazing", label=label,
                         what="RGB, or RGB + NIR")
        dtype = np.dtype(data.dtype)
        if dtype not in (np.uint8, np.uint16):
            raise InputError(f"dehazing takes 8- or 16-bit images; {label} is {dtype.name} "
                             "(convert or rescale it to uint8 / uint16 first)")
        nodata = data.rio.nodata
        nodata = None if nodata is None else float(nodata)
        extra: dict[str, Any] = {}
        warning = resolution_warning(data, self.info.resolution, tool=self.info.name)
        if warning:
            extra["warning"] = warning
        depth = params.patch // 2 + (2 * params.radius if params.refine else 0)
        chunk = params.chunk
        context.progress(10, "finding the atmospheric light")
        light = _image_light(data, params, nodata, dtype, chunk)
        extra["atmospheric_light"] = [round(float(v), 2) for v in light]
        maximum = float(np.iinfo(dtype).max)

        def run_block(block: np.ndarray) -> np.ndarray:
            return dehaze_block(block, light=light, nodata=nodata, patch=params.patch,
                                omega=params.omega, t0=params.t0, radius=params.radius,
                                eps=params.eps, refine=params.refine, nir=params.nir,
                                maximum=maximum)

        context.progress(30, "dehazing")
        result = tiled(data, run_block, depth=depth, dtype=dtype, chunk=chunk,
                       band_coords=list(data.band.values))
        if nodata is not None:
            result = result.rio.write_nodata(nodata, encoded=False)
        names = tuple(str(n) for n in np.atleast_1d(data.attrs.get("long_name", ())))
        extra.update({"omega": params.omega, "t0": params.t0, "patch": params.patch,
                      "nir": params.nir if data.sizes["band"] == 4 else None})
        return ToolOutput(raster=result, name="dehazed",
                          band_names=names if len(names) == data.sizes["band"] else None,
                          nodata=nodata, extra=extra)


def _image_light(data: Any, params: Any, nodata: float | None, dtype: np.dtype,
                 chunk: int) -> np.ndarray:
    """The atmospheric light of the whole image, from one lazy pass (bounded by the chunk)."""
    width = _bin_width(dtype)
    bins = (int(np.iinfo(dtype).max) + 1) // width
    bands = data.sizes["band"]

    def dark_of(block: np.ndarray) -> np.ndarray:
        values = block.astype("float32")
        return dark_channel(values[:3], params.patch, _valid(values, nodata))[None]

    dark = tiled(data, dark_of, depth=params.patch // 2, bands=1, dtype="float32",
                 chunk=chunk).data
    pixels = data.data if isinstance(data.data, da.Array) else da.from_array(data.data)
    pixels = pixels.rechunk(((bands,), *dark.chunks[1:]))

    def statistics(dark_block: np.ndarray, block: np.ndarray) -> np.ndarray:
        valid = _valid(block.astype("float64"), nodata)
        stats = _light_statistics(dark_block[0], block, valid, width, bins)
        return stats.reshape(1, 1, 1, (1 + bands) * bins)

    size = (1 + bands) * bins
    per_block = da.map_blocks(statistics, dark, pixels, new_axis=[3], dtype="float64",
                              chunks=((1,), (1,) * dark.numblocks[1], (1,) * dark.numblocks[2],
                                      (size,)))
    # one row of statistics per chunk: (1, ny, nx, size), summed over the chunks
    totals = per_block.sum(axis=(0, 1, 2)).compute().reshape(1 + bands, bins)
    try:
        light = atmospheric_light(totals, params.top_fraction)
    except ValueError as error:
        raise InputError(f"dehazing: {error}") from None
    return np.maximum(light, 1.0)
