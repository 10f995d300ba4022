"""The service layer: every operation of the hub service declared once.

- :mod:`terralab.service.endpoint`: :class:`~terralab.service.endpoint.Endpoint` (method,
  path, request and response models, errors, the operation) and the call context;
- :mod:`terralab.service.endpoints`: the declarations, one module per domain;
- :mod:`terralab.service.registry`: the registry of endpoints;
- :mod:`terralab.service.errors` and :mod:`terralab.service.error_table`: the one table of
  exceptions and answers, read by both sides;
- :mod:`terralab.service.http_client` and :mod:`terralab.service.local`: the two transports
  (the hub service over HTTP, the same operations in-process), chosen by
  :func:`terralab.service.local.transport`;
- :mod:`terralab.service.openapi`: the OpenAPI document (``GET openapi.json``).

The hub's routes and handlers come from the same declarations
(:mod:`terralab.hub.declared_handlers`).
"""
