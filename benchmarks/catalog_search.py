"""Catalog search benchmark: terralab's embedded index against DuckDB on GeoParquet.

Builds a synthetic 1.5-million-item STAC catalog over China (Landsat WRS-2 scenes,
Sentinel-2 MGRS tiles, Sentinel-1 IW frames, 2015–2026; see ``_footprints.py`` and
``_items.py``), adds it to ``terralab.catalog.index.CatalogIndex`` and writes it to a
GeoParquet file, then times the same county-sized searches (one year, cloud ≤ 20 %, limit
100) against both, after checking that both return the same items in the same order.

Run from the repository root::

    .venv/bin/python benchmarks/catalog_search.py               # the full run
    .venv/bin/python benchmarks/catalog_search.py --items 20000  # a quick check
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gc
import hashlib
import platform
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from _items import Catalog, build_catalog
from _peer import GeoParquetPeer, write_geoparquet
from _queries import county_queries
from _run import hardware

from terralab.catalog.query import SearchQuery

GOAL_BYTES = 300  # index size per item after a checkpoint and VACUUM
GOAL_PEER_RATIO = 3.0  # DuckDB on GeoParquet's p95 over terralab's, at least


def goal_p95_ms(items: int) -> float:
    """The p95 goal: 10 ms up to 1.5 M items, 20 ms at 5 M (linear between)."""
    return 10.0 + 10.0 * min(max(items - 1_500_000, 0) / 3_500_000, 1.0)

WARMUP = 10

Search = Callable[[SearchQuery], list[dict[str, Any]]]


def _machine() -> str:
    return (f"{hardware()}; Python {platform.python_version()}, SQLite "
            f"{sqlite3.sqlite_version}, DuckDB {duckdb.__version__}")


def _version() -> str:
    """The checkout's commit and the state of the index module that is measured."""
    from terralab.catalog import index

    source = Path(index.__file__)
    digest = hashlib.sha1(source.read_bytes()).hexdigest()[:10]
    try:
        git = ["git", "--no-optional-locks", "-C", str(source.parent)]  # read-only
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=False).stdout.strip()
        dirty = subprocess.run([*git, "status", "--porcelain", "--", source.name],
                               capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        head, dirty = "?", ""
    state = "uncommitted changes" if dirty else "as committed"
    return f"commit {head}, index.py sha1 {digest} ({state})"


def _size(*paths: Path) -> int:
    total = 0
    for path in paths:
        if path.is_dir():
            total += sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        elif path.exists():
            total += path.stat().st_size
    return total


def _mib(size: float) -> str:
    return f"{size / 2**20:,.1f} MiB"


def _insert(catalog: Catalog, path: Path, batch: int) -> tuple[Any, dict[str, float]]:
    """Add the catalog to a new CatalogIndex; time the add_items calls alone."""
    from terralab.catalog.index import CatalogIndex

    index = CatalogIndex(path)
    spent = 0.0
    done, step, started = 0, max(len(catalog) // 10, 1), time.perf_counter()
    for items in catalog.batches(batch):
        t0 = time.perf_counter()
        index.add_items(items)
        spent += time.perf_counter() - t0
        before, done = done, done + len(items)
        if done // step != before // step:
            print(f"  terralab: {done:,} items added, {done / spent:,.0f} items/s in add_items, "
                  f"{time.perf_counter() - started:,.0f} s so far", flush=True)
    return index, {"add_items": spent, "total": time.perf_counter() - started}


def _compacted(path: Path, items: int) -> None:
    """Checkpoint and VACUUM the index, then print its size per item, table by table."""
    t0 = time.perf_counter()
    with sqlite3.connect(path, isolation_level=None) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        tables = db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name "
                            "ORDER BY 2 DESC").fetchall()
    db.close()
    size = _size(path, *path.parent.glob(path.name + "-*"))
    print(f"  after a checkpoint and VACUUM ({time.perf_counter() - t0:,.1f} s): "
          f"{_mib(size)} = {size / items:,.0f} bytes per item (goal <= {GOAL_BYTES} B)")
    print("    " + ", ".join(f"{name} {pages / items:,.0f}" for name, pages in tables
                             if pages / items >= 0.5) + " (bytes per item)")


def _stats(times: list[float]) -> dict[str, float]:
    ms = np.array(times) * 1000.0
    return {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)),
            "mean": float(ms.mean()), "max": float(ms.max())}


