"""A synthetic but realistic STAC catalog over China: acquisition schedules, clouds, items.

The catalog is held as columns (one row per item: collection, footprint, time, satellite,
cloud cover); STAC item dicts and the peer's table rows are made from it a batch at a time,
so 1.5 million items never sit in memory as dicts.

Schedules: each satellite images a relative orbit every repeat cycle (Landsat 16 days,
Sentinel-2 10 days, Sentinel-1 12 days), the members of a constellation phased by half a cycle
(Landsat 9 eight days after Landsat 8, Sentinel-2B five days after 2A, Sentinel-1B/C six days
after 1A). Landsat 8 from 2015, Landsat 9 from November 2021; Sentinel-2A from July 2015
(Sentinel-2C takes its place from 21 January 2025), 2B from July 2017; Sentinel-1A from 2015,
1B from 26 September 2016 to 23 December 2021 (its failure), 1C from April 2025. The
archive ends on 1 November 2026. The orbit phases themselves are arbitrary (not the real
calendar), the local times of the passes are right (10:11, 10:30 descending, 18:00 ascending).

Scaling: the full schedule holds ~2.4 million acquisitions; a run keeps a seeded random
subset of ``--items`` of them, each collection keeping its share (as if the other scenes
had not been processed). Above the full count, extra virtual satellites are phased in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import numpy as np
import shapely
from _footprints import (
    LANDSAT,
    SENTINEL1,
    SENTINEL2,
    Footprints,
    Orbit,
    landsat_scenes,
    sentinel1_frames,
    sentinel2_tiles,
)

__all__ = ["COLLECTIONS", "Catalog", "Collection", "build_catalog", "cloud_mean"]

_MS_DAY = 86_400_000
END = datetime(2026, 11, 1, tzinfo=UTC)


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


@dataclass(frozen=True)
class Satellite:
    platform: str
    code: str  # id prefix: LC08, S2A, S1A
    start: datetime
    end: datetime
    phase_days: float
    renamed: tuple[datetime, str, str] | None = None  # (from, platform, code)


@dataclass(frozen=True)
class Collection:
    id: str
    orbit: Orbit
    node_lon: float  # descending/ascending node longitude of orbit K = 0
    local_time_h: float  # local solar time at the node
    satellites: tuple[Satellite, ...]
    optical: bool

    @property
    def ref_ms(self) -> int:
        """UTC time (ms) of orbit K = 0's node crossing, on 1 January 2015."""
        hours = (self.local_time_h - self.node_lon / 15.0) % 24.0
        return _ms(datetime(2015, 1, 1, tzinfo=UTC)) + int(hours * 3_600_000)


