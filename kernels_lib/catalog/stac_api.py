"""Search a remote STAC API (Earth Search, the Planetary Computer, any other) with pystac-client.

Semantics match the embedded index: items newest first (then by id), the area test is the
server's ``intersects``, and the cloud filter applies only to items that have an
``eo:cloud_cover`` (SAR items always pass). The cloud filter is sent to the server (CQL2-JSON
``filter`` when the API conforms to it, else the ``query`` extension) only for collections that
have a cloud cover; SAR collections (``sentinel-1-*``) are searched apart without it, and when a
search names no collection the filter runs client side. Every answer is checked again client
side (time interval, cloud cover) and the groups are merged in sort order.

STAC APIs page by ``next`` links, not by offset: an ``offset`` is honoured by reading and
skipping that many matching items, and a search never reads more than ``max_scan`` items.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from pystac_client import Client
from pystac_client.conformance import ConformanceClasses
from shapely.geometry import mapping

from terralab.catalog.index import item_interval
from terralab.catalog.query import SearchQuery

__all__ = ["PC_TOKEN_URL", "PlanetaryComputerSigner", "StacApiSource", "is_sar_collection"]

PC_TOKEN_URL = "https://planetarycomputer.microsoft.com/api/sas/v1/token/{collection}"
_BLOB_SUFFIX = ".blob.core.windows.net"


def is_sar_collection(collection_id: str) -> bool:
    """Return True for a radar collection, whose items have no cloud cover (Sentinel-1, SAR)."""
    name = collection_id.lower()
    return name.startswith("sentinel-1") or "sar" in name.split("-")


class PlanetaryComputerSigner:
    """Sign Azure Blob Storage asset hrefs with Planetary Computer SAS tokens.

    A token is fetched once per collection from the token endpoint and kept until shortly
    before its ``msft:expiry``; hrefs outside ``*.blob.core.windows.net`` and hrefs that are
    already signed are left as they are.

    Args:
        token_url: the token endpoint, with ``{collection}`` where the collection id goes.
        timeout: seconds to wait for the token endpoint.
        margin_s: renew a token this many seconds before it expires.
    """

    def __init__(self, token_url: str = PC_TOKEN_URL, *, timeout: float = 30,
                 margin_s: float = 60) -> None:
        self.token_url = token_url
        self.timeout = timeout
        self.margin_s = margin_s
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._session = requests.Session()

    def token(self, collection: str) -> str:
        """Return a valid SAS token for ``collection`` (cached until shortly before expiry)."""
        with self._lock:
            cached = self._tokens.get(collection)
            if cached and cached[1] - self.margin_s > time.time():
                return cached[0]
            url = self.token_url.format(collection=collection)
            response = self._session.get(url, timeout=self.timeout)
            if response.status_code != 200:
                raise RuntimeError(f"no SAS token for {collection!r} from {url}: "
                                   f"HTTP {response.status_code}")
            body = response.json()
            expiry = datetime.fromisoformat(body["msft:expiry"]).timestamp()
            self._tokens[collection] = (body["token"], expiry)
            return body["token"]

    def sign_href(self, href: str, collection: str) -> str:
        """Return ``href`` with the collection's token appended when it is on blob storage."""
        parts = urlsplit(href)
        if not (parts.hostname or "").endswith(_BLOB_SUFFIX) or "sig=" in parts.query:
            return href
        token = self.token(collection)
        return f"{href}{'&' if parts.query else '?'}{token}"

    def sign_item(self, item: dict[str, Any]) -> dict[str, Any]:
        """Return a copy of a STAC item dict whose blob-storage asset hrefs are signed."""
        collection = item.get("collection") or ""
        assets = {key: {**asset, "href": self.sign_href(asset["href"], collection)}
                  for key, asset in (item.get("assets") or {}).items()}
        return {**item, "assets": assets}


