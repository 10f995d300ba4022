"""The HTTP transport: calls the terralab hub service with the user's token.

Inside a user's server of a terralab hub, the settings give the service's URL (``service.url``
of the document the spawner hands the server, :mod:`terralab.settings`) and JupyterHub sets
``JUPYTERHUB_API_TOKEN``; :func:`service_client` then answers a client, and
every ``tl.*`` call of the platform goes to the trusted hub service. :meth:`ServiceClient.request`
calls a declared endpoint by name: the path, query and body come from its declaration, and
a refusal is raised as the same exception the in-process call raises (the error table).
"""

from __future__ import annotations

from typing import Any

import requests

from terralab.service.endpoint import Endpoint
from terralab.service.error_table import ERRORS
from terralab.service.errors import ServiceError
from terralab.service.registry import endpoint as declared
from terralab.settings import settings

__all__ = ["ServiceClient", "ServiceError", "service_client"]


class ServiceClient:
    """Calls the endpoints of the terralab hub service with one user's token.

    Args:
        url: the service's URL, e.g. ``http://127.0.0.1:8181/services/terralab/``.
        token: a JupyterHub API token with access to the service.
    """

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/") + "/"
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"token {token}"

    def call(self, method: str, path: str, *, timeout: float = 120,
             **kwargs: Any) -> requests.Response:
        """Call ``path`` (relative to the service) and return the response.

        Raises:
            Exception: for an answer of 400 or more, the error the table names for it
                (:class:`~terralab.quotas.checks.QuotaExceeded`, …), else
                :class:`ServiceError` with the service's message.
        """
        response = self._session.request(method, self.url + path, timeout=timeout, **kwargs)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            if not isinstance(body, dict):
                body = {"message": response.text[:500] or response.reason}
            response.close()
            ERRORS.raise_for(response.status_code, body)
        return response

    def send(self, operation: str | Endpoint, values: dict[str, Any], *,
             timeout: float = 120, **kwargs: Any) -> requests.Response:
        """Call a declared endpoint with the request ``values``; return the response.

        Raises:
            terralab.service.endpoint.RequestError: when ``values`` do not fit its request.
        """
        found = declared(operation) if isinstance(operation, str) else operation
        path, query, body = found.split(found.validate(values))
        return self.call(found.method, path, params=query or None, timeout=timeout,
                         json=body, **kwargs)

    def request(self, operation: str | Endpoint, /, **values: Any) -> Any:
        """Call a declared endpoint; return its JSON answer (None for an empty one)."""
        response = self.send(operation, values)
        return response.json() if response.content else None


def service_client() -> ServiceClient | None:
    """Return a client of the hub service when running inside a terralab hub, else None."""
    configured = settings()
    url, token = configured.service.url, configured.hub.api_token
    if url and token:
        return ServiceClient(url, token)
    return None
