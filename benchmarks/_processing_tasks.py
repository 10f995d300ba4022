"""One measurement of ``processing.py``, run alone in a fresh process.

``python benchmarks/_processing_tasks.py TASK JSON_ARGS`` runs ``TASK`` and prints one JSON
line (``RESULT {...}``) with its timings, the peak resident memory of each stage (Linux
``VmHWM``, reset between stages through ``/proc/self/clear_refs``) and what it made. The
parent also polls the process's ``VmHWM``, so a peak never mixes with another measurement's.

terralab's ``save=True`` path is run in its steps, as :func:`terralab.tools.runner.run_tool`
does them: the tool (``save=False``: the lazy output), :func:`write_output` (the GeoTIFF,
streamed), :func:`publish_result` (copy, statistics, COG, thumbnail, catalog record). The
publish steps are timed by wrapping the functions it calls (no terralab code is changed).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

USER = "bench"
TIMES: dict[str, float] = {}


def _status(key: str) -> int:
    """``VmHWM`` / ``VmRSS`` of this process in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> None:
    with contextlib.suppress(OSError):  # resets VmHWM to the current RSS
        Path("/proc/self/clear_refs").write_text("5")


class Stages:
    """Wall time and peak RSS per stage."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, float]] = {}
        self.baseline = _status("VmRSS")

    def run(self, name: str, func: Callable[[], Any]) -> Any:
        _reset_peak()
        start = time.perf_counter()
        value = func()
        self.rows[name] = {"seconds": time.perf_counter() - start, "peak_rss": _status("VmHWM")}
        return value


def _timed(module: Any, attr: str, key: str) -> None:
    """Wrap ``module.attr`` so that its calls add their time to ``TIMES[key]``."""
    original = getattr(module, attr)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            TIMES[key] = TIMES.get(key, 0.0) + time.perf_counter() - start

    setattr(module, attr, wrapper)


def _instrument_publish() -> None:
    import terralab.mydata.raster_publish as publish
    import terralab.mydata.results as results

    _timed(results.shutil, "copyfile", "copy")
    _timed(publish, "inspect_raster", "inspect")
    _timed(publish, "raster_statistics", "statistics")
    _timed(publish, "rio_copy", "cog")
    _timed(publish, "_thumbnail", "thumbnail")


def _graph_size(output: Any) -> int:
    return len(output.raster.data.__dask_graph__())


def _write_with(output: Any, folder: Path, extra: dict[str, Any]) -> Path:
    """``outputs._write_raster`` with more creation options (an experiment, not terralab)."""
    data = output.raster.expand_dims(band=[1]) if "band" not in output.raster.dims \
        else output.raster
    data = data.transpose("band", "y", "x").rio.write_nodata(output.nodata, encoded=False)
    options = {"tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "DEFLATE",
               "BIGTIFF": "IF_SAFER", "photometric": "MINISBLACK", **extra}
    if output.band_names:
        data.attrs["long_name"] = tuple(output.band_names)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{output.name}.tif"
    data.rio.to_raster(target, lock=threading.Lock(), windowed=True, **options)
    return target


class _Sink:
    """A ``da.store`` target that keeps nothing (compute without writing)."""

    def __setitem__(self, key: Any, value: np.ndarray) -> None:
        pass


def task_tool(a: dict[str, Any]) -> dict[str, Any]:
    """Run a terralab tool; write its GeoTIFF (``mode``: write, publish, threads, compute)."""
    import dask.array as da

    from terralab.tools.outputs import write_output
    from terralab.tools.runner import run_tool

    home, out = Path(a["home"]), Path(a["out"])
    stages = Stages()
    result = stages.run("tool", lambda: run_tool(a["tool"], user=USER, home=home, save=False,
                                                 **a["params"]))
    output = result.output
    info: dict[str, Any] = {"tasks": _graph_size(output), "shape": list(output.raster.shape),
                            "extra": {k: str(v) for k, v in result.extra.items()}}
    if a["mode"] == "compute":
        stages.run("compute", lambda: da.store(output.raster.data, _Sink(), lock=False))
    elif a["mode"] in ("threads", "band"):
        extra = {"num_threads": 2} if a["mode"] == "threads" else {"interleave": "band"}
        path = stages.run("write", lambda: _write_with(output, out, extra))
        info["bytes"] = path.stat().st_size
    else:
        path = stages.run("write", lambda: write_output(output, out))
        info["bytes"] = path.stat().st_size
        info["path"] = str(path)
        if a["mode"] == "publish":
            from terralab.mydata.results import publish_result

            _instrument_publish()
            record = stages.run("publish", lambda: publish_result(
                USER, path, tool=a["tool"], title="bench", home=home))
            cog = Path(record.item["assets"]["data"]["href"])
            info["cog"] = str(cog)
            info["cog_bytes"] = cog.stat().st_size
            info["publish_parts"] = dict(TIMES)
    grid = output.raster.rio
    info["grid"] = {"crs": grid.crs.to_string(), "transform": list(grid.transform())[:6],
                    "width": grid.width, "height": grid.height}
    return {"stages": stages.rows, "baseline_rss": stages.baseline, **info}


def task_big(a: dict[str, Any]) -> dict[str, Any]:
    """NDVI with saving (tool, GeoTIFF, publishing), its results deleted, then the upload of
    the input image, one after the other in this one process."""
    from terralab.mydata.library import delete_item
    from terralab.mydata.results import publish_result
    from terralab.mydata.uploads import upload_file
    from terralab.tools.outputs import write_output
    from terralab.tools.runner import run_tool

    home, out = Path(a["home"]), Path(a["out"])
    _instrument_publish()
    stages = Stages()
    result = stages.run("tool", lambda: run_tool("index", user=USER, home=home, save=False,
                                                 **a["params"]))
    path = stages.run("write", lambda: write_output(result.output, out))
    info: dict[str, Any] = {"ndvi_bytes": path.stat().st_size}
    record = stages.run("publish", lambda: publish_result(USER, path, tool="index",
                                                          title="bench", home=home))
    info["ndvi_cog_bytes"] = Path(record.item["assets"]["data"]["href"]).stat().st_size
    info["publish_parts"] = dict(TIMES)
    delete_item(USER, record.id, home=home)
    path.unlink()
    TIMES.clear()
    upload = stages.run("upload", lambda: upload_file(a["src"], owner=USER, title="big",
                                                      home=home))
    info["upload_cog_bytes"] = Path(upload.item["assets"]["data"]["href"]).stat().st_size
    info["upload_parts"] = dict(TIMES)
    delete_item(USER, upload.id, home=home)
    return {"stages": stages.rows, "baseline_rss": stages.baseline, **info}


def task_publish(a: dict[str, Any]) -> dict[str, Any]:
    """``publish_raster`` of a plain tiled GeoTIFF into a folder."""
    from terralab.mydata.raster_publish import publish_raster
    from terralab.mydata.results import RESULT_LIMITS

    _instrument_publish()
    stages = Stages()
    published = stages.run("publish", lambda: publish_raster(a["src"], a["out"], RESULT_LIMITS))
    return {"stages": stages.rows, "baseline_rss": stages.baseline, "parts": dict(TIMES),
            "cog": str(published.cog), "cog_bytes": published.cog.stat().st_size}


def task_rio_cog(a: dict[str, Any]) -> dict[str, Any]:
    """rasterio's own GDAL: the plain file to a COG with terralab's options (no VRT)."""
    from rasterio.shutil import copy as rio_copy

    from terralab.mydata.raster_publish import _COG_OPTIONS

    stages = Stages()
    stages.run("cog", lambda: rio_copy(a["src"], a["out"], driver="COG", **_COG_OPTIONS))
    return {"stages": stages.rows, "baseline_rss": stages.baseline,
            "cog_bytes": Path(a["out"]).stat().st_size}


def _ndvi_loop(src_path: str, out_path: str) -> int:
    import rasterio

    with rasterio.open(src_path) as src:
        profile = {"driver": "GTiff", "width": src.width, "height": src.height, "count": 1,
                   "dtype": "float32", "crs": src.crs, "transform": src.transform,
                   "nodata": float("nan"), "tiled": True, "blockxsize": 512,
                   "blockysize": 512, "compress": "DEFLATE", "predictor": 3,
                   "BIGTIFF": "IF_SAFER", "photometric": "MINISBLACK"}  # terralab's codec
        with rasterio.open(out_path, "w", **profile) as dst:
            count = 0
            for _, window in dst.block_windows(1):
                red, nir = src.read([1, 4], window=window).astype("float32")
                total = nir + red
                with np.errstate(divide="ignore", invalid="ignore"):
                    ndvi = np.where(total != 0, (nir - red) / total, np.nan)
                dst.write(ndvi.astype("float32"), 1, window=window)
                count += 1
    return count


def task_ndvi_loop(a: dict[str, Any]) -> dict[str, Any]:
    """The plain rasterio loop: read red and NIR block by block, write NDVI."""
    stages = Stages()
    blocks = stages.run("write", lambda: _ndvi_loop(a["src"], a["out"]))
    return {"stages": stages.rows, "baseline_rss": stages.baseline, "blocks": blocks,
            "bytes": Path(a["out"]).stat().st_size}


def task_memcopy(a: dict[str, Any]) -> dict[str, Any]:
    """Best of ``rounds`` ``np.copyto`` of a ``mib``-MiB array (both arrays touched first)."""
    size = a["mib"] * 2**20
    src = np.ones(size, dtype=np.uint8)
    dst = np.zeros(size, dtype=np.uint8)
    best = float("inf")
    for _ in range(a["rounds"]):
        start = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - start)
    return {"bytes": size, "seconds": best, "gb_per_s": size / best / 1e9}


def _windows(path: str) -> Any:
    import rasterio

    with rasterio.open(path) as src:
        for _, window in src.block_windows(1):
            yield window


def task_compare(a: dict[str, Any]) -> dict[str, Any]:
    """Compare two rasters on the same grid, block by block."""
    import rasterio

    with rasterio.open(a["a"]) as one, rasterio.open(a["b"]) as two:
        same_grid = (one.shape == two.shape and one.count == two.count
                     and one.transform.almost_equals(two.transform) and one.crs == two.crs)
        if not same_grid:
            return {"same_grid": False, "a": [one.shape, list(one.transform)[:6]],
                    "b": [two.shape, list(two.transform)[:6]]}
        total = equal = within1 = nan_mismatch = zero_mismatch = 0
        max_diff = 0.0
        for window in _windows(a["a"]):
            x = one.read(window=window).astype("float64")
            y = two.read(window=window).astype("float64")
            nan_x, nan_y = np.isnan(x), np.isnan(y)
            nan_mismatch += int((nan_x != nan_y).sum())
            zero_mismatch += int(((x == 0) != (y == 0)).sum())
            both = ~(nan_x | nan_y)
            diff = np.abs(x - y)[both]
            total += x.size
            equal += int((diff == 0).sum()) + int((nan_x & nan_y).sum())
            within1 += int((diff <= a.get("tolerance", 1)).sum()) + int((nan_x & nan_y).sum())
            if diff.size:
                max_diff = max(max_diff, float(diff.max()))
    return {"same_grid": True, "pixels": total, "equal": equal / total,
            "within": within1 / total, "max_diff": max_diff, "nan_mismatch": nan_mismatch,
            "zero_mismatch": zero_mismatch}


TASKS = {"tool": task_tool, "big": task_big, "publish": task_publish, "rio_cog": task_rio_cog,
         "ndvi_loop": task_ndvi_loop, "memcopy": task_memcopy, "compare": task_compare}


def main() -> None:
    import warnings

    warnings.filterwarnings("ignore", category=UserWarning)
    name, arguments = sys.argv[1], json.loads(sys.argv[2])
    result = TASKS[name](arguments)
    result["pid"] = os.getpid()
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
