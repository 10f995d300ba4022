"""Peak memory and time of publishing an upload, by image size and GDAL cache budget.

Publishing (:func:`terralab.mydata.raster_publish.publish_raster`) reads every pixel once
for the statistics, writes the Cloud-Optimized GeoTIFF with its overviews and draws the
thumbnail. Each run is a process of its own, so its peak resident memory (``ru_maxrss``) is
the whole process's: Python, the libraries, GDAL's block cache and the buffers in flight.

    python benchmarks/publish_memory.py                       # 8192² and 16384², 3 budgets
    python benchmarks/publish_memory.py --sides 20000 --budgets 256MiB

A budget of ``gdal`` gives GDAL its own default (5 % of the machine's memory), which is what
processes got before terralab set the cache (:mod:`terralab.raster_budget`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window

_CHILD = """
import json, resource, sys, time
from pathlib import Path
from terralab.mydata.limits import UploadLimits
from terralab.mydata.raster_publish import publish_raster
started = time.perf_counter()
publish_raster(sys.argv[1], Path(sys.argv[2]), UploadLimits())
print(json.dumps({"seconds": time.perf_counter() - started,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_input(path: Path, side: int) -> Path:
    """A DEFLATE-tiled 4-band uint8 GeoTIFF of ``side``², textured, written in strips."""
    profile = dict(driver="GTiff", width=side, height=side, count=4, dtype="uint8",
                   crs="EPSG:32651", transform=from_origin(200_000, 3_400_000, 1, 1),
                   tiled=True, blockxsize=512, blockysize=512, compress="DEFLATE",
                   BIGTIFF="IF_SAFER", num_threads="ALL_CPUS")
    noise = np.random.default_rng(0).integers(0, 40, (4, 1024, side), dtype=np.uint8)
    columns = np.arange(side)[None, :]
    with rasterio.open(path, "w", **profile) as dataset:
        for row in range(0, side, 1024):
            rows = np.arange(row, min(side, row + 1024))[:, None]
            base = ((rows // 37 + columns // 53) % 200).astype(np.uint8)
            dataset.write(base[None] + noise[:, :len(rows)],
                          window=Window(0, row, side, len(rows)))
    return path


def run(path: Path, out: Path, budget: str) -> dict[str, float]:
    """Publish ``path`` in a child process with the GDAL cache ``budget``."""
    gdal_default = int(psutil.virtual_memory().total * 0.05)  # what GDAL takes by itself
    env = {**os.environ, "TERRALAB_GDAL_CACHE": str(gdal_default) if budget == "gdal"
           else budget}
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(out)], env=env,
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Run the sizes × budgets and print one JSON line per run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sides", type=int, nargs="+", default=[8192, 16384])
    parser.add_argument("--budgets", nargs="+", default=["gdal", "256MiB", "128MiB"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for side in args.sides:
            started = time.perf_counter()
            path = write_input(Path(folder) / f"in-{side}.tif", side)
            made = time.perf_counter() - started
            for budget in args.budgets:
                result = run(path, Path(folder) / f"out-{side}-{budget}", budget)
                print(json.dumps({"side": side, "budget": budget, "input_seconds": round(made, 1),
                                  "seconds": round(result["seconds"], 1),
                                  "peak_rss_mib": round(result["peak_rss_mib"])}), flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
