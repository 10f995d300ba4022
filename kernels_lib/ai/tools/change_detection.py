"""General change detection between two co-registered dates: IR-MAD or CVA, no trained model.

Steps, all lazy and chunk by chunk (memory follows ``chunk``, whatever the image size):

1. the two dates are opened on one grid (:func:`terralab.ai.checks.two_dates`: different
   grids are refused, or the later image reprojected with ``align="reproject"``);
2. the change statistic: IR-MAD's change magnitude ``√Z``, ``Z`` the chi-square statistic of
   the MAD variates (Nielsen 2007, :mod:`terralab.ai.irmad`; its covariance matrices
   accumulated chunk by chunk, one pass per iteration; the no-change spreads re-estimated
   robustly so that the chi-square test is calibrated), or the standardised change-vector
   magnitude (CVA); optionally averaged over a ``(2r+1)²`` window (``smoothing``, which
   makes the chi-square test conservative). Both are lengths of a standardised vector; the
   automatic thresholds work on these lengths (on ``Z`` itself the heavy tail of large
   changes pulls Otsu's cut into the changed class);
3. an automatic threshold: Otsu or Kittler–Illingworth on the statistic's histogram (built
   chunk by chunk, :mod:`terralab.ai.chunk_stats`), or for IR-MAD a chi-square test
   (changed where the no-change probability ``P(χ²_p > Z)`` is below ``significance``).
   Otsu and Kittler–Illingworth split any histogram, even one of pure noise, so with IR-MAD
   their cut is never below the 95 % chi-square quantile; CVA has no such floor (two
   unchanged images still get a split);
4. a ``uint8`` mask: 1 change, 0 no change, 255 no data (either date); the change polygons
   follow once the mask is written (pieces under ``min_area_m2`` dropped).

Both methods flag every kind of change (vegetation, soil, shadows, season), not only
buildings; see docs/ai-quality.md for the measured quality.
"""

from __future__ import annotations

from typing import Any, Literal

import dask
import numpy as np
import xarray as xr
from pydantic import model_validator
from scipy.stats import chi2

from terralab.ai.checks import pixel_size_m, resolution_warning, two_dates
from terralab.ai.chunk_stats import chunk_histogram
from terralab.ai.engine import tiled
from terralab.ai.irmad import as_stack, box_mean, calibrate, cva_fit, irmad_fit
from terralab.ai.polygons import polygons_follow
from terralab.ai.thresholds import kittler_illingworth, otsu
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

__all__ = ["CHANGE", "NODATA", "NO_CHANGE", "ChangeDetection"]

CHANGE, NO_CHANGE, NODATA = 1, 0, 255
_TWO_DATES = ("change detection compares two dates: give the earlier image as before= and "
              "the later one as after=")


