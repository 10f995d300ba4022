"""The service's own endpoints: liveness, the caller, and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from terralab._version import __version__
from terralab.service.endpoint import CallContext, Endpoint
from terralab.service.openapi import openapi_document
from terralab.service.registry import declare

__all__ = ["Health", "WhoAmI"]


class Health(BaseModel):
    """``GET health``."""

    status: str
    service: str
    version: str


class WhoAmI(BaseModel):
    """``GET whoami``: the caller's hub model (name, kind, admin, groups, scopes)."""

    model_config = ConfigDict(extra="allow")
    name: str


class OpenAPIDocument(BaseModel):
    """``GET openapi.json``: the OpenAPI 3.1 document of every endpoint."""

    model_config = ConfigDict(extra="allow")
    openapi: str
    paths: dict[str, Any]


def _health(context: CallContext, request: None) -> Health:
    return Health(status="ok", service="terralab", version=__version__)


def _whoami(context: CallContext, request: None) -> dict[str, Any]:
    keys = ("name", "kind", "admin", "groups", "scopes")
    model = context.caller.model
    return {key: model.get(key) for key in keys if key in model}


def _openapi(context: CallContext, request: None) -> dict[str, Any]:
    return openapi_document()


declare(Endpoint("service.health", "GET", "health", "Is the service up (no login needed)",
                 call=_health, response=Health, public=True))
declare(Endpoint("service.whoami", "GET", "whoami", "The caller's hub model",
                 call=_whoami, response=WhoAmI))
declare(Endpoint("service.openapi", "GET", "openapi.json",
                 "The OpenAPI document of the service (no login needed)",
                 call=_openapi, response=OpenAPIDocument, public=True))
