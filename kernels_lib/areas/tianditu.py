"""An online geocoder: the Tianditu (天地图) POI search, for ``$TERRALAB_GEOCODER=tianditu``.

It needs a Tianditu key (``$TIANDITU_TOKEN``, or ``token=``) and network access, so it is
never the default and never used by the tests. Each POI comes back as a point (a circle of
:func:`~terralab.areas.places.buffer_radius_km` around it as a search area); Tianditu's
coordinates are CGCS2000, taken as WGS84 (centimetres apart).

API: ``GET https://api.tianditu.gov.cn/v2/search?postStr={"keyWord": …, "queryType": 1,
"mapBound": "-180,-90,180,90", "level": 12, "start": 0, "count": N}&type=query&tk=KEY``.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from terralab.areas.errors import AreaError
from terralab.areas.geocoders import register_geocoder
from terralab.areas.places import Place
from terralab.settings import settings

__all__ = ["TiandituGeocoder"]

ENV_TOKEN = "TIANDITU_TOKEN"
_URL = "https://api.tianditu.gov.cn/v2/search"


def _fetch(url: str, timeout: float) -> bytes:
    """GET a URL (the network call; replaced in tests)."""
    request = urllib.request.Request(url, headers={"User-Agent": "terralab"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


class TiandituGeocoder:
    """Place names through Tianditu's POI search.

    Args:
        token: the Tianditu key; ``$TIANDITU_TOKEN`` when omitted.
        timeout: seconds to wait for an answer.
        fetch: the function that GETs a URL and returns the body (for tests and proxies).
    """

    name = "tianditu"

    def __init__(self, token: str | None = None, *, timeout: float = 10.0,
                 fetch: Callable[[str, float], bytes] | None = None) -> None:
        self.token = token or settings().maps.tianditu_token or ""
        self.timeout = timeout
        self.fetch = fetch or _fetch

    def url(self, query: str, limit: int) -> str:
        """The request URL for a query."""
        post = {"keyWord": query, "queryType": 1, "mapBound": "-180,-90,180,90",
                "level": 12, "start": 0, "count": limit}
        params = {"postStr": json.dumps(post, ensure_ascii=False), "type": "query",
                  "tk": self.token}
        return f"{_URL}?{urllib.parse.urlencode(params)}"

    def search(self, query: str, *, limit: int = 10) -> list[Place]:
        """Return up to ``limit`` POIs called ``query`` in Tianditu's order.

        Raises:
            AreaError: without a key, or when Tianditu cannot be reached or refuses.
        """
        if not self.token:
            raise AreaError(f"the Tianditu geocoder needs a key: set ${ENV_TOKEN}")
        try:
            body = self.fetch(self.url(query, limit), self.timeout)
            answer = json.loads(body)
        except (OSError, ValueError) as error:
            raise AreaError(f"the Tianditu geocoder failed for {query!r}: {error}") from None
        return parse_answer(answer)[:limit]


def parse_answer(answer: dict[str, Any]) -> list[Place]:
    """Turn a Tianditu v2/search answer into places (POIs with a ``lonlat``)."""
    status = answer.get("status") or {}
    if isinstance(status, dict) and str(status.get("infocode", "1000")) != "1000":
        raise AreaError(f"Tianditu refused the query: {status.get('cndesc') or status}")
    places = []
    for poi in answer.get("pois") or []:
        try:
            lon, lat = (float(v) for v in str(poi["lonlat"]).replace(" ", ",").split(",")[:2])
        except (KeyError, ValueError):
            continue
        ident = poi.get("hotPointID") or f"{lon:.6f},{lat:.6f}"
        places.append(Place(id=f"tianditu:{ident}", name=str(poi.get("name") or ""), lon=lon,
                            lat=lat, province=poi.get("province") or None,
                            source="tianditu"))
    return places


register_geocoder("tianditu", TiandituGeocoder, overwrite=True)
