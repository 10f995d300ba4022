"""One service operation, declared once: method, path, request and response models, errors.

From an :class:`Endpoint` come the hub's route and handler
(:mod:`terralab.hub.declared_handlers`), the HTTP client's call
(:meth:`terralab.service.http_client.ServiceClient.request`), the in-process call
(:class:`terralab.service.local.LocalService`) and the OpenAPI document
(:mod:`terralab.service.openapi`).

The request is one pydantic model for the path, query and body fields together: the fields
named in the path template (``projects/{project_id}``) travel in the path, the others in the
query string for ``GET`` and ``DELETE`` and in the JSON body otherwise (except those listed in
``query``). ``body_field`` names a field that *is* the whole JSON body (a free-form object).
The operation itself is ``call(context, request)``, run by the hub for an authenticated caller
and by the in-process transport for the local user.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, ValidationError

__all__ = ["Answer", "BinaryAnswer", "CallContext", "Caller", "Endpoint", "Redirect",
           "RequestError", "dump", "path_fields"]

_PARAM = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_BODY_METHODS = {"POST", "PUT", "PATCH"}


class RequestError(ValueError):
    """A request whose path, query or body does not match the endpoint's model (400)."""


@dataclass(frozen=True)
class Caller:
    """Who calls: the hub user the service authenticated, or the local user in-process.

    Attributes:
        name: the user's name.
        groups: the user's hub groups.
        admin: whether the user is a hub admin (in-process: the owner of the local home).
        model: the hub's user model (in-process: ``{"name", "groups", "admin"}``).
    """

    name: str
    groups: tuple[str, ...] = ()
    admin: bool = False
    model: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_model(cls, model: Mapping[str, Any]) -> Caller:
        """The caller of a hub user model (``name``, ``groups``, ``admin``)."""
        return cls(name=str(model["name"]), groups=tuple(model.get("groups") or ()),
                   admin=bool(model.get("admin")), model=dict(model))


@dataclass
class CallContext:
    """What an operation runs with.

    Attributes:
        caller: who calls.
        home: the terralab data folder.
        resources: objects the transport holds for the operations (the hub's catalog state,
            …), by name.
        user_model: asks the hub for another user's model (None: not known); in-process it
            answers ``{"name", "groups": []}``.
    """

    caller: Caller
    home: Path
    resources: dict[str, Any] = field(default_factory=dict)
    user_model: Callable[[str], Mapping[str, Any] | None] = (
        lambda name: {"name": name, "groups": []})


@dataclass(frozen=True)
class BinaryAnswer:
    """An operation's answer that is not JSON (a PNG quicklook, a small file).

    Attributes:
        content: the bytes.
        media_type: their media type.
        headers: extra headers (``Cache-Control``, ``Content-Disposition``…).
    """

    content: bytes
    media_type: str
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """An operation's JSON answer with a success status of its own.

    For an endpoint whose success has more than one status (``PUT`` answers 201 when it
    added, 200 when the thing was there already): ``status`` is the endpoint's ``status``
    or one of its ``other_statuses``.
    """

    body: Any
    status: int


@dataclass(frozen=True)
class Redirect:
    """An operation's answer that sends the caller elsewhere (302), e.g. a remote preview."""

    url: str


def path_fields(path: str) -> tuple[str, ...]:
    """The names of the path parameters of a path template."""
    return tuple(_PARAM.findall(path))


