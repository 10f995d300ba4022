"""Processing tools benchmark: terralab's reproject, publish and index against GDAL and rasterio.

Makes one seeded 4-band uint16 image (default 10,000 × 10,000 pixels of 10 m in UTM 50N; see
``_processing_data.py``) as a plain tiled GeoTIFF and as a COG, then, each measurement alone
in a fresh process (``_processing_tasks.py``; peak memory: the process's ``VmHWM``, polled,
and per stage):

1. **reproject** the COG to EPSG:3857 (bilinear): terralab's ``reproject`` tool
   (``run_tool(save=False)`` then ``write_output``, i.e. the GeoTIFF ``save=True`` writes,
   then ``publish_result``, the COG in my data, timed apart) against Debian's ``gdalwarp
   -multi -wo NUM_THREADS=2 -r bilinear`` onto the same grid (``-te``/``-ts`` from terralab's
   grid), writing the same GeoTIFF (512-pixel tiles, DEFLATE) — and ``gdalwarp -of COG``,
   the one-step way to the same end product. The two GeoTIFFs are compared pixel by pixel.
2. **COG writing**: ``publish_raster`` of the plain tiled GeoTIFF against ``gdal_translate
   -of COG -co NUM_THREADS=ALL_CPUS`` with terralab's COG options (and rasterio's own GDAL
   doing the same copy, to tell GDAL versions apart from terralab's extra work).
3. **NDVI** of the COG: the ``index`` tool (``band_map={"nir": 4, "red": 1}``) written as
   ``save=True`` writes it, against a plain rasterio loop over the output's 512-pixel blocks
   writing the same GeoTIFF; both against the machine's memory-copy bandwidth.
4. **A big real file** (``--big``, default 50,000 × 50,000 × 4 bands uint8, ~3 GB of
   DEFLATE, generated block by block): in one fresh process, NDVI with saving (the tool, the
   GeoTIFF, publishing: statistics, COG, thumbnail), its results deleted, then the upload of
   the image (checks and publishing) — each stage's time and peak RSS, and the process's peak
   — against ``gdal_calc.py`` + ``gdal_translate -of COG`` for the NDVI and ``gdal_translate
   -of COG`` for the upload (Debian's GDAL, same codec, predictor and block size).

Run from the repository root (``make bench-deps`` installs Debian's ``gdal-bin``)::

    .venv/bin/python benchmarks/processing.py                        # the full run
    .venv/bin/python benchmarks/processing.py --size 2048 --big 4096  # a quick check
    .venv/bin/python benchmarks/processing.py --parts 4 --workdir /var/tmp/bench --keep
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _processing_data import make_big_image, make_image  # noqa: E402
from _run import hardware  # noqa: E402

MIB = 2**20
COG_OPTIONS = ["COMPRESS=DEFLATE", "PREDICTOR=YES", "OVERVIEW_RESAMPLING=AVERAGE",
               "BLOCKSIZE=512", "BIGTIFF=IF_SAFER", "NUM_THREADS=ALL_CPUS"]
# what terralab writes a uint16 result with (terralab.raster_codecs: DEFLATE, predictor 2, on
# every core), so the peer writes the same codec, level, predictor and block size
TIFF_OPTIONS = ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", "COMPRESS=DEFLATE",
                "PREDICTOR=2", "NUM_THREADS=ALL_CPUS", "BIGTIFF=IF_SAFER",
                "PHOTOMETRIC=MINISBLACK"]


def _peak_while(pid: int, stop: threading.Event, peak: list[int]) -> None:
    """Poll the child's ``VmHWM`` (per address space, so not inherited across fork+exec)."""
    status = Path(f"/proc/{pid}/status")
    while not stop.is_set():
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak[0] = max(peak[0], int(line.split()[1]) * 1024)
        except OSError:
            return
        stop.wait(0.02)


def _run(cmd: list[str]) -> tuple[float, int, str]:
    """Run ``cmd``; return its wall time, its peak RSS (bytes, polled ``VmHWM``), its stdout.

    ``wait4``'s ``ru_maxrss`` is not used: on Linux it keeps the RSS the child had between
    fork and exec, i.e. this (parent) process's.
    """
    start = time.perf_counter()
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    stop, peak = threading.Event(), [0]
    poller = threading.Thread(target=_peak_while, args=(process.pid, stop, peak), daemon=True)
    poller.start()
    out, _ = process.communicate()
    seconds = time.perf_counter() - start
    stop.set()
    poller.join()
    if process.returncode:
        raise RuntimeError(f"{cmd[0]} failed ({process.returncode}): {' '.join(cmd)}")
    return seconds, peak[0], out