@dataclasses.dataclass
class Outcome:
    """The times of every run per engine, and how the engines' pages compared."""

    times: dict[str, list[float]]
    sizes: list[int]  # items on terralab's page, per query
    ids_differ: dict[str, int]  # queries whose id list differs from terralab's
    pages_differ: dict[str, int]  # queries whose item dicts differ from terralab's


def _run(engines: dict[str, Search], queries: list[tuple[str, SearchQuery]],
         rounds: int) -> Outcome:
    """Time every query on every engine, interleaved (the engine order rotates per query).

    The pages of the first round are compared with terralab's as they come (and not kept,
    so the garbage collector has no growing heap to walk during the timings).
    """
    names = list(engines)
    out = Outcome({n: [] for n in names}, [], dict.fromkeys(names[1:], 0),
                  dict.fromkeys(names[1:], 0))
    for round_ in range(rounds):
        for number, (_, query) in enumerate(queries):
            turn = (number + round_) % len(names)
            pages: dict[str, list[dict[str, Any]]] = {}
            for name in names[turn:] + names[:turn]:
                started = time.perf_counter()
                pages[name] = engines[name](query)
                out.times[name].append(time.perf_counter() - started)
            if round_ == 0:
                ours = pages[names[0]]
                out.sizes.append(len(ours))
                for name in names[1:]:
                    theirs = pages[name]
                    out.ids_differ[name] += [i["id"] for i in ours] != [i["id"] for i in theirs]
                    out.pages_differ[name] += ours != theirs
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_500_000, help="catalog size")
    parser.add_argument("--queries", type=int, default=200, help="timed searches per engine")
    parser.add_argument("--rounds", type=int, default=3,
                        help="times each search is run per engine (all runs are counted)")
    parser.add_argument("--seed", type=int, default=20260101, help="seed of everything random")
    parser.add_argument("--workdir", type=Path, help="where the index and the GeoParquet go "
                        "(default: a temporary folder, removed afterwards)")
    parser.add_argument("--keep", action="store_true", help="keep the workdir's files")
    parser.add_argument("--jitter", action="store_true",
                        help="every item with a footprint of its own (moved by up to ~100 m), "
                             "as real scene framing varies; by default the items of a scene, "
                             "tile or frame share its footprint")
    parser.add_argument("--batch", type=int, default=10_000, help="items per add_items call")
    parser.add_argument("--row-group", type=int, default=20_000,
                        help="GeoParquet rows per row group")
    args = parser.parse_args(argv)

    temporary = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="terralab-bench-")) if temporary else args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    index_path, parquet = workdir / "index.sqlite", workdir / "items.parquet"
    for stale in (index_path, parquet, *workdir.glob("index.sqlite-*")):
        stale.unlink(missing_ok=True)
    print(f"terralab catalog search benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {_machine()}")
    print(f"terralab: {_version()}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    try:
        return _bench(args, workdir, index_path, parquet)
    finally:
        if temporary and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def _bench(args: argparse.Namespace, workdir: Path, index_path: Path, parquet: Path) -> int:
    started = time.perf_counter()
    catalog = build_catalog(args.items, args.seed, jitter=args.jitter)
    print(f"\ncatalog: {len(catalog):,} items made in {time.perf_counter() - started:.1f} s "
          f"(full 2015-2026 schedule: {sum(catalog.natural.values()):,} acquisitions)")
    for (name, count), fps in zip(catalog.counts().items(), catalog.footprints, strict=True):
        print(f"  {name:15s} {count:>10,} items on {len(fps):,} footprints "
              f"(full schedule {catalog.natural[name]:,})")
    cloudy = catalog.cloud[~np.isnan(catalog.cloud)]
    print(f"  optical cloud cover: median {np.median(cloudy):.0f} %, "
          f"{(cloudy <= 20).mean():.0%} of scenes at most 20 %")

    queries = county_queries(WARMUP + args.queries, args.seed)
    warm, timed = queries[:WARMUP], queries[WARMUP:]

    print(f"\nterralab index: adding in batches of {args.batch:,} to {index_path}")
    index, took = _insert(catalog, index_path, args.batch)
    index_size = _size(index_path, *workdir.glob("index.sqlite-*"))
    print(f"  add_items: {took['add_items']:,.1f} s = {len(catalog) / took['add_items']:,.0f} "
          f"items/s (making the dicts included: {took['total']:,.1f} s); "
          f"on disk {_mib(index_size)} ({_mib(_size(index_path))} + WAL)")
    _compacted(index_path, len(catalog))

    print(f"\npeer: GeoParquet {parquet} (row groups of {args.row_group:,})")
    t0 = time.perf_counter()
    timing = write_geoparquet(catalog.batches(args.batch), parquet, row_group=args.row_group)
    load = time.perf_counter() - t0
    print(f"  load {load:,.1f} s (dicts to DuckDB {timing['stage']:,.1f} s, sorted GeoParquet "
          f"write {timing['write']:,.1f} s); on disk {_mib(_size(parquet))}")
    t0 = time.perf_counter()
    peer = GeoParquetPeer(parquet)
    opened = time.perf_counter() - t0
    t0 = time.perf_counter()
    memory = GeoParquetPeer(parquet, in_memory=True)
    print(f"  open: view {opened * 1000:,.0f} ms; loading into DuckDB memory "
          f"{time.perf_counter() - t0:,.1f} s")

    engines: dict[str, Search] = {"terralab": index.search, "duckdb-geoparquet": peer.search,
                                  "duckdb-memory": memory.search}
    _run(engines, warm, 1)
    gc.collect()
    gc.freeze()  # the catalog and the caches are not garbage: keep them out of the GC's walks
    outcome = _run(engines, timed, args.rounds)
    _report(args, outcome, timed)
    _check_pages(engines, timed[:20])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"peak memory of the benchmark process: {peak:.1f} GiB; "
          f"whole run {time.perf_counter() - started:,.0f} s")
    index.close()
    peer.close()
    memory.close()
    return 0


