"""A local STAC API that replays real items: landing page, collections, search, SAS tokens.

It runs ``http.server`` on 127.0.0.1 in a thread and answers the way a STAC API (stac-fastapi /
pgstac, as on the Planetary Computer) does: ``/``, ``/conformance``, ``/collections``,
``/collections/{id}``, ``/collections/{id}/items/{item}``, ``/search`` by GET and POST with
``bbox``, ``intersects``, ``datetime``, ``collections``, ``ids``, ``limit``, the ``query``
extension and CQL2-JSON ``filter`` (comparisons, and/or/not, isNull), pages linked by a
``next`` link with a token. ``/token/{collection}`` hands out fake SAS tokens like the Planetary
Computer's token endpoint, and ``/static/...`` serves the files of an optional folder.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from shapely.geometry import box, shape

CONFORMANCE = [
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/item-search",
    "https://api.stacspec.org/v1.0.0/item-search#query",
    "https://api.stacspec.org/v1.0.0/item-search#sort",
    "https://api.stacspec.org/v1.0.0-rc.2/item-search#filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
]
_OPS = {"=": lambda a, b: a == b, "<>": lambda a, b: a != b, "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
_QUERY_OPS = {"eq": "=", "neq": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.strip())


def _interval(item: dict[str, Any]) -> tuple[datetime, datetime]:
    props = item["properties"]
    start = props.get("start_datetime") or props["datetime"]
    end = props.get("end_datetime") or props["datetime"]
    return _when(start), _when(end)


def _value(item: dict[str, Any], name: str) -> Any:
    if name in ("id", "collection"):
        return item.get(name)
    return item["properties"].get(name.removeprefix("properties."))


def _cql2(node: Any, item: dict[str, Any]) -> Any:
    """Evaluate a small CQL2-JSON subset against one item."""
    if isinstance(node, dict) and "property" in node:
        return _value(item, node["property"])
    if not isinstance(node, dict) or "op" not in node:
        return node
    op, args = node["op"], node.get("args", [])
    if op == "and":
        return all(_cql2(arg, item) for arg in args)
    if op == "or":
        return any(_cql2(arg, item) for arg in args)
    if op == "not":
        return not _cql2(args[0], item)
    if op == "isNull":
        return _cql2(args[0], item) is None
    if op in _OPS:
        left, right = _cql2(args[0], item), _cql2(args[1], item)
        return left is not None and right is not None and _OPS[op](left, right)
    raise ValueError(f"unsupported CQL2 operator {op!r}")


class _SearchError(ValueError):
    pass


class StacReplay:
    """Serve ``items`` as a STAC API on a free local port (use as a context manager).

    Args:
        items: real STAC Item dicts.
        page_size: the default page size (``limit``) of ``/search``.
        max_limit: the largest page the server hands out, whatever ``limit`` asks.
        static_root: a folder served under ``/static/``.
        conformance: the conformance classes the landing page announces.
    """

    def __init__(self, items: list[dict[str, Any]], *, page_size: int = 10,
                 max_limit: int = 1000, static_root: Path | None = None,
                 conformance: list[str] | None = None) -> None:
        self.items = items
        self.page_size = page_size
        self.max_limit = max_limit
        self.static_root = static_root
        self.conformance = CONFORMANCE if conformance is None else conformance
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.token_hits: Counter[str] = Counter()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StacReplay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def searches(self) -> list[dict[str, Any]]:
        """The parameters of every ``/search`` request so far."""
        return [params for _, path, params in self.requests if path == "/search"]

    # -- documents -------------------------------------------------------------------------

    def landing(self) -> dict[str, Any]:
        return {"type": "Catalog", "id": "replay", "stac_version": "1.0.0",
                "description": "Real items replayed", "conformsTo": self.conformance,
                "links": [
                    {"rel": "self", "href": self.url + "/", "type": "application/json"},
                    {"rel": "root", "href": self.url + "/", "type": "application/json"},
                    {"rel": "conformance", "href": self.url + "/conformance"},
                    {"rel": "data", "href": self.url + "/collections"},
                    {"rel": "search", "href": self.url + "/search", "method": "GET",
                     "type": "application/geo+json"},
                    {"rel": "search", "href": self.url + "/search", "method": "POST",
                     "type": "application/geo+json"}]}

    def collection(self, name: str) -> dict[str, Any] | None:
        members = [item for item in self.items if item["collection"] == name]
        if not members:
            return None
        bounds = [min(i["bbox"][0] for i in members), min(i["bbox"][1] for i in members),
                  max(i["bbox"][2] for i in members), max(i["bbox"][3] for i in members)]
        times = sorted(t.isoformat() for item in members for t in _interval(item))
        link = self.url + "/collections/" + name
        return {"type": "Collection", "id": name, "stac_version": "1.0.0",
                "description": f"{name} (replayed)", "license": "proprietary",
                "extent": {"spatial": {"bbox": [bounds]},
                           "temporal": {"interval": [[times[0], times[-1]]]}},
                "links": [{"rel": "self", "href": link}, {"rel": "root", "href": self.url + "/"},
                          {"rel": "items", "href": link + "/items"}]}

    def search(self, params: dict[str, Any]) -> dict[str, Any]:
        """Answer one search; ``params`` are POST-body style (lists and dicts)."""
        hits = [item for item in self.items if self._matches(item, params)]
        hits.sort(key=lambda item: item["id"])
        hits.sort(key=lambda item: item["properties"].get("datetime") or "", reverse=True)
        start = int(params.get("token") or 0)
        limit = min(int(params.get("limit") or self.page_size), self.max_limit)
        page = hits[start:start + limit]
        links: list[dict[str, Any]] = [{"rel": "root", "href": self.url + "/"}]
        if start + limit < len(hits):
            links.append({"rel": "next", "href": self.url + "/search", "method": "POST",
                          "body": {**params, "token": str(start + limit)}, "merge": False,
                          "type": "application/geo+json"})
        return {"type": "FeatureCollection", "features": page, "links": links,
                "numberMatched": len(hits), "numberReturned": len(page)}

    def _matches(self, item: dict[str, Any], params: dict[str, Any]) -> bool:
        if params.get("collections") and item["collection"] not in params["collections"]:
            return False
        if params.get("ids") and item["id"] not in params["ids"]:
            return False
        if params.get("bbox") and not box(*params["bbox"][:4]).intersects(
                shape(item["geometry"])):
            return False
        if params.get("intersects") and not shape(params["intersects"]).intersects(
                shape(item["geometry"])):
            return False
        if params.get("datetime"):
            first, _, last = params["datetime"].partition("/")
            start, end = _interval(item)
            if last and last != ".." and start > _when(last):
                return False
            if first and first != ".." and end < _when(first):
                return False
            if not last and not (start <= _when(first) <= end):
                return False
        for name, tests in (params.get("query") or {}).items():
            for op, value in tests.items():
                if op not in _QUERY_OPS:
                    raise _SearchError(f"unsupported query operator {op!r}")
                node = {"op": _QUERY_OPS[op], "args": [{"property": name}, value]}
                if not _cql2(node, item):
                    return False
        if params.get("filter") is not None:
            if params.get("filter-lang", "cql2-json") != "cql2-json":
                raise _SearchError("only cql2-json filters are supported")
            try:
                return bool(_cql2(params["filter"], item))
            except ValueError as error:
                raise _SearchError(str(error)) from None
        return True

    def token(self, collection: str) -> dict[str, Any]:
        self.token_hits[collection] += 1
        expiry = datetime.now(UTC) + timedelta(hours=1)
        return {"msft:expiry": expiry.isoformat().replace("+00:00", "Z"),
                "token": f"se=2099&sp=rl&sig=fake-{collection}-{self.token_hits[collection]}"}

    # -- HTTP ------------------------------------------------------------------------------

    def _route(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        self.requests.append((method, path, params))
        parts = [part for part in path.split("/") if part]
        if not parts:
            return 200, self.landing()
        if parts == ["conformance"]:
            return 200, {"conformsTo": self.conformance}
        if parts == ["collections"]:
            names = sorted({item["collection"] for item in self.items})
            return 200, {"collections": [self.collection(name) for name in names], "links": []}
        if parts[0] == "collections" and len(parts) == 2:
            found = self.collection(parts[1])
            return (200, found) if found else (404, {"code": "NotFound"})
        if parts[0] == "collections" and len(parts) == 4 and parts[2] == "items":
            for item in self.items:
                if item["collection"] == parts[1] and item["id"] == parts[3]:
                    return 200, item
            return 404, {"code": "NotFound"}
        if parts == ["search"]:
            try:
                return 200, self.search(params)
            except (_SearchError, ValueError, TypeError, KeyError) as error:
                return 400, {"code": "BadRequest", "description": str(error)}
        if parts[0] == "token" and len(parts) == 2:
            return 200, self.token(parts[1])
        return 404, {"code": "NotFound", "description": path}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                if url.path.startswith("/static/") and replay.static_root is not None:
                    target = (replay.static_root / url.path[len("/static/"):]).resolve()
                    if target.is_file() and replay.static_root.resolve() in target.parents:
                        return self._send(200, target.read_bytes(), "application/json")
                    return self._send(404, b"{}", "application/json")
                raw = dict(urllib.parse.parse_qsl(url.query))
                params: dict[str, Any] = dict(raw)
                for key in ("collections", "ids"):
                    if key in raw:
                        params[key] = raw[key].split(",")
                if "bbox" in raw:
                    params["bbox"] = [float(v) for v in raw["bbox"].split(",")]
                for key in ("intersects", "query", "filter"):
                    if key in raw:
                        params[key] = json.loads(raw[key])
                status, body = replay._route("GET", url.path, params)
                self._send(status, json.dumps(body).encode(), "application/json")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                params = json.loads(self.rfile.read(length) or b"{}")
                status, body = replay._route("POST", urllib.parse.urlsplit(self.path).path,
                                             params)
                self._send(status, json.dumps(body).encode(), "application/geo+json")

        return Handler


def real_items(folder: Path) -> list[dict[str, Any]]:
    """Return the real items of ``../shared/data/real/stac_items`` (all three files)."""
    items: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.json")):
        items.extend(json.loads(path.read_text()))
    return items