def child(task: str, **arguments: Any) -> dict[str, Any]:
    """Run one measurement in a fresh Python process."""
    cmd = [sys.executable, str(HERE / "_processing_tasks.py"), task, json.dumps(arguments)]
    seconds, peak, out = _run(cmd)
    line = next(x for x in reversed(out.splitlines()) if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT "):])
    result.update(process_seconds=seconds, process_peak=peak)
    return result


def cli(cmd: list[str]) -> dict[str, Any]:
    seconds, peak, _ = _run(cmd)
    return {"seconds": seconds, "process_peak": peak}


def _versions() -> str:
    import dask
    import numpy
    import rasterio
    import rioxarray
    import xarray

    gdal_cli = subprocess.run(["gdalinfo", "--version"], capture_output=True, text=True,
                              check=False).stdout.strip() or "gdal-bin missing"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False, cwd=HERE).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "kernels_lib"],
                           capture_output=True, text=True, check=False, cwd=HERE).stdout
    return (f"{hardware()}; Python "
            f"{platform.python_version()}, numpy {numpy.__version__}, dask {dask.__version__}, "
            f"xarray {xarray.__version__}, rioxarray {rioxarray.__version__}, rasterio "
            f"{rasterio.__version__} (wheel GDAL {rasterio.__gdal_version__}); CLI: "
            f"{gdal_cli}; terralab commit {commit}"
            f"{' + uncommitted kernels_lib changes' if dirty else ''}")


def _mib(value: float) -> str:
    return f"{value / MIB:,.0f} MiB"


def _row(*cells: Any) -> None:
    print("| " + " | ".join(str(c) for c in cells) + " |")


def _stage(result: dict[str, Any], name: str) -> float:
    return result["stages"][name]["seconds"]


def _grid_args(grid: dict[str, Any]) -> list[str]:
    a, _, c, _, e, f = grid["transform"]
    width, height = grid["width"], grid["height"]
    return ["-t_srs", grid["crs"], "-te", repr(c), repr(f + e * height), repr(c + a * width),
            repr(f), "-ts", str(width), str(height)]


def bench_reproject(work: Path, cog: Path, pixels: int) -> None:
    print("\n## 1. reproject: UTM 50N → EPSG:3857, bilinear\n")
    ours = child("tool", tool="reproject", home=str(work / "home"), out=str(work / "reproj"),
                 mode="publish", params={"image": str(cog), "crs": "EPSG:3857",
                                         "resampling": "bilinear"})
    grid = ours["grid"]
    warp = ["gdalwarp", "-q", "-overwrite", "-multi", "-wo", "NUM_THREADS=2", "-r", "bilinear",
            "-dstnodata", "0", *_grid_args(grid)]
    tif = work / "gdalwarp.tif"
    peer = cli([*warp, *[x for o in TIFF_OPTIONS for x in ("-co", o)], str(cog), str(tif)])
    peer_cog = cli([*warp, "-of", "COG", *[x for o in COG_OPTIONS for x in ("-co", o)],
                    str(cog), str(work / "gdalwarp-cog.tif")])
    band = child("tool", tool="reproject", home=str(work / "home"), out=str(work / "reproj-b"),
                 mode="band", params={"image": str(cog), "crs": "EPSG:3857",
                                      "resampling": "bilinear"})
    check = child("compare", a=ours["path"], b=str(tif), tolerance=1)
    tool, write, publish = (_stage(ours, s) for s in ("tool", "write", "publish"))
    parts = ours["publish_parts"]
    print(f"output grid {grid['width']} × {grid['height']} in {grid['crs']} "
          f"({ours['tasks']:,} dask tasks); input {pixels / 1e6:,.0f} Mpixel × 4 bands\n")
    _row("engine", "seconds", "ratio to GDAL", "peak RSS", "output")
    _row("---", "---:", "---:", "---:", "---:")
    _row("terralab reproject → GeoTIFF (tool + write_output)", f"{tool + write:.1f}",
         f"**{(tool + write) / peer['seconds']:.2f}×**", _mib(ours["stages"]["write"]["peak_rss"]),
         _mib(ours["bytes"]))
    _row("gdalwarp → GeoTIFF (the peer)", f"{peer['seconds']:.1f}", "1.00×",
         _mib(peer["process_peak"]), _mib(tif.stat().st_size))
    _row("terralab reproject → GeoTIFF with INTERLEAVE=BAND (experiment)",
         f"{_stage(band, 'tool') + _stage(band, 'write'):.1f}",
         f"{(_stage(band, 'tool') + _stage(band, 'write')) / peer['seconds']:.2f}×",
         _mib(band["stages"]["write"]["peak_rss"]), _mib(band["bytes"]))
    _row("terralab publish_result (GeoTIFF → COG in my data)", f"{publish:.1f}", "",
         _mib(ours["stages"]["publish"]["peak_rss"]), _mib(ours["cog_bytes"]))
    _row("terralab total (reproject with save=True)", f"{tool + write + publish:.1f}",
         f"**{(tool + write + publish) / peer_cog['seconds']:.2f}×** of gdalwarp -of COG",
         _mib(ours["process_peak"]), "")
    _row("gdalwarp -of COG (one step)", f"{peer_cog['seconds']:.1f}", "1.00×",
         _mib(peer_cog["process_peak"]),
         _mib((work / "gdalwarp-cog.tif").stat().st_size))
    print(f"\nterralab stages: tool (graph) {tool:.2f} s, write {write:.1f} s, publish "
          f"{publish:.1f} s = " + ", ".join(f"{k} {v:.1f} s" for k, v in parts.items())
          + f"; process baseline RSS after imports {_mib(ours['baseline_rss'])}")
    _print_check("terralab vs gdalwarp GeoTIFF (±1 DN)", check)
    for name in ("gdalwarp.tif", "gdalwarp-cog.tif"):
        (work / name).unlink()
    for name in ("reproj", "reproj-b"):
        shutil.rmtree(work / name, ignore_errors=True)


