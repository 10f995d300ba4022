"""When each demo scene was acquired: dates, platforms, cloud covers, sun angles.

Revisits follow the real orbits over Deqing: Landsat 8 and 9 on WRS-2 path 119 row 39
(16 days each, 8 days apart, ~02:32 UTC), Sentinel-2A/2B on relative orbit 89 (~02:35 UTC),
Sentinel-1A ascending (12 days, ~10:01 UTC). The aerial pair sits on 2024-05-10 and
2025-05-12; the land changes between them happen on :data:`CHANGE_DATE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

__all__ = ["AERIAL_DATES", "CHANGE_DATE", "Acquisition", "acquisitions", "sun_angles"]

CHANGE_DATE = datetime(2024, 11, 1, tzinfo=UTC)
AERIAL_DATES = (datetime(2024, 5, 10, 2, 30, tzinfo=UTC),
                datetime(2025, 5, 12, 2, 30, tzinfo=UTC))
_LANDSAT9 = datetime(2024, 5, 10, 2, 32, 11, tzinfo=UTC)
_SENTINEL2A = datetime(2024, 5, 12, 2, 35, 51, tzinfo=UTC)
_SENTINEL1A = datetime(2024, 5, 14, 10, 1, 29, tzinfo=UTC)
# (platform, repeat cycles from the reference date, cloud cover %, cirrus cover %)
_LANDSAT = (("landsat-9", -4, 8, 0), ("landsat-9", 0, 3, 2), ("landsat-8", 6, 55, 5),
            ("landsat-9", 12, 24, 6), ("landsat-8", 19, 1, 0), ("landsat-9", 31, 68, 0))
_SENTINEL2 = (("Sentinel-2B", -23, 12, 4), ("Sentinel-2A", 0, 2, 0), ("Sentinel-2B", 17, 28, 8),
              ("Sentinel-2A", 34, 60, 0), ("Sentinel-2B", 53, 6, 3), ("Sentinel-2A", 72, 35, 10),
              ("Sentinel-2B", 91, 80, 0), ("Sentinel-2A", 110, 0, 0))
_SENTINEL1 = (-6, 0, 9, 16, 25, 38)


@dataclass(frozen=True)
class Acquisition:
    """One scene of the demo region.

    Attributes:
        collection: the STAC collection id.
        platform: the platform as the real items spell it.
        datetime: the acquisition time (UTC).
        cloud: the asked thick-cloud share (0…1); the written cover is measured.
        cirrus: the asked cirrus share (0…1).
    """

    collection: str
    platform: str
    datetime: datetime
    cloud: float = 0.0
    cirrus: float = 0.0

    @property
    def key(self) -> str:
        """A stable name for seeding: collection and time."""
        return f"{self.collection}/{self.datetime:%Y%m%dT%H%M%S}"

    @property
    def after_change(self) -> bool:
        """True when the scene shows the land after the changes."""
        return self.datetime >= CHANGE_DATE


def sun_angles(when: datetime, latitude: float = 30.55) -> tuple[float, float]:
    """Return an approximate (azimuth, elevation) in degrees for a ~10:30 local overpass."""
    declination = 23.44 * np.sin(2 * np.pi * (when.timetuple().tm_yday - 81) / 365)
    elevation = 90.0 - latitude + declination - 8.0
    azimuth = 140.0 - 0.9 * declination
    return round(float(azimuth), 6), round(float(elevation), 6)


def acquisitions() -> tuple[Acquisition, ...]:
    """Return every satellite scene of the demo, in time order within each collection."""
    scenes = []
    for platform, cycles, cloud, cirrus in _LANDSAT:
        offset = 8 if platform == "landsat-8" else 0
        when = _LANDSAT9 + timedelta(days=16 * cycles + offset)
        scenes.append(Acquisition("landsat-c2-l2", platform, when, cloud / 100, cirrus / 100))
    for platform, cycles, cloud, cirrus in _SENTINEL2:
        when = _SENTINEL2A + timedelta(days=5 * cycles)
        scenes.append(Acquisition("sentinel-2-l2a", platform, when, cloud / 100, cirrus / 100))
    for cycles in _SENTINEL1:
        when = _SENTINEL1A + timedelta(days=12 * cycles)
        scenes.append(Acquisition("sentinel-1-grd", "SENTINEL-1A", when))
    return tuple(scenes)
