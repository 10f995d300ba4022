"""The hub service's routes and handlers, made from the declared endpoints.

:func:`declared_routes` gives one tornado route per declared path; its handler parses the
request with the endpoint's model (400 for what does not fit), runs the operation off the
IOLoop for the authenticated caller (:class:`~terralab.service.endpoint.CallContext`),
answers its result as JSON with the endpoint's status, and answers a refusal with the status
and body of the error table. Endpoints declared ``raw`` keep their hand-written handler
class, given here by name; their route still comes from the declaration.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import partial
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from jupyterhub.services.auth import HubAuth
from jupyterhub.utils import url_path_join
from tornado import web

from terralab.hub.api_handler import APIHandler
from terralab.service.endpoint import (
    Answer,
    BinaryAnswer,
    CallContext,
    Caller,
    Endpoint,
    Redirect,
    dump,
)
from terralab.service.error_table import ERRORS
from terralab.service.registry import EndpointRegistry, endpoints

__all__ = ["DeclaredHandler", "declared_routes", "hub_user_model"]

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def hub_user_model(auth: HubAuth, name: str) -> Mapping[str, Any] | None:
    """The hub's model of user ``name``, asked with the service's own token.

    Called from the operations' threads (never on the IOLoop).

    Returns:
        The model, or None when the hub does not answer it (no such user, or the service's
        token may not read users).
    """
    if not auth.api_url or not auth.api_token:
        return None
    try:
        response = requests.get(f"{auth.api_url.rstrip('/')}/users/{quote(name, safe='')}",
                                headers={"Authorization": f"token {auth.api_token}"},
                                timeout=10)
    except requests.RequestException:
        return None
    if response.status_code != HTTPStatus.OK:
        return None
    try:
        model = response.json()
    except ValueError:
        return None
    return model if isinstance(model, dict) else None


class DeclaredHandler(APIHandler):
    """Serves the declared endpoints of one path, one per method."""

    def initialize(self, operations: Mapping[str, Endpoint], home: Path,
                   resources: Mapping[str, Any]) -> None:
        """Keep the path's endpoints by method, the data folder and the shared resources."""
        self.operations = operations
        self.home = Path(home)
        self.resources = dict(resources)
        self.public = all(found.public for found in operations.values())

    def context(self) -> CallContext:
        """The context of the operation: the authenticated caller (or nobody, when public)."""
        model = self._caller or {"name": ""}
        return CallContext(caller=Caller.from_model(model), home=self.home,
                           resources=self.resources,
                           user_model=partial(hub_user_model, self.hub_auth))

    def _json_body(self) -> Any:
        if not self.request.body:
            return None
        try:
            return json.loads(self.request.body)
        except ValueError as error:
            raise web.HTTPError(HTTPStatus.BAD_REQUEST, f"the body is not JSON: {error}"
                                ) from None

    async def serve(self, *path_args: str) -> None:
        """Parse, run and answer the endpoint of this request's method."""
        found = self.operations.get(self.request.method or "")
        if found is None:
            allowed = ", ".join(sorted(self.operations))
            self.set_header("Allow", allowed)
            raise web.HTTPError(HTTPStatus.METHOD_NOT_ALLOWED, f"this path takes {allowed}")
        if not found.public:
            self.require_user()
        try:
            query = {name: [value.decode("utf-8", "replace") for value in values]
                     for name, values in self.request.query_arguments.items()}
            request = found.parse(path_args, query, self._json_body())
            result = await self.blocking(found.call, self.context(), request)
        except Exception as error:
            answer = ERRORS.answer(error)
            if answer is None:  # no rule: a defect, answered 500 and logged
                raise
            status, body = answer
            self.write_json(body, status)
            return
        if isinstance(result, Redirect):
            self.redirect(result.url)
            return
        if isinstance(result, BinaryAnswer):
            self.set_status(found.status)
            self.set_header("Content-Type", result.media_type)
            for name, value in result.headers.items():
                self.set_header(name, value)
            self.finish(result.content)
            return
        if isinstance(result, Answer):
            self.write_json(dump(result.body), result.status)
            return
        if result is None and found.status == HTTPStatus.NO_CONTENT:
            self.set_status(HTTPStatus.NO_CONTENT)
            self.finish()
            return
        self.write_json(dump(result), found.status)

    get = post = put = patch = delete = serve  # type: ignore[assignment]


def declared_routes(prefix: str, home: Path, resources: Mapping[str, Any], *,
                    registry: EndpointRegistry | None = None,
                    raw: Mapping[str, tuple[type[web.RequestHandler], dict[str, Any]]]
                    | None = None) -> list[tuple[str, type, dict[str, Any]]]:
    """Return the service's routes under ``prefix`` for every declared endpoint.

    Args:
        prefix: the service's URL prefix (``/services/terralab/``).
        home: the terralab data folder.
        resources: what the operations share in this process (``"catalog"``: the catalog
            state, …).
        registry: the endpoints (default: every declared one).
        raw: for each ``raw`` endpoint's name, its hand-written handler and arguments.

    Raises:
        ValueError: for a raw endpoint with no handler given.
    """
    registry = registry or endpoints()
    raw = raw or {}
    by_route: dict[str, dict[str, Endpoint]] = {}
    for found in registry:
        by_route.setdefault(found.route(), {})[found.method] = found
    routes: list[tuple[str, type, dict[str, Any]]] = []
    for route, operations in by_route.items():
        pattern = url_path_join(prefix, route)
        hand_written = [found for found in operations.values() if found.raw]
        if hand_written:
            given = [raw[found.name] for found in hand_written if found.name in raw]
            if (len(given) != len(operations) or len(hand_written) != len(operations)
                    or any(other[0] is not given[0][0] for other in given)):
                names = ", ".join(found.name for found in operations.values())
                raise ValueError(f"give one hand-written handler for all of {names}")
            handler, arguments = given[0]
            routes.append((pattern, handler, arguments))
            continue
        routes.append((pattern, DeclaredHandler,
                       {"operations": operations, "home": home, "resources": resources}))
    return routes