def _print_check(label: str, check: dict[str, Any]) -> None:
    if not check["same_grid"]:
        print(f"check {label}: GRIDS DIFFER {check}")
        return
    print(f"check {label}: {check['equal']:.4%} of values equal, {check['within']:.4%} "
          f"within tolerance, max |diff| {check['max_diff']:g}, NaN mismatches "
          f"{check['nan_mismatch']:,}, nodata (0) mismatches {check['zero_mismatch']:,}")


def bench_cog(work: Path, plain: Path, pixels: int) -> None:
    print("\n## 2. COG writing: plain tiled GeoTIFF (DEFLATE, 512) → COG\n")
    ours = child("publish", src=str(plain), out=str(work / "published"))
    target = work / "translate.tif"
    peer = cli(["gdal_translate", "-q", "-of", "COG",
                *[x for o in COG_OPTIONS for x in ("-co", o)], str(plain), str(target)])
    wheel = child("rio_cog", src=str(plain), out=str(work / "rio-cog.tif"))
    publish = _stage(ours, "publish")
    parts = ours["parts"]
    _row("engine", "seconds", "ratio to gdal_translate", "peak RSS", "COG size")
    _row("---", "---:", "---:", "---:", "---:")
    _row("terralab publish_raster (checks + statistics + COG + thumbnail)", f"{publish:.1f}",
         f"**{publish / peer['seconds']:.2f}×**", _mib(ours["process_peak"]),
         _mib(ours["cog_bytes"]))
    _row("… of which the COG write (rasterio's GDAL, through a VRT)", f"{parts['cog']:.1f}",
         f"{parts['cog'] / peer['seconds']:.2f}×", "", "")
    _row("gdal_translate -of COG (the peer, Debian GDAL)", f"{peer['seconds']:.1f}", "1.00×",
         _mib(peer["process_peak"]), _mib(target.stat().st_size))
    _row("rasterio copy to COG (wheel GDAL, same options; information)",
         f"{_stage(wheel, 'cog'):.1f}", f"{_stage(wheel, 'cog') / peer['seconds']:.2f}×",
         _mib(wheel["process_peak"]), _mib(wheel["cog_bytes"]))
    print("\npublish parts: " + ", ".join(f"{k} {v:.2f} s" for k, v in parts.items())
          + f"; {pixels * 4 / 1e6 / publish:,.0f} Mvalues/s overall")
    target.unlink()
    (work / "rio-cog.tif").unlink()
    shutil.rmtree(work / "published", ignore_errors=True)


