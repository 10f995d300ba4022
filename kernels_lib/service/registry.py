"""The frozen registry of the hub service's endpoints.

Each domain declares its endpoints in one module of :mod:`terralab.service.endpoints`
(listed in :data:`DOMAINS`); :func:`endpoints` imports them once and answers the registry.
A deployment's plug-in adds its own with :func:`declare` before the service starts.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator

from terralab.service.endpoint import Endpoint

__all__ = ["DOMAINS", "EndpointRegistry", "declare", "endpoint", "endpoints"]

#: The modules that declare the platform's endpoints, one per domain.
DOMAINS = (
    "terralab.service.endpoints.basics",
    "terralab.service.endpoints.catalog",
    "terralab.service.endpoints.jobs",
    "terralab.service.endpoints.mydata",
    "terralab.service.endpoints.uploads",
    "terralab.service.endpoints.projects",
    "terralab.service.endpoints.quotas",
)


class EndpointRegistry:
    """Endpoints by name; a method and path pair is declared once."""

    def __init__(self) -> None:
        self._by_name: dict[str, Endpoint] = {}
        self._routes: dict[tuple[str, str], str] = {}

    def add(self, endpoint: Endpoint, *, overwrite: bool = False) -> Endpoint:
        """Add ``endpoint``.

        Raises:
            ValueError: when its name or its method and path are taken (unless ``overwrite``).
        """
        key = (endpoint.method, endpoint.route())
        taken = self._routes.get(key)
        if not overwrite and (endpoint.name in self._by_name or taken is not None):
            raise ValueError(f"endpoint {endpoint.name} ({endpoint.method} {endpoint.path}) "
                             f"is declared already{f' as {taken}' if taken else ''}")
        self._by_name[endpoint.name] = endpoint
        self._routes[key] = endpoint.name
        return endpoint

    def __getitem__(self, name: str) -> Endpoint:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no endpoint {name!r}; known: {', '.join(sorted(self._by_name))}"
                           ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Endpoint]:
        return iter(list(self._by_name.values()))

    def __len__(self) -> int:
        return len(self._by_name)


_registry = EndpointRegistry()
_loaded = False
_lock = threading.Lock()


def declare(endpoint: Endpoint, *, overwrite: bool = False) -> Endpoint:
    """Add ``endpoint`` to the platform's registry (see :meth:`EndpointRegistry.add`)."""
    return _registry.add(endpoint, overwrite=overwrite)


def endpoints() -> EndpointRegistry:
    """The platform's endpoints, every domain's declarations loaded."""
    global _loaded
    if not _loaded:
        with _lock:
            if not _loaded:
                for module in DOMAINS:
                    importlib.import_module(module)
                _loaded = True
    return _registry


def endpoint(name: str) -> Endpoint:
    """The declared endpoint ``name`` (``"projects.create"``)."""
    return endpoints()[name]
