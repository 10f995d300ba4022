"""The quota endpoint of the terralab hub service, and the download-quota gate (PRODUCT.md §6).

- ``GET quota[?user=NAME]``: the caller's :class:`~terralab.quotas.report.QuotaReport` as
  JSON (``to_dict``); an admin may ask for another user, anyone else gets 403.

The user's quota month starts on their registration day: the JupyterHub user's ``created``
time. The user model the service gets from the hub carries ``created`` only when the
caller's token may read the whole user model (``read:users``, e.g. a token of the user's
own made with the ``self`` scope); an OAuth cookie or a server's token does not. The
service then asks the hub itself (``GET /hub/api/users/NAME`` with its own token, which
needs ``read:users``); when that fails too, the first time the service sees the user is
their registration, replaced by the hub's time as soon as one is known
(:func:`terralab.quotas.accounts.registered_on`).

:func:`refuse_download` is how the download endpoints (catalog and my data) check the
download quota before they send a byte: 429 ``{"status", "message", "reason": "quota",
"kind", "resets", "used", "limit"}``, as the queue answers a used-up AI quota.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import partial
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from terralab.hub.service import APIHandler

__all__ = ["QuotaHandler", "hub_user", "quota_routes", "refuse_download", "registration"]


async def hub_user(handler: APIHandler, name: str) -> dict[str, Any] | None:
    """Return the hub's model of user ``name``, asked with the service's own token.

    Returns:
        The model, or None when the hub does not answer it (no such user, or the service's
        token may not read users).
    """
    auth = handler.hub_auth
    if not auth.api_url or not auth.api_token:
        return None
    request = HTTPRequest(f"{auth.api_url.rstrip('/')}/users/{quote(name, safe='')}",
                          headers={"Authorization": f"token {auth.api_token}"},
                          request_timeout=10)
    try:
        response = await AsyncHTTPClient().fetch(request, raise_error=False)
    except OSError:
        return None
    if response.code != HTTPStatus.OK:
        return None
    try:
        model = json.loads(response.body)
    except ValueError:
        return None
    return model if isinstance(model, dict) else None


async def registration(handler: APIHandler, model: dict[str, Any], home: Any) -> datetime:
    """Return (and record once) when the user of hub model ``model`` registered."""
    from terralab.quotas.accounts import registered_on, stored_registration

    name = model["name"]
    created = model.get("created")
    known = await handler.blocking(partial(stored_registration, name, home=home))
    if not created and known is None:
        found = await hub_user(handler, name)
        created = (found or {}).get("created")
    return await handler.blocking(partial(registered_on, name, created=created or None, home=home))


async def refuse_download(handler: APIHandler, model: dict[str, Any], nbytes: int,
                          home: Any) -> bool:
    """Answer 429 when the download quota of the user of ``model`` cannot take ``nbytes``.

    Args:
        handler: the download endpoint's handler (nothing written yet).
        model: the caller's hub model (``name``, ``groups``).
        nbytes: the size of the download, when known (0 = only check that some is left).
        home: the terralab data folder.

    Returns:
        True when the refusal was answered (the handler must stop), False to go on.
    """
    from terralab.quotas.checks import QuotaExceeded, check_download

    await registration(handler, model, home)
    try:
        groups = tuple(model.get("groups") or ())
        await handler.blocking(partial(check_download, model["name"], groups, nbytes,
                                       home=home))
    except QuotaExceeded as error:
        handler.write_json({"status": HTTPStatus.TOO_MANY_REQUESTS, "message": str(error),
                            "reason": "quota", "kind": error.kind,
                            "resets": error.resets.isoformat(), "used": error.used,
                            "limit": error.limit},
                           HTTPStatus.TOO_MANY_REQUESTS)
        return True
    return False


class QuotaHandler(APIHandler):
    """``GET quota[?user=NAME]``."""

    def initialize(self, home: Any = None) -> None:
        """Keep the terralab data folder."""
        from terralab.home import terralab_home

        self.home = home or terralab_home()

    async def get(self) -> None:
        """Answer the quota report of the caller, or of another user for an admin."""
        from terralab.quotas.accounts import stored_registration
        from terralab.quotas.report import quota_report

        caller = self.require_user()
        name = self.get_query_argument("user", None) or caller["name"]
        model: dict[str, Any] | None = caller
        if name != caller["name"]:
            if not caller.get("admin"):
                raise web.HTTPError(HTTPStatus.FORBIDDEN,
                                    f"only admins may see the quotas of another user ({name})")
            model = await hub_user(self, name)
            if model is None:  # the hub did not say: only users terralab has seen
                if await self.blocking(partial(stored_registration, name, home=self.home)) is None:
                    raise web.HTTPError(HTTPStatus.NOT_FOUND, f"no user {name!r} is known")
                model = {"name": name, "groups": []}
        await registration(self, model, self.home)
        report = await self.blocking(partial(quota_report, name, tuple(model.get("groups") or ()),
                                         home=self.home))
        self.write_json(report.to_dict())


def quota_routes(prefix: str, home: Any = None) -> list[tuple[str, type, dict[str, Any]]]:
    """Return the quota routes under the service ``prefix``."""
    return [(prefix.rstrip("/") + "/quota", QuotaHandler, {"home": home})]