def bench_ndvi(work: Path, cog: Path, pixels: int, memcopy: dict[str, Any]) -> None:
    print("\n## 3. NDVI of the 4-band COG, written as a float32 GeoTIFF\n")
    params = {"image": str(cog), "index": "ndvi", "band_map": {"nir": 4, "red": 1}}
    home = str(work / "home")
    ours = child("tool", tool="index", home=home, out=str(work / "ndvi"), mode="write",
                 params=params)
    loop = child("ndvi_loop", src=str(cog), out=str(work / "loop.tif"))
    compute = child("tool", tool="index", home=home, out=str(work / "ndvi-c"), mode="compute",
                    params=params)
    threads = child("tool", tool="index", home=home, out=str(work / "ndvi-t"), mode="threads",
                    params=params)
    check = child("compare", a=ours["path"], b=str(work / "loop.tif"), tolerance=1e-6)
    peer = _stage(loop, "write")
    bandwidth = memcopy["gb_per_s"]
    _row("engine", "seconds", "Mpixel/s", "loop / this", "8 B/pixel vs memcpy", "peak RSS")
    _row("---", "---:", "---:", "---:", "---:", "---:")

    def line(label: str, seconds: float, peak: int) -> None:
        rate = pixels / seconds
        _row(label, f"{seconds:.1f}", f"{rate / 1e6:.1f}", f"{peer / seconds:.2f}×",
             f"{rate * 8 / 1e9 / bandwidth:.1%}", _mib(peak))

    line("**terralab index → GeoTIFF** (tool + write_output)",
         _stage(ours, "tool") + _stage(ours, "write"), ours["process_peak"])
    line("rasterio block loop → GeoTIFF (the peer, 1 thread)", peer, loop["process_peak"])
    line("terralab index, computed but not written (information)",
         _stage(compute, "tool") + _stage(compute, "compute"), compute["process_peak"])
    line("terralab index, GeoTIFF with NUM_THREADS=2 (experiment)",
         _stage(threads, "tool") + _stage(threads, "write"), threads["process_peak"])
    print(f"\nmemory copy: {bandwidth:.1f} GB/s (np.copyto of {memcopy['bytes'] / MIB:,.0f} MiB, "
          f"best of 5; 'vs memcpy' counts 8 bytes a pixel: two uint16 bands in, float32 out)")
    _print_check("terralab vs rasterio loop NDVI (±1e-6)", check)
    for name in ("ndvi", "ndvi-c", "ndvi-t"):
        shutil.rmtree(work / name, ignore_errors=True)
    (work / "loop.tif").unlink()


GOAL_PEAK = 1.5e9  # bytes: the whole process, NDVI with saving then the upload
GOAL_RATIO = 1.2  # terralab's wall time over the GDAL command lines