def _d(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


COLLECTIONS = (
    Collection("landsat-c2-l2", LANDSAT, -64.6, 10 + 11 / 60, (
        Satellite("landsat-8", "LC08", _d(2015, 1, 1), END, 0.0),
        Satellite("landsat-9", "LC09", _d(2021, 11, 1), END, 8.0)), True),
    Collection("sentinel-2-l2a", SENTINEL2, 0.0, 10.5, (
        Satellite("sentinel-2a", "S2A", _d(2015, 7, 1), END, 0.0,
                  (_d(2025, 1, 21), "sentinel-2c", "S2C")),
        Satellite("sentinel-2b", "S2B", _d(2017, 7, 1), END, 5.0)), True),
    Collection("sentinel-1-grd", SENTINEL1, 0.0, 18.0, (
        Satellite("sentinel-1a", "S1A", _d(2015, 1, 1), END, 0.0),
        Satellite("sentinel-1b", "S1B", _d(2016, 9, 26), _d(2021, 12, 23), 6.0),
        Satellite("sentinel-1c", "S1C", _d(2025, 4, 1), END, 6.0)), False),
)
_FOOTPRINTS = {"landsat-c2-l2": landsat_scenes, "sentinel-2-l2a": sentinel2_tiles,
               "sentinel-1-grd": sentinel1_frames}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def cloud_mean(lat: np.ndarray, lon: np.ndarray, doy: np.ndarray) -> np.ndarray:
    """A rough cloud climatology of China: mean scene cloud fraction (0–1).

    Cloudy south (Sichuan basin, Guizhou: ~0.75; the south coast ~0.6, wettest in spring and
    the summer monsoon), the North China Plain and the north-east ~0.4 (summer cloudier,
    winter clearer), the arid north-west ~0.2, Tibet ~0.4 with summer convection.
    """
    south = _sigmoid((30.0 - lat) / 1.5) * _sigmoid((lon - 100.0) / 1.5)
    arid = _sigmoid((100.0 - lon) / 2.0) * _sigmoid((lat - 35.0) / 1.5)
    basin = np.exp(-((lat - 29.5) ** 2 / 3.0 + (lon - 106.0) ** 2 / 6.0))
    season = np.cos(2 * np.pi * (doy - 200) / 365.25)
    spring = np.cos(2 * np.pi * (doy - 120) / 365.25)
    mean = (0.40 + 0.2 * south - 0.2 * arid + 0.3 * basin
            + 0.14 * (1 - arid) * season + 0.08 * south * spring)
    return np.clip(mean, 0.05, 0.9)


@dataclass
class Catalog:
    """All items as columns, in ingestion (time) order."""

    collections: tuple[Collection, ...]
    footprints: tuple[Footprints, ...]
    coll: np.ndarray  # int8: index into collections
    fp: np.ndarray  # int32: index into that collection's footprints
    ms: np.ndarray  # int64: acquisition time, ms since 1970 UTC
    sat: np.ndarray  # int8: index into the collection's satellites (+ virtual copies)
    cloud: np.ndarray  # float64: eo:cloud_cover in percent, NaN for SAR
    natural: dict[str, int]  # acquisitions of the full schedule, per collection
    # move each item's footprint by up to ~100 m (its own offset), as real scene framing
    # varies from pass to pass: then no two items share a footprint
    jitter: bool = False

    def __len__(self) -> int:
        return len(self.ms)

    @cached_property
    def offsets(self) -> np.ndarray:
        """Where each collection's footprints start in the global footprint list."""
        return np.cumsum([0, *(len(f) for f in self.footprints)])

    @cached_property
    def all_footprints(self) -> np.ndarray:
        return np.concatenate([f.geometry for f in self.footprints])

    @cached_property
    def _geojson(self) -> list[dict[str, Any]]:
        return [{"type": "Polygon",
                 "coordinates": [[[x, y] for x, y in g.exterior.coords]]}
                for g in self.all_footprints]

    @cached_property
    def _bbox(self) -> list[list[float]]:
        return [list(b) for b in shapely.bounds(self.all_footprints).tolist()]

    def counts(self) -> dict[str, int]:
        found = np.bincount(self.coll, minlength=len(self.collections))
        return {c.id: int(n) for c, n in zip(self.collections, found, strict=True)}

    def batches(self, size: int) -> Iterator[list[dict[str, Any]]]:
        """Yield the items as STAC item dicts, ``size`` at a time."""
        for start in range(0, len(self), size):
            yield self._items(slice(start, start + size))

    def _items(self, rows: slice) -> list[dict[str, Any]]:
        coll, fp, ms, sat = self.coll[rows], self.fp[rows], self.ms[rows], self.sat[rows]
        cloud = self.cloud[rows]
        stamps = np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms")
        gfp = self.offsets[coll] + fp
        items = []
        for c, f, g, t, s, cc, stamp in zip(coll.tolist(), fp.tolist(), gfp.tolist(),
                                             ms.tolist(), sat.tolist(), cloud.tolist(),
                                             stamps.tolist(), strict=True):
            items.append(self._item(c, f, g, t, s, cc, stamp + "Z"))
        if self.jitter:
            for item, t in zip(items, ms.tolist(), strict=True):
                _shift(item, t)
        return items

    def _item(self, c: int, f: int, g: int, t: int, s: int, cloud: float,
              stamp: str) -> dict[str, Any]:
        col, fps = self.collections[c], self.footprints[c]
        base = col.satellites[s % len(col.satellites)]
        platform, code = base.platform, base.code
        if base.renamed and t >= _ms(base.renamed[0]):
            platform, code = base.renamed[1], base.renamed[2]
        extra = s // len(col.satellites)  # virtual satellites past the full schedule
        day = stamp[:10].replace("-", "")
        name = str(fps.name[f])
        props: dict[str, Any] = {"datetime": stamp, "platform": platform}
        if col.optical:
            props["eo:cloud_cover"] = cloud
        if c == 0:
            item_id = f"{code}_L2SP_{name}_{day}_02_T{1 + extra}"
            props["landsat:wrs_path"], props["landsat:wrs_row"] = name[:3], name[3:]
            assets = {"red": f"{item_id}_SR_B4.TIF", "nir08": f"{item_id}_SR_B5.TIF"}
            ext = ["eo", "landsat"]
        elif c == 1:
            item_id = f"{code}_{name}_{day}_{extra}_L2A"
            props["mgrs:utm_zone"] = int(name[:2])
            props["mgrs:latitude_band"], props["mgrs:grid_square"] = name[2], name[3:]
            props["sat:relative_orbit"] = int(fps.number[f])
            assets = {"red": f"{item_id}/B04.tif", "nir": f"{item_id}/B08.tif"}
            ext = ["eo", "mgrs", "sat"]
        else:
            clock = stamp[:19].replace("-", "").replace(":", "")
            orbit = (t - col.ref_ms) // int(col.orbit.period_s * 1000)
            item_id = f"{code}_IW_GRDH_1SDV_{clock}_{orbit + 5000:06d}_{name}_{extra}"
            props["sar:instrument_mode"], props["sat:orbit_state"] = "IW", "ascending"
            props["sat:relative_orbit"] = int(fps.number[f])
            assets = {"vv": f"{item_id}/vv.tif", "vh": f"{item_id}/vh.tif"}
            ext = ["sar", "sat"]
        return {
            "type": "Feature", "stac_version": "1.1.0",
            "stac_extensions": [f"https://stac-extensions.github.io/{e}/v1.0.0/schema.json"
                                for e in ext],
            "id": item_id, "collection": col.id, "geometry": self._geojson[g],
            "bbox": self._bbox[g], "properties": props,
            "assets": {key: {"href": f"s3://terralab-bench/{col.id}/{href}",
                             "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                             "roles": ["data"]} for key, href in assets.items()},
            "links": [],
        }


def _shift(item: dict[str, Any], seed: int) -> None:
    """Move an item's footprint and bbox by its own offset of at most 0.001 degrees."""
    dx = ((seed * 7919) % 2001 - 1000) * 1e-6
    dy = ((seed * 104729) % 2001 - 1000) * 1e-6
    ring = [[x + dx, y + dy] for x, y in item["geometry"]["coordinates"][0]]
    item["geometry"] = {"type": "Polygon", "coordinates": [ring]}
    item["bbox"] = list(shapely.bounds(shapely.Polygon(ring)).tolist())


def _schedule(col: Collection, fps: Footprints, copies: int) -> tuple[np.ndarray, ...]:
    """Every acquisition of one collection: (footprint, time ms, satellite)."""
    period = col.orbit.period_s * 1000.0
    cycle = col.orbit.orbits_per_cycle
    fp_all, ms_all, sat_all = [], [], []
    for copy in range(copies):
        for s, sat in enumerate(col.satellites):
            phase = (sat.phase_days + copy * col.orbit.cycle_days / copies) * _MS_DAY
            first = int((_ms(sat.start) - col.ref_ms - phase) // (period * cycle)) - 1
            last = int((_ms(sat.end) - col.ref_ms - phase) // (period * cycle)) + 1
            cycles = np.arange(first, last + 1)
            node = (col.ref_ms + phase
                    + (fps.track[:, None] + cycles[None, :] * cycle) * period)
            when = np.rint(node + fps.seconds[:, None] * 1000.0).astype(np.int64)
            keep = (when >= _ms(sat.start)) & (when < _ms(sat.end))
            fp_idx = np.broadcast_to(np.arange(len(fps))[:, None], when.shape)
            fp_all.append(fp_idx[keep].astype(np.int32))
            ms_all.append(when[keep])
            sat_all.append(np.full(int(keep.sum()), s + copy * len(col.satellites), np.int8))
    return np.concatenate(fp_all), np.concatenate(ms_all), np.concatenate(sat_all)


def build_catalog(total: int, seed: int, *, jitter: bool = False) -> Catalog:
    """Make the catalog of ``total`` items (seeded), sorted by time.

    ``jitter``: give every item a footprint of its own (see :attr:`Catalog.jitter`).
    """
    rng = np.random.default_rng(seed)
    footprints = tuple(_FOOTPRINTS[c.id]() for c in COLLECTIONS)
    natural = {c.id: len(_schedule(c, f, 1)[0]) for c, f in zip(COLLECTIONS, footprints,
                                                                   strict=True)}
    everything = sum(natural.values())
    copies = max(1, -(-total // everything))
    shares = np.array(list(natural.values()), dtype=float) / everything
    wanted = np.floor(shares * total).astype(int)
    wanted[np.argmax(wanted)] += total - wanted.sum()
    parts = []
    for c, (col, fps) in enumerate(zip(COLLECTIONS, footprints, strict=True)):
        fp, ms, sat = _schedule(col, fps, copies)
        pick = np.sort(rng.choice(len(ms), size=int(wanted[c]), replace=False))
        fp, ms, sat = fp[pick], ms[pick], sat[pick]
        cloud = np.full(len(ms), np.nan)
        if col.optical:
            lat, lon = fps.center
            doy = (ms % (365.25 * _MS_DAY)) / _MS_DAY  # close enough to the day of year
            mean = cloud_mean(lat[fp], lon[fp], doy)
            sharp = 1.2  # a U-shaped distribution: many clear and many overcast scenes
            cloud = np.round(100.0 * rng.beta(mean * sharp, (1 - mean) * sharp), 2)
        parts.append((np.full(len(ms), c, np.int8), fp, ms, sat, cloud))
    coll, fp, ms, sat, cloud = (np.concatenate(x) for x in zip(*parts, strict=True))
    order = np.lexsort((fp, coll, ms))
    return Catalog(COLLECTIONS, footprints, coll[order], fp[order], ms[order], sat[order],
                   cloud[order], natural, jitter)
