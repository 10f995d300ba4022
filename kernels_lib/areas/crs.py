"""The coordinate systems terralab accepts, and the way to EPSG:4326.

The rule (PRODUCT.md §2): WGS84, CGCS2000, Xian 1980 and Beijing 1954, geographic or any
projected CRS built on them (UTM zones, the 3- and 6-degree Gauss-Krüger zones EPSG:4491…4554,
2327…2442, 2401…2442, 21413…21483 …). The decision is made on the geodetic datum pyproj finds
in the CRS, not on a list of codes, so ESRI ``.prj`` files (``D_China_2000``) and custom
projections on these datums pass too. Web Mercator (EPSG:3857) is refused by default: it is a
display projection whose coordinates are not true Mercator on WGS84 (EPSG marks it unfit for
geodetic use); pass ``allow_web_mercator=True`` to take it anyway.

Accuracy of the change to EPSG:4326, as PROJ does it without extra grids:

* WGS84: exact. CGCS2000: no shift; the two frames agree to a few centimetres.
* Xian 1980: EPSG publishes no transformation to WGS84; PROJ uses a "ballpark" one (no datum
  shift), wrong by up to roughly 100 m.
* Beijing 1954: PROJ applies an EPSG transformation where one covers the data (a few
  regions, 1–15 m), else a ballpark one wrong by up to roughly 100–150 m.

That is far below the size of a satellite scene, so fine for a search area; it is reported in
:attr:`CrsCheck.accuracy` so that callers who need better can say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from terralab.areas.errors import AreaError

__all__ = ["ALLOWED_DATUMS", "CrsCheck", "check_crs", "reproject", "to_wgs84"]

ALLOWED_DATUMS = ("WGS 84", "CGCS2000", "Xian 1980", "Beijing 1954")
_DATUM_NAMES = {
    "world geodetic system 1984": "WGS 84", "wgs 1984": "WGS 84", "wgs 84": "WGS 84",
    "china 2000": "CGCS2000", "china geodetic coordinate system 2000": "CGCS2000",
    "cgcs2000": "CGCS2000", "xian 1980": "Xian 1980", "xi'an 1980": "Xian 1980",
    "beijing 1954": "Beijing 1954",
}
_ACCURACY = {
    "WGS 84": "exact (no datum change)",
    "CGCS2000": "a few centimetres (CGCS2000 and WGS84 agree at cm level; no shift applied)",
    "Xian 1980": "up to about 100 m (PROJ has no Xian 1980 → WGS84 transformation; "
                 "ballpark, no datum shift)",
    "Beijing 1954": "1–15 m where an EPSG transformation covers the data, else up to about "
                    "150 m (ballpark, no datum shift)",
}
_REALIZATION = re.compile(r"\s*\(.*\)$|\s+ensemble$")


@dataclass(frozen=True)
class CrsCheck:
    """A CRS that passed the rule.

    Attributes:
        crs: the CRS as pyproj parsed it.
        datum: one of :data:`ALLOWED_DATUMS`.
        projected: whether it is a projected CRS (else geographic).
        name: its name (``"CGCS2000 / 3-degree Gauss-Kruger CM 120E"``).
        accuracy: how close the change to EPSG:4326 is, in words.
    """

    crs: CRS
    datum: str
    projected: bool
    name: str
    accuracy: str

    @property
    def is_wgs84_lonlat(self) -> bool:
        """Whether coordinates are already WGS84 / CGCS2000 longitude, latitude."""
        return not self.projected and self.datum in ("WGS 84", "CGCS2000")


def _datum_key(name: str) -> str | None:
    """Map a datum name (EPSG or ESRI spelling) onto one of the allowed datums."""
    text = name.strip().lower().replace("_", " ")
    text = text.removeprefix("d ")
    text = _REALIZATION.sub("", text)
    return _DATUM_NAMES.get(text)


def check_crs(crs: Any, *, what: str = "the data", allow_web_mercator: bool = False) -> CrsCheck:
    """Check a CRS against the rule and return what it is.

    Args:
        crs: anything pyproj takes (``"EPSG:4490"``, WKT, a pyproj or rasterio CRS).
        what: how to call the data in messages (``"aoi.zip"``).
        allow_web_mercator: accept EPSG:3857 (refused by default).

    Returns:
        The parsed CRS, its datum and the accuracy of the change to EPSG:4326.

    Raises:
        AreaError: for a missing, unreadable or not-allowed CRS.
    """
    if crs is None:
        raise AreaError(f"{what} has no coordinate system; allowed: "
                        f"{', '.join(ALLOWED_DATUMS)} (or projections on them)")
    try:
        parsed = CRS.from_user_input(crs)
    except CRSError as error:
        raise AreaError(f"{what} has a coordinate system pyproj cannot read: {error}") from None
    label = parsed.name or parsed.to_string()
    if parsed.is_geocentric or not (parsed.is_geographic or parsed.is_projected):
        raise AreaError(f"{what} uses {label!r}, which is neither geographic nor projected")
    geodetic = parsed.geodetic_crs
    datum = _datum_key(geodetic.datum.name) if geodetic is not None else None
    if datum is None:
        found = geodetic.datum.name if geodetic is not None else "no datum"
        raise AreaError(f"{what} uses {label!r} on the datum {found!r}; allowed datums: "
                        f"{', '.join(ALLOWED_DATUMS)} (geographic or projected on them)")
    method = (parsed.coordinate_operation.method_name
              if parsed.coordinate_operation is not None else "")
    if "pseudo mercator" in method.lower().replace("-", " ") and not allow_web_mercator:
        raise AreaError(f"{what} uses {label!r}, a web-map display projection; reproject it "
                        f"to WGS84 (EPSG:4326), CGCS2000 (EPSG:4490) or a UTM/Gauss-Krüger zone")
    return CrsCheck(crs=parsed, datum=datum, projected=parsed.is_projected, name=label,
                    accuracy=_ACCURACY[datum])


def to_wgs84(crs: CrsCheck) -> Transformer:
    """Return the transformer from a checked CRS to EPSG:4326 (lon, lat order)."""
    return Transformer.from_crs(crs.crs, "EPSG:4326", always_xy=True)


def reproject(geometry: BaseGeometry, transformer: Transformer) -> BaseGeometry:
    """Apply a pyproj transformer (built with ``always_xy=True``) to a shapely geometry."""

    def apply(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(transformer.transform(coords[:, 0], coords[:, 1]))

    return shapely.transform(geometry, apply)