class ChangeDetection(Tool):
    """Unsupervised change detection of two dates (IR-MAD or CVA) with an automatic threshold."""

    info = ToolInfo(
        name="change_detection", title="General change detection", title_zh="通用变化检测",
        description_zh=("无需训练模型，检测两期配准影像之间的变化，输出变化掩膜和变化多边形。"
                        "采用 IR-MAD 或变化向量分析，阈值自动确定（Otsu、Kittler–Illingworth "
                        "或卡方检验）。"),
        kind="ai", inputs=("raster_pair",), outputs=("raster", "vector"),
        resolution=(0.5, 2.0), gpu=False, version="1",
        description="Changes between two co-registered dates (3 or 4 bands, any size) without "
                    "a trained model: IR-MAD (iteratively reweighted multivariate alteration "
                    "detection) or change vector analysis, with an automatic threshold "
                    "(Otsu, Kittler–Illingworth, or IR-MAD's chi-square test); a change "
                    "mask and change polygons.")

    class Params(ToolParams):
        """Parameters of general change detection."""

        before: Any = raster_input(help="The earlier image (a file, a my-data or catalog "
                                        "item, or a DataArray)",
                                   help_zh="前时相影像（文件、我的数据或目录条目，或 DataArray）")
        after: Any = raster_input(help="The later image, on the same grid as the earlier one",
                                  help_zh="后时相影像，须与前时相在同一网格上")
        method: Literal["irmad", "cva"] = param(
            "irmad", help="IR-MAD (robust to different gains and atmosphere between dates) or "
                          "CVA (length of the standardised difference vector)",
            help_zh="IR-MAD（对两时相间的增益与大气差异稳健）或 CVA（标准化差值向量的长度）")
        threshold: Literal["otsu", "ki", "chi2"] = param(
            "otsu", help="Automatic threshold: Otsu, Kittler–Illingworth (minimum error), or "
                         "for IR-MAD the chi-square test at the given significance",
            help_zh="自动阈值：Otsu、Kittler–Illingworth（最小误差），或 IR-MAD 的卡方检验"
                    "（按显著性水平）", advanced=True)
        significance: float = param(
            0.001, gt=0, lt=0.5, help="Chi-square test: a pixel changed when its no-change "
                                      "probability is below this",
            help_zh="卡方检验：像元未变化概率低于此值即判为变化", advanced=True)
        iterations: int = param(
            10, ge=1, le=50, help="IR-MAD iterations at most (each reads both images once; 1 = "
                                  "plain MAD)",
            help_zh="IR-MAD 最大迭代次数（每次迭代读取两期影像一遍；1 为普通 MAD）", advanced=True)
        smoothing: int = param(
            0, ge=0, le=10, help="Average the change statistic over a (2r+1)² window of this "
                                 "radius r in pixels (0 = none)",
            help_zh="在半径 r（像元）的 (2r+1)² 窗口内平均变化统计量（0 为不平滑）", advanced=True)
        align: Literal["refuse", "reproject"] = param(
            "refuse", help='Dates on different grids: "refuse", or "reproject" the later image '
                           "onto the earlier one's grid",
            help_zh="两期网格不同时：拒绝（refuse），或将后时相重投影到前时相网格（reproject）")
        min_area_m2: float = param(10.0, ge=0, help="Smallest change polygon kept (m²)",
                                   help_zh="保留的最小变化图斑面积（平方米）")
        polygons: bool = param(True, help="Also make the change polygons",
                               help_zh="同时生成变化图斑矢量")
        chunk: int = param(1024, ge=64, le=8192,
                           help="Processing block size in pixels (memory per block)",
                           help_zh="分块处理的块大小（像素，决定内存占用）", advanced=True)

        @model_validator(mode="before")
        @classmethod
        def _two_dates(cls, data: Any) -> Any:
            """Say plainly what is missing when one image (or an ``image=``) is given."""
            if not isinstance(data, dict):
                return data
            given = [key for key in ("image", "images", "input") if key in data]
            missing = [key for key in ("before", "after") if data.get(key) is None]
            if given or missing:
                got = (f"it got {given[0]}=" if given else
                       f"only {'after' if 'before' in missing else 'before'}= was given"
                       if len(missing) == 1 else "no image was given")
                raise ValueError(f"{_TWO_DATES} ({got})")
            before, after = data["before"], data["after"]
            if before is after or (isinstance(before, str) and before == after):
                raise ValueError(f"before and after are the same image ({before!r}); "
                                 f"{_TWO_DATES}")
            if data.get("threshold") == "chi2" and data.get("method") == "cva":
                raise ValueError('threshold="chi2" is IR-MAD\'s test; with method="cva" use '
                                 '"otsu" or "ki"')
            return data

    def run(self, params: Any, context: RunContext) -> ToolOutput:
        """Fit the change statistic on both dates, threshold it, and map the changes."""
        context.progress(2, "opening the two dates")
        before, after, notes = two_dates(params.before, params.after, context,
                                         align=params.align)
        bands = int(before.sizes["band"])
        extra: dict[str, Any] = {"method": params.method, "bands": bands,
                                 "pixel_size_m": round(pixel_size_m(before), 4), **notes}
        warning = resolution_warning(before, self.info.resolution, tool="change detection")
        if warning:
            extra["warning"] = warning
        stack = as_stack(before, after, params.chunk)
        statistic_of = self._fit(stack, params, context, extra)
        radius = params.smoothing

        def statistic(block: np.ndarray) -> np.ndarray:
            return box_mean(statistic_of(block), radius)[None].astype("float32")

        pair = xr.DataArray(stack, dims=("band", "y", "x"),
                            coords={"band": np.arange(1, 2 * bands + 1), "y": before.y,
                                    "x": before.x})
        pair = pair.rio.write_crs(before.rio.crs).rio.write_transform(before.rio.transform())
        values = tiled(pair, statistic, depth=radius, bands=1, dtype="float32",
                       chunk=params.chunk)
        context.progress(70, "choosing the threshold")
        cut, share = self._threshold(values, params, bands, extra)
        finite = np.isfinite(values)
        mask = xr.where(finite, (values > cut).astype("uint8"), np.uint8(NODATA)).astype("uint8")
        mask = mask.rio.write_crs(before.rio.crs).rio.write_transform(before.rio.transform())
        extra |= {"threshold": float(cut), "changed_share": round(share, 6),
                  "legend": {CHANGE: "change", NO_CHANGE: "no change", NODATA: "no data"},
                  "legend_zh": {CHANGE: "变化", NO_CHANGE: "未变化", NODATA: "无数据"}}
        follow = polygons_follow(classes={CHANGE: "change"}, name="change_polygons",
                                 min_area=params.min_area_m2) if params.polygons else None
        return ToolOutput(raster=mask, name="change", band_names=("change",), nodata=NODATA,
                          extra=extra, follow=follow)

    def _fit(self, stack: Any, params: Any, context: RunContext,
             extra: dict[str, Any]) -> Any:
        """Fit IR-MAD or CVA; returns the per-chunk statistic function."""
        try:
            if params.method == "cva":
                context.progress(10, "CVA: the spread of the differences")
                cva = cva_fit(stack)
                extra |= {"statistic": "standardised change-vector magnitude",
                          "difference_mean": [round(float(v), 6) for v in cva.mean],
                          "difference_std": [round(float(v), 6) for v in cva.std],
                          "valid_pixels": cva.count}
                return cva.magnitude

            def report(number: int, rho: np.ndarray) -> None:
                context.progress(5 + 55 * number / params.iterations,
                                 f"IR-MAD iteration {number}: canonical correlations "
                                 + ", ".join(f"{r:.3f}" for r in rho))

            fit = irmad_fit(stack, iterations=params.iterations, progress=report)
            context.progress(62, "IR-MAD: the spread of the unchanged pixels")
            fit = calibrate(stack, fit)
        except ValueError as error:
            raise InputError(f"change detection: {error}") from None
        extra |= {"statistic": "IR-MAD change magnitude √Z (Z: the chi-square statistic, the "
                               "sum of the squared standardised MAD variates)",
                  "canonical_correlations": [round(float(r), 6) for r in fit.rho],
                  "mad_variances": [round(float(v), 6) for v in fit.variance],
                  "iterations": fit.iterations, "converged": fit.converged,
                  "valid_pixels": fit.count}
        return lambda block: np.sqrt(fit.chi2(block))

    def _threshold(self, values: xr.DataArray, params: Any, bands: int,
                   extra: dict[str, Any]) -> tuple[float, float]:
        """The threshold and the share of valid pixels above it (one or two passes)."""
        data = values.data
        extra["threshold_method"] = params.threshold
        if params.threshold == "chi2":
            cut = float(np.sqrt(chi2.ppf(1.0 - params.significance, bands)))
            extra["significance"] = params.significance
            changed, valid = dask.compute((data > cut).sum(), np.isfinite(data).sum())
            if int(valid) == 0:
                raise InputError("change detection: no pixel has valid data on both dates")
            return cut, float(changed) / float(valid)
        try:
            histogram = chunk_histogram(data)
        except ValueError:
            raise InputError("change detection: no pixel has valid data on both dates"
                             ) from None
        pick = otsu if params.threshold == "otsu" else kittler_illingworth
        cut = pick(histogram.counts, histogram.edges)
        if params.method == "irmad":  # Otsu / KI split any histogram, pure noise included
            floor = float(np.sqrt(chi2.ppf(0.95, bands)))
            if cut < floor:
                extra["threshold_note"] = (f"the {params.threshold} cut {cut:.3g} was raised "
                                           "to the 95 % chi-square quantile: pixels a "
                                           "chi-square test calls unchanged stay unchanged")
                cut = floor
        return cut, histogram.share_above(cut)