class StacApiSource:
    """A catalog source backed by a STAC API.

    Args:
        url: the API's landing page, e.g. ``https://earth-search.aws.element84.com/v1``.
        name: the source name shown to users.
        signing: None, ``"planetary-computer"`` (SAS tokens, see ``PlanetaryComputerSigner``)
            or a signer object with a ``sign_item(dict) -> dict`` method.
        headers: extra HTTP headers (e.g. an API key).
        collection_ids: terralab collection id → the API's collection id, where they differ.
        asset_keys: the API's collection id → {the API's asset key → terralab's asset key};
            matching assets are renamed in the returned items.
        token_url: the token endpoint for ``"planetary-computer"`` signing.
        timeout: seconds to wait for each HTTP request.
        max_scan: the most items one search reads from the API (offset and client-side
            filtering read past the page).
    """

    def __init__(self, url: str, *, name: str | None = None, signing: Any = None,
                 headers: Mapping[str, str] | None = None,
                 collection_ids: Mapping[str, str] | None = None,
                 asset_keys: Mapping[str, Mapping[str, str]] | None = None,
                 token_url: str = PC_TOKEN_URL, timeout: float = 60,
                 max_scan: int = 10_000) -> None:
        self.url = url.rstrip("/")
        self.name = name or self.url
        self.headers = dict(headers or {})
        self.collection_ids = dict(collection_ids or {})
        self._reverse_ids = {remote: ours for ours, remote in self.collection_ids.items()}
        self.asset_keys = {key: dict(value) for key, value in (asset_keys or {}).items()}
        self.timeout = timeout
        self.max_scan = max_scan
        if signing == "planetary-computer":
            signing = PlanetaryComputerSigner(token_url, timeout=timeout)
        elif isinstance(signing, str):
            raise ValueError(f"unknown signing {signing!r}: use None or 'planetary-computer'")
        self.signer = signing
        self._client: Client | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"StacApiSource({self.url!r}, name={self.name!r})"

    @property
    def client(self) -> Client:
        """The pystac-client ``Client`` (opened on first use: it reads the landing page)."""
        with self._lock:
            if self._client is None:
                self._client = Client.open(self.url, headers=self.headers or None,
                                           timeout=self.timeout)
            return self._client

    def search(self, query: SearchQuery) -> list[dict[str, Any]]:
        """Return one page of matching items, newest first, as (signed) STAC dicts.

        A remote API holds no user items: ``query.owner`` is ignored. The order is the
        API's own sort (``sortby`` datetime descending, then id); an API without the sort
        extension answers in its own order, which this page keeps.
        """
        wanted = query.offset + query.limit
        streams = [self._stream(query, group, cloud)
                   for group, cloud in self._groups(query)]
        merged = heapq.merge(*streams, key=lambda pair: pair[0])
        page = [item for _, item in itertools.islice(merged, query.offset, wanted)]
        return [self._finish(item) for item in page]

    def collections(self) -> list[dict[str, Any]]:
        """Return the API's collections as STAC dicts (ids mapped to terralab's)."""
        found = []
        for collection in self.client.get_collections():
            body = collection.to_dict(include_self_link=False, transform_hrefs=False)
            body["id"] = self._reverse_ids.get(body["id"], body["id"])
            found.append(body)
        return found

    def get_item(self, item_id: str, collection: str | None = None) -> dict[str, Any] | None:
        """Return one item by id (in ``collection`` when given), or None."""
        names = [self.collection_ids.get(collection, collection)] if collection else None
        search = self.client.search(ids=[item_id], collections=names, max_items=1)
        for item in search.items_as_dicts():
            return self._finish(item)
        return None

    # -- internals -------------------------------------------------------------------------

    def _groups(self, query: SearchQuery) -> list[tuple[list[str] | None, bool]]:
        """Split the search: (API collection ids or None, whether the server filters clouds)."""
        names = [self.collection_ids.get(name, name) for name in query.collections or ()]
        if query.max_cloud is None or not names:
            return [(names or None, False)]
        optical = [name for name in names if not is_sar_collection(name)]
        radar = [name for name in names if is_sar_collection(name)]
        return [(group, cloud) for group, cloud in ((optical, True), (radar, False)) if group]

    def _stream(self, query: SearchQuery, collections: list[str] | None,
                server_cloud: bool) -> Iterator[tuple[tuple[int, str], dict[str, Any]]]:
        """Yield ((-datetime, id), item) for the matching items of one group, in order."""
        options: dict[str, Any] = {"collections": collections,
                                   "limit": min(query.offset + query.limit, 250),
                                   "max_items": self.max_scan}
        if query.geometry is not None:
            options["intersects"] = mapping(query.geometry)
        if query.start or query.end:
            options["datetime"] = [query.start, query.end]
        client = self.client
        if server_cloud and query.max_cloud is not None:
            if client.conforms_to(ConformanceClasses.FILTER):
                options["filter"] = {"op": "<=", "args": [{"property": "eo:cloud_cover"},
                                                          query.max_cloud]}
                options["filter_lang"] = "cql2-json"
            elif client.conforms_to(ConformanceClasses.QUERY):
                options["query"] = {"eo:cloud_cover": {"lte": query.max_cloud}}
        if client.conforms_to(ConformanceClasses.SORT):
            options["sortby"] = [{"field": "properties.datetime", "direction": "desc"},
                                 {"field": "id", "direction": "asc"}]
        for item in client.search(**options).items_as_dicts():
            if _passes(item, query):
                key = item_interval(item.get("properties") or {})[0]
                yield (-key, item["id"]), item

    def _finish(self, item: dict[str, Any]) -> dict[str, Any]:
        """Sign an item, then map its collection id and asset keys onto terralab's."""
        if self.signer is not None:
            item = self.signer.sign_item(item)
        remote = item.get("collection")
        renames = self.asset_keys.get(remote or "")
        if renames:
            item = {**item, "assets": {renames.get(key, key): asset
                                       for key, asset in item["assets"].items()}}
        if remote in self._reverse_ids:
            item = {**item, "collection": self._reverse_ids[remote]}
        return item


def _passes(item: dict[str, Any], query: SearchQuery) -> bool:
    """Check the time interval and the cloud cover client side."""
    props = item.get("properties") or {}
    try:
        _, start, end = item_interval(props)
    except ValueError:
        return False
    if query.start and end < _micros(query.start):
        return False
    if query.end and start > _micros(query.end):
        return False
    cloud = props.get("eo:cloud_cover")
    return query.max_cloud is None or cloud is None or float(cloud) <= query.max_cloud


def _micros(when: datetime) -> int:
    return item_interval({"datetime": when.isoformat()})[0]
