"""The quota steps of the hand-written hub handlers: registration and the download-quota gate.

``GET quota`` itself is declared in :mod:`terralab.service.endpoints.quotas`.

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

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from terralab.hub.api_handler import APIHandler
from terralab.service.error_table import ERRORS

__all__ = ["hub_user", "refuse_download", "registration"]


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
        status, body = ERRORS.answer_known(error)
        handler.write_json(body, status)
        return True
    return False