class _NoRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Endpoint:
    """One operation of the hub service.

    Attributes:
        name: its name, ``"<domain>.<operation>"`` (the OpenAPI ``operationId``).
        method: the HTTP method.
        path: the path template relative to the service prefix (``projects/{project_id}``).
        summary: one line for the OpenAPI document.
        call: ``call(context, request) -> result``; None for an endpoint whose hub handler is
            written by hand (``raw``).
        request: the request model (path, query and body fields); None: no fields.
        response: the model of the JSON answer (None: not JSON, e.g. a file).
        status: the status of a success.
        other_statuses: the other statuses of a success (the operation answers an
            :class:`Answer` naming one, or a :class:`Redirect` for 302).
        errors: the exception types it may raise (their statuses come from the error table).
        query: fields of a ``POST``/``PUT``/``PATCH`` that travel in the query string.
        body_field: the field that is the whole JSON body.
        public: True when no authentication is needed.
        raw: the hub handler is written by hand (streams, redirects, uploads); the declaration
            still gives its route, its client path and its OpenAPI entry.
        media_type: the answer's media type.
        tag: the OpenAPI tag (default: the domain of ``name``).
        description: the longer text for the OpenAPI document.
        refusal: the error raised for a request that does not fit its model (a domain's own
            error, e.g. ``ProjectError``, so both transports raise what the store raises).
        headers: request headers a hand-written (``raw``) handler reads, as ``(name,
            description)`` pairs (OpenAPI header parameters, all optional).
    """

    name: str
    method: str
    path: str
    summary: str
    call: Callable[[CallContext, Any], Any] | None = None
    request: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    other_statuses: tuple[int, ...] = ()
    errors: tuple[type[BaseException], ...] = ()
    query: tuple[str, ...] = ()
    body_field: str | None = None
    public: bool = False
    raw: bool = False
    media_type: str = "application/json"
    tag: str | None = None
    description: str = ""
    refusal: type[Exception] = RequestError
    headers: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        """Check that the path's parameters and the special fields are request fields."""
        fields = set(self.model.model_fields)
        missing = [name for name in (*self.path_params, *self.query) if name not in fields]
        if self.body_field is not None and self.body_field not in fields:
            missing.append(self.body_field)
        if missing:
            raise ValueError(f"endpoint {self.name}: {', '.join(missing)} not in its request")
        if self.call is None and not self.raw:
            raise ValueError(f"endpoint {self.name} needs a call (or raw=True)")

    @property
    def model(self) -> type[BaseModel]:
        """The request model (an empty one when the endpoint takes nothing)."""
        return self.request or _NoRequest

    @property
    def domain(self) -> str:
        """The domain the endpoint belongs to (``projects`` of ``projects.create``)."""
        return self.tag or self.name.split(".", 1)[0]

    @property
    def path_params(self) -> tuple[str, ...]:
        """The path template's parameter names."""
        return path_fields(self.path)

    def location(self, name: str) -> str:
        """Where field ``name`` travels: ``"path"``, ``"query"`` or ``"body"``."""
        if name in self.path_params:
            return "path"
        if self.method not in _BODY_METHODS or name in self.query:
            return "query"
        return "body"

    def route(self) -> str:
        """The tornado route pattern of the path (relative to the service prefix)."""
        def group(match: re.Match[str]) -> str:
            info = self.model.model_fields[match.group(1)]
            return r"(-?\d+)" if info.annotation is int else r"([^/]+)"

        return _PARAM.sub(group, self.path)

    def url(self, values: Mapping[str, Any]) -> str:
        """The path with its parameters filled in (each quoted as one segment)."""
        return _PARAM.sub(lambda m: quote(str(values[m.group(1)]), safe=""), self.path)

    def parse(self, path_args: Sequence[str], query: Mapping[str, Sequence[str]],
              body: Any) -> BaseModel:
        """Build the request from what arrived.

        Args:
            path_args: the path parameters, in template order.
            query: the query arguments (each a list of strings).
            body: the JSON body (None when there is none).

        Raises:
            RequestError: naming each field that does not fit (or the endpoint's ``refusal``).
        """
        values: dict[str, Any] = dict(zip(self.path_params, path_args, strict=True))
        fields = self.model.model_fields
        for name, given in query.items():
            if name in fields and self.location(name) == "query":
                annotation = str(fields[name].annotation)
                values[name] = list(given) if "list" in annotation else given[-1]
        if self.body_field is not None:
            if body is not None:
                values[self.body_field] = body
        elif body is not None:
            if not isinstance(body, dict):
                raise self.refusal("the body must be a JSON object")
            extra = self.model.model_config.get("extra") == "allow"
            for name, value in body.items():
                if extra or (name in fields and self.location(name) == "body"):
                    values[name] = value
                elif name in fields:
                    raise self.refusal(f"{name} is not a body field of {self.method} "
                                       f"{self.path}")
                else:
                    raise self.refusal(f"unknown field {name!r}; the body takes "
                                       + ", ".join(n for n in fields
                                                   if self.location(n) == "body"))
        return self.validate(values)

    def validate(self, values: Mapping[str, Any]) -> BaseModel:
        """The request model of ``values``.

        Raises:
            RequestError: naming each field that does not fit.
        """
        try:
            return self.model.model_validate(dict(values))
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in problem['loc']) or 'request'}: {problem['msg']}"
                for problem in error.errors(include_url=False))
            raise self.refusal(f"bad request to {self.method} {self.path}: {problems}"
                               ) from None

    def split(self, request: BaseModel) -> tuple[str, dict[str, Any], Any]:
        """The path, query parameters and JSON body that carry ``request``."""
        given = request.model_dump(mode="json", exclude_unset=True)
        values = request.model_dump(mode="json")
        path = self.url(values)
        if self.body_field is not None:
            body = given.get(self.body_field)
            names = [n for n in given if n != self.body_field]
        else:
            names = list(given)
            body = {n: given[n] for n in names if self.location(n) == "body"} or (
                {} if self.method in _BODY_METHODS else None)
        query = {n: _query_value(given[n]) for n in names
                 if self.location(n) == "query" and given[n] is not None}
        return path, query, body


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def dump(result: Any) -> Any:
    """The JSON form of an operation's result (models, objects with ``to_dict``, lists)."""
    if isinstance(result, Answer):
        return dump(result.body)
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    if hasattr(result, "to_dict") and not isinstance(result, dict):
        return result.to_dict()
    if isinstance(result, list | tuple):
        return [dump(item) for item in result]
    if isinstance(result, dict):
        return {key: dump(value) for key, value in result.items()}
    return result
