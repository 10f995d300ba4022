"""Tile serving benchmark: terralab's tile endpoint in a Jupyter server against titiler.

Makes one seeded 3-band uint8 COG (default 8192 × 8192 pixels of 0.5 m, EPSG:32651, DEFLATE,
512-pixel blocks, overviews) in a user's folder, then serves it

- (a) from a real Jupyter server with the terralab extension, as that user:
  ``GET /terralab/tiles/{z}/{x}/{y}.png?path=bench.tif`` with the server's token;
- (b) from titiler (``titiler.core`` ``TilerFactory`` in a FastAPI app under uvicorn):
  ``GET /cog/tiles/WebMercatorQuad/{z}/{x}/{y}.png?url=<the file>`` (PNG at zlib level 6,
  rio-tiler's default) and ``….pngraw?url=…`` (the same PNG at zlib level 1, the level
  terralab encodes its tiles with: the like-for-like comparison).

Both get the same tile list (every zoom from 0 to the file's native zoom; at most
``--per-zoom`` seeded random tiles of those meeting the image per zoom) from the same client
(``http.client``, one keep-alive connection per client thread). First every tile is fetched
from both and the decoded pixels compared; then each server is warmed with one pass and timed
with 1 and with 8 concurrent clients (the server order alternating).

Run from the repository root::

    .venv/bin/python benchmarks/tiles.py                          # the full run (~3 min)
    .venv/bin/python benchmarks/tiles.py --size 2048 --per-zoom 8  # a quick check
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from urllib.parse import quote

import morecantile
import numpy as np
from _run import hardware, header, work_folder

TOKEN = "bench-token"
USER = "bench"
TMS = morecantile.tms.get("WebMercatorQuad")


def _machine() -> str:
    import rasterio
    import rio_tiler
    import titiler.core
    import uvicorn

    return (f"{hardware()}; Python {platform.python_version()}, GDAL "
            f"{rasterio.__gdal_version__}, rio-tiler {rio_tiler.__version__}, titiler.core "
            f"{titiler.core.__version__}, uvicorn {uvicorn.__version__}")


def make_cog(path: Path, size: int, seed: int) -> None:
    """Write a smooth random 3-band image with some pixel noise as a COG."""
    import rasterio
    from rasterio.io import MemoryFile
    from rasterio.shutil import copy as rio_copy
    from rasterio.transform import from_origin
    from rasterio.warp import Resampling, reproject

    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (3, 65, 65)).astype(np.float32)
    data = np.empty((3, size, size), np.uint8)
    for band in range(3):
        smooth = np.empty((size, size), np.float32)
        reproject(coarse[band], smooth, src_transform=from_origin(0, 65, 1, 1),
                  src_crs="EPSG:3857", dst_transform=from_origin(0, 65, 65 / size, 65 / size),
                  dst_crs="EPSG:3857", resampling=Resampling.cubic)
        smooth += rng.normal(0, 4, (size, size)).astype(np.float32)
        data[band] = np.clip(smooth, 0, 255)
    profile = {"driver": "GTiff", "count": 3, "width": size, "height": size, "dtype": "uint8",
               "crs": "EPSG:32651", "transform": from_origin(205000, 3390000, 0.5, 0.5)}
    with MemoryFile() as memory, memory.open(**profile) as tmp:
        tmp.write(data)
        rio_copy(tmp, path, driver="COG", compress="DEFLATE", predictor="YES", blocksize=512,
                 overview_resampling="average", num_threads="ALL_CPUS")
    with rasterio.open(path) as src:
        print(f"COG: {size} × {size} × 3 uint8, {path.stat().st_size / 2**20:.0f} MiB, "
              f"overviews {src.overviews(1)}")


def _wait(port: int, path: str, headers: dict[str, str], process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path, headers=headers)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")


def start_jupyter(home: Path, port: int) -> subprocess.Popen:
    """A Jupyter server for USER on ``home`` (the terralab extension is installed)."""
    runtime = home / "jupyter-runtime"
    env = dict(os.environ, TERRALAB_HOME=str(home), TERRALAB_USER=USER,
               JUPYTER_RUNTIME_DIR=str(runtime), JUPYTER_DATA_DIR=str(runtime / "data"))
    env.pop("JUPYTERHUB_USER", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
         f"--port={port}", "--ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
         "--ServerApp.log_level=WARN", f"--ServerApp.root_dir={home / 'users' / USER}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait(port, "/api/status", {"Authorization": f"token {TOKEN}"}, process)
    return process


def start_titiler(port: int) -> subprocess.Popen:
    """titiler.core's TilerFactory under uvicorn (this script with --serve-titiler)."""
    env = dict(os.environ, GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR")
    process = subprocess.Popen([sys.executable, __file__, "--serve-titiler", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait(port, "/docs", {}, process)
    return process


def serve_titiler(port: int) -> None:
    import uvicorn
    from fastapi import FastAPI
    from titiler.core.factory import TilerFactory

    app = FastAPI()
    app.include_router(TilerFactory().router, prefix="/cog")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def tile_list(cog: Path, bounds: list[float], maxzoom: int, per_zoom: int,
              seed: int) -> list[tuple[int, int, int]]:
    """Tiles meeting the image (not just touching it) at every zoom 0…maxzoom."""
    from rio_tiler.io import Reader

    west, south, east, north = bounds
    rng = np.random.default_rng(seed)
    chosen = []
    reader = Reader(str(cog))
    for z in range(maxzoom + 1):
        tiles = [t for t in TMS.tiles(west, south, east, north, zooms=[z])
                 if (b := TMS.bounds(t)).left < east and b.right > west
                 and b.bottom < north and b.top > south and reader.tile_exists(t.x, t.y, z)]
        if len(tiles) > per_zoom:
            tiles = [tiles[i] for i in sorted(rng.choice(len(tiles), per_zoom, replace=False))]
        chosen += [(t.z, t.x, t.y) for t in tiles]
    order = rng.permutation(len(chosen))
    return [chosen[i] for i in order]


class Engine:
    """One tile server: how to ask it for tile z/x/y."""

    def __init__(self, name: str, port: int, template: str, headers: dict[str, str]) -> None:
        self.name, self.port, self.template, self.headers = name, port, template, headers

    def path(self, z: int, x: int, y: int) -> str:
        return self.template.format(z=z, x=x, y=y)

    def fetch_all(self, tiles: list[tuple[int, int, int]], clients: int) -> list[float]:
        """Fetch every tile once with ``clients`` threads; return the latencies (s)."""
        times = [0.0] * len(tiles)
        next_tile = iter(range(len(tiles)))
        lock = threading.Lock()
        errors: list[str] = []

        def client() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            while True:
                with lock:
                    number = next(next_tile, None)
                if number is None:
                    break
                started = time.perf_counter()
                conn.request("GET", self.path(*tiles[number]), headers=self.headers)
                response = conn.getresponse()
                response.read()
                times[number] = time.perf_counter() - started
                if response.status != 200:
                    errors.append(f"{tiles[number]}: {response.status}")
            conn.close()

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise RuntimeError(f"{self.name}: {len(errors)} failed tiles, e.g. {errors[:3]}")
        return times

    def get(self, z: int, x: int, y: int) -> bytes:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        conn.request("GET", self.path(z, x, y), headers=self.headers)
        response = conn.getresponse()
        body = response.read()
        conn.close()
        if response.status != 200:
            raise RuntimeError(f"{self.name} {z}/{x}/{y}: {response.status} {body[:200]!r}")
        return body


def _decode(png: bytes) -> np.ndarray:
    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.io import MemoryFile

    with warnings.catch_warnings(), MemoryFile(png) as memory:
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with memory.open() as src:
            return src.read()


def compare(ours: Engine, peer: Engine,
            tiles: list[tuple[int, int, int]]) -> tuple[int, int, float]:
    """Count tiles whose decoded pixels differ between two engines; mean PNG size ratio."""
    differ, alpha_differ, sizes = 0, 0, []
    for tile in tiles:
        a, b = ours.get(*tile), peer.get(*tile)
        sizes.append(len(b) / len(a))
        a, b = _decode(a), _decode(b)
        if a.shape != b.shape or not np.array_equal(a[-1], b[-1]):
            alpha_differ += 1
            continue
        shown = a[-1] > 0
        differ += not np.array_equal(a[:-1][:, shown], b[:-1][:, shown])
    return differ, alpha_differ, float(np.mean(sizes))


def _stats(seconds: list[float]) -> dict[str, float]:
    ms = np.array(seconds) * 1000
    return {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)),
            "mean": float(ms.mean())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=8192, help="COG width and height")
    parser.add_argument("--per-zoom", type=int, default=32, help="most tiles per zoom")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes per server")
    parser.add_argument("--clients", default="1,8", help="concurrent clients to time")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--workdir", type=Path, help="default: a temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the workdir")
    parser.add_argument("--serve-titiler", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_titiler:
        serve_titiler(args.serve_titiler)
        return 0
    header("terralab tile benchmark", _machine())
    with work_folder(args.workdir, keep=args.keep, prefix="terralab-tiles-") as workdir:
        return _bench(args, workdir)


def _bench(args: argparse.Namespace, workdir: Path) -> int:
    from terralab.hub.ports import free_port
    from terralab.tiles import resolve_tile_source, tile_info

    folder = workdir / "users" / USER
    folder.mkdir(parents=True, exist_ok=True)
    cog = folder / "bench.tif"
    if not cog.is_file():
        make_cog(cog, args.size, args.seed)
    info = tile_info(resolve_tile_source(USER, path="bench.tif", home=workdir))
    tiles = tile_list(cog, info["bounds"], info["maxzoom"], args.per_zoom, args.seed)
    per_zoom = np.bincount([z for z, _, _ in tiles])
    print(f"tiles: {len(tiles)} over zooms 0…{info['maxzoom']} (native zoom "
          f"{info['maxzoom']}, rio-tiler minzoom {info['minzoom']}); per zoom "
          f"{per_zoom.tolist()}")
    jupyter_port, titiler_port = free_port(), free_port()
    processes = [start_jupyter(workdir, jupyter_port), start_titiler(titiler_port)]
    try:
        url = quote(str(cog.resolve()), safe="")
        engines = [
            Engine("terralab", jupyter_port, "/terralab/tiles/{z}/{x}/{y}.png?path=bench.tif",
                   {"Authorization": f"token {TOKEN}"}),
            Engine("titiler-png", titiler_port,
                   "/cog/tiles/WebMercatorQuad/{z}/{x}/{y}.png?url=" + url, {}),
            Engine("titiler-pngraw", titiler_port,
                   "/cog/tiles/WebMercatorQuad/{z}/{x}/{y}.pngraw?url=" + url, {}),
        ]
        for peer in engines[1:]:
            differ, alpha_differ, size_ratio = compare(engines[0], peer, tiles)
            print(f"correctness, {peer.name}: {differ} of {len(tiles)} tiles differ in colour, "
                  f"{alpha_differ} in alpha; its PNGs are {size_ratio:.3f}× the size of "
                  "terralab's")
        for engine in engines:  # warm-up: one untimed pass each
            engine.fetch_all(tiles, 8)
        results: dict[tuple[str, int], list[float]] = {}
        by_zoom: dict[tuple[str, int], list[list[float]]] = {}
        for clients in [int(c) for c in args.clients.split(",")]:
            for round_ in range(args.rounds):
                turn = round_ % len(engines)
                order = engines[turn:] + engines[:turn]
                for engine in order:
                    started = time.perf_counter()
                    times = engine.fetch_all(tiles, clients)
                    wall = time.perf_counter() - started
                    results.setdefault((engine.name, clients), []).extend(times)
                    by_zoom.setdefault((engine.name, clients), []).append(times)
                    print(f"  {engine.name:8s} {clients} client(s), round {round_ + 1}: "
                          f"{len(tiles) / wall:6.1f} tiles/s", flush=True)
        _report(engines, tiles, results, by_zoom, info["maxzoom"])
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)
    return 0


def _report(engines: list[Engine], tiles: list[tuple[int, int, int]],
            results: dict[tuple[str, int], list[float]],
            by_zoom: dict[tuple[str, int], list[list[float]]], maxzoom: int) -> None:
    names = [e.name for e in engines]
    print("\n| clients | server | p50 ms | p95 ms | mean ms |")
    print("|---:|---|---:|---:|---:|")
    for clients in sorted({c for _, c in results}):
        stats = {name: _stats(results[(name, clients)]) for name in names}
        for name in names:
            s = stats[name]
            print(f"| {clients} | {name} | {s['p50']:.1f} | {s['p95']:.1f} | {s['mean']:.1f} |")
        ours = stats[names[0]]
        for name in names[1:]:
            theirs = stats[name]
            print(f"| {clients} | ratio {name} / terralab | {theirs['p50'] / ours['p50']:.2f}× "
                  f"| {theirs['p95'] / ours['p95']:.2f}× | {theirs['mean'] / ours['mean']:.2f}× |")
    zooms = np.array([z for z, _, _ in tiles])
    print("\np50 ms per zoom (all rounds):\n")
    clients_list = sorted({c for _, c in results})
    print("| zoom | tiles | " + " | ".join(f"{n} ({c})" for c in clients_list for n in names)
          + " |")
    print("|---:|---:|" + "---:|" * (len(names) * len(clients_list)))
    for z in range(maxzoom + 1):
        cells = []
        for clients in clients_list:
            for name in names:
                times = np.concatenate([np.array(r)[zooms == z]
                                        for r in by_zoom[(name, clients)]])
                cells.append(f"{np.percentile(times * 1000, 50):.1f}")
        print(f"| {z} | {(zooms == z).sum()} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
