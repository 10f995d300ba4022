"""SAR water extraction: open water from Sentinel-1 GRD / GF-3 σ⁰ (PRODUCT.md §4).

Calm open water is a specular reflector: it sends the radar pulse away and appears very dark
(VV below about −18 dB, VH below about −24 dB), while land scatters back. The tool:

1. reads the co-polarised (VV, or HH) and cross-polarised (VH, or HV) σ⁰ bands — a
   Sentinel-1 GRD item of the catalog (linear σ⁰, by the product conventions), a GeoTIFF
   or a DataArray in linear power or in dB (``units="auto"`` decides from a sample: dB
   values are mostly negative, linear σ⁰ mostly in 0…1);
2. filters speckle in linear power (refined Lee 7×7, Lee, or median; see
   :mod:`terralab.ai.tools._speckle`) chunk by chunk with a halo of half the window;
3. builds the feature in dB: ``vv``, ``vh``, or ``vv+vh`` = the mean of the two in dB
   (the geometric mean of the σ⁰, which sharpens the water/land contrast — a relative of
   the SDWI index); ``auto`` (the default) takes ``vv+vh`` when both bands exist, else
   the one there is;
4. finds the threshold on the histogram, lazily, chunk by chunk: Otsu or
   Kittler–Illingworth, on the bimodal tiles of a large scene (split-based; see
   :mod:`terralab.ai.tools._sar_threshold`) — or takes the user's;
5. marks water below it (uint8: 1 water, 0 land, 255 nodata), drops water patches smaller
   than the minimum mapping unit (4-connected, exactly, with a halo of that many pixels, up
   to :data:`MAX_SIEVE_PIXELS`; land holes are kept), and makes the water polygons (same
   minimum area, always).

Everything stays lazy, chunk by chunk: the histogram pass and the writing pass each filter
the image once; no pass holds the whole image.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from terralab.ai.checks import pixel_size_m, resolution_warning
from terralab.ai.engine import tiled
from terralab.ai.polygons import polygons_follow
from terralab.ai.tools._filters import median_filter
from terralab.ai.tools._sar_inputs import open_sar
from terralab.ai.tools._sar_threshold import (
    WATER_CEILING,
    hist_chunk,
    scene_threshold,
    tile_histograms,
)
from terralab.ai.tools._speckle import lee, refined_lee
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

__all__ = ["MAX_SIEVE_PIXELS", "SarWater", "remove_small_patches", "water_feature"]

MAX_SIEVE_PIXELS = 1024
"""The largest minimum mapping unit (pixels) applied on the raster; larger ones only drop
polygons (the raster's halo would grow with it)."""

WATER, LAND, NODATA = 1, 0, 255


def _filtered(values: np.ndarray, name: str, window: int, enl: float) -> np.ndarray:
    if name == "refined_lee":
        return refined_lee(values, enl=enl)
    if name == "lee":
        return lee(values, size=window, enl=enl)
    if name == "median":
        return median_filter(values, window)
    return values.astype("float32")


def filter_depth(name: str, window: int) -> int:
    """How far (pixels) the speckle filter looks around a pixel."""
    return {"refined_lee": 3, "lee": window // 2, "median": window // 2}.get(name, 0)


def water_feature(block: np.ndarray, *, units: str, polarisations: tuple[str, ...],
                  polarisation: str, speckle_filter: str, window: int = 7,
                  enl: float = 4.4) -> np.ndarray:
    """The dB feature of one chunk: speckle-filtered VV, VH or their mean in dB.

    Args:
        block: ``(bands, h, w)`` σ⁰ in ``units`` (``"db"`` or ``"linear"``), NaN = nodata;
            the bands are ``polarisations`` (``("vv", "vh")``, ``("vv",)`` …).
        units: the input's units.
        polarisations: the bands' names, in order.
        polarisation: ``"vv"``, ``"vh"`` or ``"vv+vh"``.
        speckle_filter: ``"refined_lee"``, ``"lee"``, ``"median"`` or ``"none"``.
        window: the Lee / median window (odd).
        enl: the equivalent number of looks (Lee filters).

    Returns:
        ``(1, h, w)`` float32 dB, NaN where there is no data.
    """
    values = np.asarray(block, dtype="float64")
    linear = np.power(10.0, values / 10.0) if units == "db" else values.copy()
    linear[~(linear > 0)] = np.nan  # σ⁰ ≤ 0 is no signal (nodata)
    wanted = ("vv", "vh") if polarisation == "vv+vh" else (polarisation,)
    with np.errstate(divide="ignore", invalid="ignore"):
        decibels = [10.0 * np.log10(_filtered(linear[polarisations.index(name)],
                                              speckle_filter, window, enl))
                    for name in wanted]
    feature = decibels[0] if len(decibels) == 1 else (decibels[0] + decibels[1]) / 2.0
    return feature[None].astype("float32")


def remove_small_patches(water: np.ndarray, pixels: int) -> np.ndarray:
    """Drop 4-connected water patches of fewer than ``pixels`` pixels (land holes stay).

    A patch smaller than ``pixels`` reaches at most ``pixels − 1`` pixels from any of its
    pixels, so with a halo of ``pixels`` this is exact chunk by chunk.
    """
    from scipy import ndimage

    if pixels <= 1 or not water.any():
        return water
    labels, _ = ndimage.label(water)  # 4-connected (the cross), as the polygons are
    sizes = np.bincount(labels.ravel())
    small = sizes < pixels
    small[0] = False  # land
    return water & ~small[labels]


class SarWater(Tool):
    """Open water from SAR backscatter by an automatic threshold."""

    info = ToolInfo(
        name="sar_water", title="SAR water extraction", title_zh="SAR 水体提取", kind="ai",
        description_zh=("从哨兵一号 GRD 或高分三号 SAR 影像中提取开阔水体和水体多边形。经斑点滤波、"
                        "自动阈值和最小制图单元处理。"),
        outputs=("raster", "vector"), resolution=(5.0, 30.0), gpu=False, version="1",
        description="Open water from Sentinel-1 GRD or GF-3 σ⁰ (VV/VH, linear or dB): "
                    "speckle filter, automatic threshold (Otsu or Kittler–Illingworth on "
                    "the bimodal tiles of the scene), minimum mapping unit, water polygons.")

    class Params(ToolParams):
        """Parameters of SAR water extraction."""

        image: Any = raster_input(
            help="The SAR image: a Sentinel-1 GRD item, or a GeoTIFF / DataArray of σ⁰ "
                 "(VV and/or VH, or HH/HV), linear or dB",
            help_zh="SAR 影像：Sentinel-1 GRD 条目，或 σ⁰（VV/VH 或 HH/HV，线性或 dB）的 "
                    "GeoTIFF / DataArray")
        vv_band: int | None = param(
            None, ge=1, help="Band number of VV (or HH) in a file; default: by band name, "
                             "else band 1",
            help_zh="文件中 VV（或 HH）的波段序号；默认按波段名，否则为第 1 波段", advanced=True)
        vh_band: int | None = param(
            None, ge=1, help="Band number of VH (or HV) in a file; default: by band name, "
                             "else band 2 of a 2-band file",
            help_zh="文件中 VH（或 HV）的波段序号；默认按波段名，否则为双波段文件的第 2 波段",
            advanced=True)
        units: Literal["auto", "db", "linear"] = param(
            "auto", help="Units of the values: dB, linear power, or auto-detect",
            help_zh="数值单位：dB、线性功率，或自动识别", advanced=True)
        polarisation: Literal["auto", "vv", "vh", "vv+vh"] = param(
            "auto", help="What to threshold: VV (or HH), VH (or HV), or the mean of the two "
                         "in dB; auto: the mean when both bands exist, else the one there is",
            help_zh="阈值分割所用特征：VV（或 HH）、VH（或 HV），或两者的 dB 均值；"
                    "auto：两者都有时用均值，否则用现有的波段")
        speckle_filter: Literal["refined_lee", "lee", "median", "none"] = param(
            "refined_lee", help="Speckle filter (refined Lee is always 7×7)",
            help_zh="相干斑滤波方法（精致 Lee 固定为 7×7）")
        window: int = param(7, ge=3, le=15, help="Window of the Lee / median filter (odd)",
                            help_zh="Lee / 中值滤波窗口大小（奇数）", advanced=True)
        enl: float = param(4.4, gt=0, le=100,
                           help="Equivalent number of looks (Sentinel-1 GRDH IW: 4.4)",
                           help_zh="等效视数（Sentinel-1 GRDH IW 约 4.4）", advanced=True)
        method: Literal["otsu", "ki"] = param(
            "otsu", help="Automatic threshold: Otsu or Kittler–Illingworth (minimum error)",
            help_zh="自动阈值方法：Otsu 或 Kittler–Illingworth（最小误差）", advanced=True)
        threshold_db: float | None = param(
            None, ge=-60, le=20, help="A fixed threshold in dB instead of the automatic one",
            help_zh="固定阈值（dB），代替自动阈值")
        threshold_scope: Literal["tiles", "global"] = param(
            "tiles", help="Automatic threshold from the bimodal tiles of the scene, or from "
                          "the whole scene's histogram",
            help_zh="自动阈值来自场景中双峰分块，或来自整幅直方图", advanced=True)
        tile_size: int = param(512, ge=64, le=8192,
                               help="Tile size (pixels) of the bimodal tile selection",
                               help_zh="双峰分块选择的分块大小（像素）", advanced=True)
        min_area_m2: float = param(
            1000.0, ge=0, help="Minimum mapping unit (m²): smaller water patches are dropped",
            help_zh="最小制图单元（平方米）：更小的水体斑块被去除")
        polygons: bool = param(True, help="Also make the water polygons",
                               help_zh="同时生成水体矢量多边形")
        chunk: int = param(1024, ge=64, le=8192,
                           help="Processing block size in pixels (memory per block)",
                           help_zh="分块处理的块大小（像素，决定内存占用）", advanced=True)

    @classmethod
    def required_bands(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        """A radar image: a VV, VH, HH or HV band (a file naming its bands by number: any)."""
        if params.get("vv_band") or params.get("vh_band"):
            return ()
        return ("vv|vh|hh|hv",)

    def run(self, params: Any, context: RunContext) -> ToolOutput:
        """Filter, threshold and map water lazily; polygons follow the written mask."""
        context.progress(5, "reading the SAR image")
        sar = open_sar(params.image, context, polarisation=params.polarisation,
                       vv_band=params.vv_band, vh_band=params.vh_band, units=params.units,
                       chunk=params.chunk)
        data, wanted = sar.data, sar.polarisations
        polarisation = "vv+vh" if len(wanted) == 2 else wanted[0]
        extra: dict[str, Any] = {"units": sar.units, "polarisation": polarisation,
                                 "speckle_filter": params.speckle_filter}
        warning = resolution_warning(data, self.info.resolution, tool=self.info.name)
        if warning:
            extra["warning"] = warning

        def feature_of(block: np.ndarray) -> np.ndarray:
            return water_feature(block, units=sar.units, polarisations=wanted,
                                 polarisation=polarisation,
                                 speckle_filter=params.speckle_filter, window=params.window,
                                 enl=params.enl)

        depth = filter_depth(params.speckle_filter, params.window)
        pixel_area = pixel_size_m(data) ** 2
        if params.threshold_db is None:
            context.progress(15, "computing the histogram")
            # chunks of whole tiles (when the halo allows), so tiles need no rechunking
            chunk = hist_chunk(params.chunk, params.tile_size)
            feature = tiled(data, feature_of, depth=depth, bands=1, dtype="float32",
                            chunk=chunk)
            counts, sizes = tile_histograms(feature.data[0], params.tile_size)
            try:
                found = scene_threshold(counts, sizes, method=params.method,
                                        scope=params.threshold_scope,
                                        ceiling=WATER_CEILING[polarisation])
            except ValueError as error:
                raise InputError(f"sar_water: {error}") from None
            value = found.value
            extra.update({"method": params.method, "threshold_db": round(value, 3),
                          "threshold_scope": found.scope, "tiles_used": found.tiles_used,
                          "tiles_total": found.tiles_total, **found.notes,
                          "water_fraction": round(found.below / max(found.valid, 1), 4),
                          "water_area_m2": round(found.below * pixel_area, 1),
                          "water_area_note": "before the minimum mapping unit; the polygons "
                                             "give the area after it"})
        else:
            value = float(params.threshold_db)
            extra.update({"method": "manual", "threshold_db": value})
        pixels = math.ceil(params.min_area_m2 / pixel_area) if params.min_area_m2 > 0 else 0
        sieve = pixels if 2 <= pixels <= MAX_SIEVE_PIXELS else 0
        extra["min_area_m2"] = params.min_area_m2
        if pixels > MAX_SIEVE_PIXELS:
            extra["min_area_note"] = (f"{pixels} pixels is above {MAX_SIEVE_PIXELS}: applied "
                                      "to the polygons only")

        def classify(block: np.ndarray) -> np.ndarray:
            values = feature_of(block)[0]  # one pass from the input: no chained halos
            water = values < value
            if sieve:
                water = remove_small_patches(water, sieve)
            out = np.where(water, WATER, LAND).astype("uint8")
            out[np.isnan(values)] = NODATA
            return out[None]

        context.progress(30, "mapping water")
        mask = tiled(data, classify, depth=depth + sieve, bands=1, dtype="uint8",
                     chunk=params.chunk)
        mask = mask.rio.write_nodata(NODATA, encoded=False)
        mask.name = "water"
        follow = polygons_follow(classes={WATER: "water"}, name="water_polygons",
                                 min_area=params.min_area_m2) if params.polygons else None
        return ToolOutput(raster=mask, name="water", band_names=("water",), nodata=NODATA,
                          extra=extra, follow=follow)
