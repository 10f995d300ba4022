"""The resolved search area: a geometry in EPSG:4326 and what to call it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

__all__ = ["AdminLevel", "Area", "AreaKind"]

AreaKind = Literal["place", "admin", "geometry", "file"]
AdminLevel = Literal["province", "city", "county"]


@dataclass(frozen=True)
class Area:
    """A search area, whatever the user gave: a place, a region, a drawn shape, a file.

    Attributes:
        geometry: the area in EPSG:4326 (longitude, latitude), never empty. CGCS2000
            (EPSG:4490) inputs are taken as they are: the two frames differ by centimetres.
        name: what to show the user (``"湖州市"``, ``"德清 (Deqing)"``, ``"aoi.zip"``).
        kind: how it was given: ``"place"``, ``"admin"``, ``"geometry"`` or ``"file"``.
        code: the 6-digit administrative code of a region (also for a place that is a
            region), else None.
        level: ``"province"``, ``"city"`` or ``"county"`` with a code, else None.
        note: how the geometry was made, when it is not given as such (e.g. the buffer
            radius around a place's point, or the accuracy of a datum change); else None.
    """

    geometry: BaseGeometry
    name: str
    kind: AreaKind
    code: str | None = None
    level: AdminLevel | None = None
    note: str | None = None

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """The bounds ``(west, south, east, north)`` in degrees."""
        return tuple(self.geometry.bounds)  # type: ignore[return-value]

    def to_geojson(self) -> dict[str, Any]:
        """Return the area as a GeoJSON Feature (EPSG:4326).

        Returns:
            ``{"type": "Feature", "geometry": …, "properties": {"name", "kind", "code",
            "level", "note"}}``.
        """
        properties = {"name": self.name, "kind": self.kind, "code": self.code,
                      "level": self.level, "note": self.note}
        return {"type": "Feature", "geometry": mapping(self.geometry),
                "properties": properties}

    def __repr__(self) -> str:
        code = f", code={self.code!r}, level={self.level!r}" if self.code else ""
        west, south, east, north = self.bbox
        return (f"Area(name={self.name!r}, kind={self.kind!r}{code}, "
                f"bbox=({west:.4f}, {south:.4f}, {east:.4f}, {north:.4f}))")
