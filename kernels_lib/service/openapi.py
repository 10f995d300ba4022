"""The OpenAPI 3.1 document of the hub service, made from the declared endpoints.

Served at ``GET <service>/openapi.json``. Every declared endpoint appears with its
parameters (path, query), its JSON body, its answer and the error answers of the error
table for the errors it declares (plus 400 for a request that does not fit, and 401/403 for
a caller the service refuses).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pydantic import BaseModel

from terralab._version import __version__
from terralab.service.endpoint import Endpoint
from terralab.service.error_table import ERRORS
from terralab.service.registry import EndpointRegistry, endpoints

__all__ = ["openapi_document"]

_REF = "#/components/schemas/{model}"
_ERROR_SCHEMA = {
    "type": "object",
    "required": ["status", "message"],
    "properties": {"status": {"type": "integer"}, "message": {"type": "string"},
                   "error": {"type": "string"}, "reason": {"type": "string"}},
    "additionalProperties": True,
}


class _Schemas:
    """The ``components/schemas`` being gathered."""

    def __init__(self) -> None:
        self.found: dict[str, Any] = {"Error": _ERROR_SCHEMA}

    def ref(self, model: type[BaseModel]) -> dict[str, str]:
        """A reference to ``model``'s schema, adding it (and its parts) to the components."""
        name = model.__name__
        if name not in self.found:
            schema = model.model_json_schema(ref_template=_REF)
            self.found.update(schema.pop("$defs", {}))
            self.found[name] = schema
        return {"$ref": _REF.format(model=name)}

    def fields(self, model: type[BaseModel], names: list[str]) -> dict[str, Any]:
        """The schema of ``names`` of ``model``'s fields (for a body that is part of it)."""
        schema = model.model_json_schema(ref_template=_REF)
        self.found.update(schema.pop("$defs", {}))
        properties = {name: schema["properties"][name] for name in names}
        required = [name for name in schema.get("required", []) if name in names]
        body: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            body["required"] = required
        extra = model.model_config.get("extra")
        body["additionalProperties"] = extra == "allow"
        return body


def _parameters(found: Endpoint) -> list[dict[str, Any]]:
    schema = found.model.model_json_schema(ref_template=_REF)
    required = set(schema.get("required", []))
    parameters = []
    for name, field_schema in schema.get("properties", {}).items():
        where = found.location(name)
        if where == "body" or name == found.body_field:
            continue
        parameter = {"name": name, "in": where, "required": where == "path" or name in required,
                     "schema": {k: v for k, v in field_schema.items() if k != "description"}}
        if "description" in field_schema:
            parameter["description"] = field_schema["description"]
        parameters.append(parameter)
    parameters.extend({"name": name, "in": "header", "required": False,
                       "schema": {"type": "string"}, "description": text}
                      for name, text in found.headers)
    return parameters


def _body(found: Endpoint, schemas: _Schemas) -> dict[str, Any] | None:
    if found.body_field is not None:
        schema = found.model.model_json_schema(ref_template=_REF)
        schemas.found.update(schema.pop("$defs", {}))
        content = schema["properties"][found.body_field]
        return {"required": found.body_field in schema.get("required", []),
                "content": {"application/json": {"schema": content}}}
    names = [n for n in found.model.model_fields if found.location(n) == "body"]
    if not names and found.method not in {"POST", "PUT", "PATCH"}:
        return None
    return {"required": False,
            "content": {"application/json": {"schema": schemas.fields(found.model, names)}}}


def _responses(found: Endpoint, schemas: _Schemas) -> dict[str, Any]:
    success: dict[str, Any] = {"description": HTTPStatus(found.status).phrase}
    if found.response is not None:
        success["content"] = {found.media_type: {"schema": schemas.ref(found.response)}}
    elif found.media_type != "application/json":
        success["content"] = {found.media_type: {"schema": {"type": "string",
                                                             "format": "binary"}}}
    responses: dict[str, Any] = {str(int(found.status)): success}
    for status in found.other_statuses:
        other = {**success, "description": HTTPStatus(status).phrase}
        if 300 <= status < 400:  # a redirect: the answer is elsewhere
            other.pop("content", None)
        responses[str(int(status))] = other
    errors = {*found.errors, found.refusal}
    if not found.public:
        responses["401"] = {"description": "no hub login or API token"}
        errors.add(PermissionError)
    for status, rules in sorted(ERRORS.statuses(tuple(errors)).items()):
        text = "; ".join(f"{rule.code}: {rule.error.__name__}" for rule in rules)
        responses[str(status)] = {"description": text, "content": {
            "application/json": {"schema": {"$ref": _REF.format(model="Error")}}}}
    return responses


def openapi_document(registry: EndpointRegistry | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``registry`` (default: every declared endpoint)."""
    registry = registry or endpoints()
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for found in sorted(registry, key=lambda e: (e.path, e.method)):
        operation: dict[str, Any] = {
            "operationId": found.name, "summary": found.summary, "tags": [found.domain],
            "parameters": _parameters(found), "responses": _responses(found, schemas)}
        if found.description:
            operation["description"] = found.description
        body = _body(found, schemas)
        if body is not None:
            operation["requestBody"] = body
        if found.public:
            operation["security"] = []
        paths.setdefault("/" + found.path, {})[found.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "terralab hub service", "version": __version__,
                 "description": "The trusted API of a terralab lab, beside JupyterHub: "
                                "catalog, my data, jobs, projects and quotas."},
        "servers": [{"url": "/services/terralab"}],
        "security": [{"token": []}],
        "paths": paths,
        "components": {"schemas": schemas.found, "securitySchemes": {"token": {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": "``token <JupyterHub API token>``"}}},
    }