def bench_big(work: Path, size: int, seed: int) -> None:
    print(f"\n## 4. A big real file: {size:,}² × 4 bands uint8, NDVI with saving, then the "
          "upload\n")
    image = work / f"big-{size}.tif"
    if not image.is_file():
        start = time.perf_counter()
        make_big_image(image, size, seed)
        print(f"made the image in {time.perf_counter() - start:.0f} s: "
              f"{_mib(image.stat().st_size)} (DEFLATE, predictor 2, 512-pixel tiles)\n")
    ours = child("big", home=str(work / "home"), out=str(work / "big-out"), src=str(image),
                 params={"image": str(image), "index": "ndvi",
                         "band_map": {"nir": 4, "red": 1}})
    shutil.rmtree(work / "big-out", ignore_errors=True)
    cogs = ["-co", "COMPRESS=DEFLATE", "-co", "BLOCKSIZE=512", "-co", "NUM_THREADS=ALL_CPUS",
            "-co", "BIGTIFF=YES", "-co", "OVERVIEW_RESAMPLING=AVERAGE"]
    calc = cli(["gdal_calc.py", "--quiet", "-A", str(image), "--A_band=4", "-B", str(image),
                "--B_band=1", "--calc=(A.astype(numpy.float32)-B)/(A.astype(numpy.float32)+B)",
                "--type=Float32", "--NoDataValue=nan", "--overwrite",
                "--outfile", str(work / "calc.tif"),
                *[x for o in ("TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512",
                              "COMPRESS=DEFLATE", "PREDICTOR=3", "NUM_THREADS=ALL_CPUS",
                              "BIGTIFF=YES") for x in ("--co", o)]])
    calc_cog = cli(["gdal_translate", "-q", "-of", "COG", *cogs, "-co", "PREDICTOR=FLOATING_POINT",
                    str(work / "calc.tif"), str(work / "calc-cog.tif")])
    for name in ("calc.tif", "calc-cog.tif"):
        (work / name).unlink()
    upload_cog = cli(["gdal_translate", "-q", "-of", "COG", *cogs, "-co", "PREDICTOR=YES",
                      str(image), str(work / "upload-cog.tif")])
    (work / "upload-cog.tif").unlink()
    stages = ours["stages"]
    ndvi = sum(stages[name]["seconds"] for name in ("tool", "write", "publish"))
    peer_ndvi = calc["seconds"] + calc_cog["seconds"]
    _row("stage", "terralab s", "terralab peak RSS", "peer", "peer s", "peer peak RSS",
         "terralab / peer")
    _row("---", "---:", "---:", "---", "---:", "---:", "---:")
    for name in ("tool", "write", "publish"):
        _row(f"NDVI: {name}", f"{stages[name]['seconds']:.1f}",
             _mib(stages[name]["peak_rss"]), "", "", "", "")
    _row("**NDVI with saving**", f"**{ndvi:.1f}**",
         _mib(max(stages[n]["peak_rss"] for n in ("tool", "write", "publish"))),
         "gdal_calc.py + gdal_translate -of COG",
         f"{calc['seconds']:.1f} + {calc_cog['seconds']:.1f}",
         _mib(max(calc["process_peak"], calc_cog["process_peak"])),
         f"**{ndvi / peer_ndvi:.2f}×**")
    upload = stages["upload"]["seconds"]
    _row("**upload of the image**", f"**{upload:.1f}**", _mib(stages["upload"]["peak_rss"]),
         "gdal_translate -of COG", f"{upload_cog['seconds']:.1f}",
         _mib(upload_cog["process_peak"]), f"**{upload / upload_cog['seconds']:.2f}×**")
    peak = ours["process_peak"]
    print(f"\nthe whole terralab process: peak RSS **{_mib(peak)}** (goal < "
          f"{GOAL_PEAK / 1e9:.1f} GB: {'met' if peak < GOAL_PEAK else 'NOT met'}); wall time "
          f"{ours['process_seconds']:.0f} s with start-up and the deletes; NDVI "
          f"{ndvi / peer_ndvi:.2f}× and upload {upload / upload_cog['seconds']:.2f}× the GDAL "
          f"command lines (goal ≤ {GOAL_RATIO}×)")
    print("publishing the NDVI: " + ", ".join(f"{k} {v:.1f} s"
                                              for k, v in ours["publish_parts"].items()))
    print("the upload: " + ", ".join(f"{k} {v:.1f} s" for k, v in ours["upload_parts"].items()))
    print(f"sizes: NDVI GeoTIFF {_mib(ours['ndvi_bytes'])}, its COG "
          f"{_mib(ours['ndvi_cog_bytes'])}, the upload's COG {_mib(ours['upload_cog_bytes'])}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10000, help="image width and height")
    parser.add_argument("--big", type=int, default=50000,
                        help="width and height of part 4's big image")
    parser.add_argument("--parts", default="1,2,3,4", help="which parts to run")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--workdir", type=Path, help="default: a temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the workdir")
    args = parser.parse_args(argv)
    if shutil.which("gdalwarp") is None:
        print("gdalwarp is missing: `make bench-deps` (Debian's gdal-bin)", file=sys.stderr)
        return 1
    temporary = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="terralab-processing-")) if temporary \
        else args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"terralab processing benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {_versions()}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    start = time.perf_counter()
    try:
        return _bench(args, workdir)
    finally:
        print(f"\nwhole run {time.perf_counter() - start:.0f} s")
        if temporary and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def _bench(args: argparse.Namespace, work: Path) -> int:
    plain, cog = work / "image-plain.tif", work / "image-cog.tif"
    parts = {int(p) for p in args.parts.split(",")}
    if parts & {1, 2, 3} and not cog.is_file():
        start = time.perf_counter()
        make_image(plain, cog, args.size, args.seed)
        print(f"made the {args.size:,}² 4-band uint16 image in {time.perf_counter() - start:.0f}"
              f" s: plain GeoTIFF {_mib(plain.stat().st_size)}, COG {_mib(cog.stat().st_size)}")
    pixels = args.size * args.size
    if 1 in parts:
        bench_reproject(work, cog, pixels)
    if 2 in parts:
        bench_cog(work, plain, pixels)
    if 3 in parts:
        memcopy = child("memcopy", mib=1024, rounds=5)
        bench_ndvi(work, cog, pixels, memcopy)
    if 4 in parts:
        bench_big(work, args.big, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