def _report(args: argparse.Namespace, outcome: Outcome,
            queries: list[tuple[str, SearchQuery]]) -> None:
    times, sizes = outcome.times, np.array(outcome.sizes)
    print(f"\n{len(queries)} searches x {args.rounds} rounds (county, one year, cloud <= 20 %, "
          f"limit 100; {WARMUP} warm-up searches first): {sizes.mean():.0f} items per page, "
          f"{(sizes == 100).mean():.0%} of pages full, {(sizes == 0).mean():.0%} empty")
    for name, ids in outcome.ids_differ.items():
        print(f"  mismatches terralab vs {name}: {ids} of {len(queries)} id lists, "
              f"{outcome.pages_differ[name]} pages of items")
    stats = {name: _stats(t) for name, t in times.items()}
    print(f"\n  {'engine':20s} {'p50 ms':>8s} {'p95 ms':>8s} {'mean ms':>8s} {'max ms':>8s}")
    for name, s in stats.items():
        print(f"  {name:20s} {s['p50']:8.1f} {s['p95']:8.1f} {s['mean']:8.1f} {s['max']:8.1f}")
    for name, t in times.items():
        worst = np.argsort(t)[::-1][:3]
        print(f"  slowest {name}: " + ", ".join(
            f"{queries[k % len(queries)][0]} {t[k] * 1000:.0f} ms" for k in worst))
    ours_s = stats["terralab"]
    for name, s in stats.items():
        if name != "terralab":
            print(f"  ratio {name} / terralab: p50 {s['p50'] / ours_s['p50']:.2f}x, "
                  f"p95 {s['p95'] / ours_s['p95']:.2f}x")
    peer = stats["duckdb-geoparquet"]
    goal = goal_p95_ms(args.items)
    met = ours_s["p95"] <= goal and peer["p95"] >= GOAL_PEER_RATIO * ours_s["p95"]
    print(f"\ngoal (terralab p95 <= {goal:.0f} ms and DuckDB on GeoParquet's p95 at least "
          f"{GOAL_PEER_RATIO:.0f}x terralab's): {'met' if met else 'NOT met'} at "
          f"{args.items:,} items")


def _check_pages(engines: dict[str, Search], queries: list[tuple[str, SearchQuery]]) -> None:
    """Compare the second and third pages (offset 100 and 200) too; not timed."""
    wrong = total = 0
    for _, query in queries:
        for offset in (100, 200):
            paged = dataclasses.replace(query, offset=offset)
            pages = [[i["id"] for i in search(paged)] for search in engines.values()]
            total += 1
            wrong += any(page != pages[0] for page in pages[1:])
    print(f"paging check (offset 100 and 200 of {len(queries)} searches): "
          f"{wrong} of {total} pages differ between the engines")


if __name__ == "__main__":
    sys.exit(main())
