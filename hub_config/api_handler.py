"""The base of the hub service's JSON endpoints: authentication first, JSON bodies and errors."""

from __future__ import annotations

import json
import math
from http import HTTPStatus
from typing import Any

from jupyterhub.services.auth import HubOAuthenticated, UserNotAllowed
from tornado import ioloop, web

__all__ = ["APIHandler"]


def _finite(value: Any) -> Any:
    """``value`` with every NaN / infinity replaced by its STAC string."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


class APIHandler(HubOAuthenticated, web.RequestHandler):
    """Base of the service's JSON endpoints: authentication first, JSON bodies and errors.

    Every endpoint but ``health`` authenticates the caller in :meth:`prepare`, before its
    method runs or its body is read: no credentials is 401 (a browser's GET is sent to the
    hub login), a cookie caller that fails the XSRF check is 403, and a valid token without
    the service's access scope is 403.
    """

    #: True for endpoints anyone may call (``health``); all others authenticate first.
    public = False

    _caller: dict[str, Any] | None = None
    _refusal: web.HTTPError | None = None

    def set_default_headers(self) -> None:
        """Answer JSON and forbid caching of API answers."""
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")

    def write_json(self, payload: Any, status: int = 200) -> None:
        """Write ``payload`` as the JSON body with HTTP ``status``.

        Non-finite numbers (a float raster's NaN nodata) are written as the strings
        ``"nan"``, ``"inf"``, ``"-inf"`` (as the STAC raster extension does): JSON has no
        NaN, and browsers refuse Python's ``NaN``.
        """
        self.set_status(status)
        try:
            text = json.dumps(payload, allow_nan=False)
        except ValueError:
            text = json.dumps(_finite(payload), allow_nan=False)
        self.finish(text)

    def body_json(self) -> dict[str, Any]:
        """Return the JSON object of the request body, or answer 400."""
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError as error:
            raise web.HTTPError(HTTPStatus.BAD_REQUEST, f"the body is not JSON: {error}") from None
        if not isinstance(body, dict):
            raise web.HTTPError(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
        return body

    async def blocking(self, function: Any, *args: Any) -> Any:
        """Run ``function(*args)`` (disk or database work) off the IOLoop."""
        return await ioloop.IOLoop.current().run_in_executor(None, function, *args)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Write every error as ``{"status": code, "message": text}``."""
        message = self._reason
        if status_code == HTTPStatus.UNAUTHORIZED:  # (send_error cleared the headers)
            self.set_header("WWW-Authenticate", 'token realm="terralab"')
        exc_info = kwargs.get("exc_info")
        if exc_info and isinstance(exc_info[1], web.HTTPError) and exc_info[1].log_message:
            message = exc_info[1].log_message
        self.finish(json.dumps({"status": status_code, "message": message}))

    async def prepare(self) -> None:
        """Authenticate the caller before any handler code (or body parsing) runs.

        The user is resolved once, with the asynchronous API of JupyterHub's ``HubAuth``, on
        the IOLoop: a request never blocks the service while the hub answers, and the cookie
        check's XSRF verification (which asks for the current user again) finds it here
        instead of waiting on ``HubAuth``'s one-thread pool, which froze the whole service.
        Subclasses that override ``prepare`` call this first.
        """
        if self.public:
            return
        model = await self.hub_auth.get_user(self, sync=False)
        if model:
            try:
                self._caller = self.check_hub_user(model)
            except UserNotAllowed:
                raise web.HTTPError(
                    HTTPStatus.FORBIDDEN,
                    f"{model.get('kind', 'user')} {model['name']} may not use this service "
                    f"(missing scope {', '.join(sorted(self.hub_scopes or []))})",
                ) from None
            return
        if self._refusal is not None:
            raise web.HTTPError(
                HTTPStatus.FORBIDDEN,
                f"the XSRF check failed ({self._refusal.log_message}): send the service's "
                "_xsrf cookie value as the X-XSRFToken header, or use an API token",
            )
        if self.request.method == "GET" and "text/html" in self.request.headers.get("Accept", ""):
            self.redirect(self.get_login_url())
            raise web.Finish()
        raise web.HTTPError(
            HTTPStatus.UNAUTHORIZED,
            "a JupyterHub API token (Authorization: token …) or a hub login is required",
        )

    def get_current_user(self) -> dict[str, Any] | None:
        """The caller that :meth:`prepare` authenticated (None before, or when public).

        Never asks the hub itself: tornado and JupyterHub's XSRF helpers read
        ``current_user`` from inside the authentication, and a synchronous call there
        deadlocked ``HubAuth``'s thread pool.
        """
        return self._caller

    def check_xsrf_cookie(self) -> None:
        """JupyterHub's XSRF check of cookie callers, remembering a refusal for the answer."""
        try:
            super().check_xsrf_cookie()
        except web.HTTPError as error:
            self._refusal = error
            raise

    def require_user(self) -> dict[str, Any]:
        """Return the authenticated caller (``prepare`` has refused everyone else)."""
        if self._caller is None:  # a public handler asking for a user
            raise web.HTTPError(HTTPStatus.UNAUTHORIZED, "a hub login or API token is required")
        return self._caller
