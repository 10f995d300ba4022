"""The in-process transport: the declared operations called directly, for the local user.

Without a hub (a plain notebook, a script, the tests) ``tl.*`` runs the same operations the
hub service runs, in this process, against the local ``TERRALAB_HOME``, for the user
:func:`terralab.identity.current_user` names, who owns the local home (an admin of it). The
answer is the same JSON the hub answers; a refusal is the same exception.

:func:`transport` chooses the transport in one place: the hub's when the kernel runs in a
terralab hub, this one otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from terralab.home import terralab_home
from terralab.identity import current_user
from terralab.service.endpoint import CallContext, Caller, Endpoint, dump
from terralab.service.http_client import service_client
from terralab.service.registry import endpoint as declared

__all__ = ["LocalService", "Transport", "transport"]


class Transport(Protocol):
    """What both transports answer: a declared operation's JSON result."""

    def request(self, operation: str | Endpoint, /, **values: Any) -> Any:
        """Call the operation with its request ``values``."""
        ...


class LocalService:
    """Runs declared operations in this process.

    Args:
        home: the terralab data folder (default: ``terralab_home()`` at each call).
        user: the caller (default: :func:`terralab.identity.current_user` at each call).
    """

    def __init__(self, home: Path | None = None, user: str | None = None) -> None:
        self.home = home
        self.user = user

    def context(self) -> CallContext:
        """The context of a call: the local user, an admin of the local home."""
        name = self.user or current_user()
        caller = Caller(name=name, admin=True, model={"name": name, "groups": [],
                                                      "admin": True})
        return CallContext(caller=caller, home=Path(self.home or terralab_home()))

    def request(self, operation: str | Endpoint, /, **values: Any) -> Any:
        """Call the operation in-process; return its answer as the hub would (JSON).

        Raises:
            terralab.service.endpoint.RequestError: when ``values`` do not fit its request.
            Exception: whatever the operation raises (the errors of the error table).
        """
        found = declared(operation) if isinstance(operation, str) else operation
        if found.call is None:
            raise TypeError(f"{found.name} has no in-process call")
        request = found.validate(values)
        return dump(found.call(self.context(), request))


def transport() -> Transport:
    """The hub service when this kernel runs in a terralab hub, else :class:`LocalService`."""
    client = service_client()
    return client if client is not None else LocalService()
