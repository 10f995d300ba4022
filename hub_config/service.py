"""The terralab hub service: the trusted API beside JupyterHub.

JupyterHub starts it as a managed service (``python -m terralab.hub.service``) and proxies
it at ``/services/terralab/``. It authenticates every caller with JupyterHub: an API token
(``Authorization: token …``, e.g. ``$JUPYTERHUB_API_TOKEN`` inside a user's server) or the
OAuth cookie of a browser. The catalog endpoints live in :mod:`terralab.hub.catalog_handlers`,
uploads in :mod:`terralab.hub.upload_handlers`, my data in :mod:`terralab.hub.mydata_handlers`,
the job queue and the tools in :mod:`terralab.hub.jobs_handlers`, analysis projects in
:mod:`terralab.hub.projects_handlers`, quotas in :mod:`terralab.hub.quota_handlers`.

Endpoints (relative to the service prefix):

- ``GET health``: ``{"status": "ok", ...}``, no authentication (for probes).
- ``GET whoami``: the calling user's JupyterHub model; 401 without valid credentials, 403
  for a valid token that lacks the ``access:services!service=terralab`` scope.
"""

from __future__ import annotations

import json
import math
import os
import secrets
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from jupyterhub.services.auth import (
    HubOAuth,
    HubOAuthCallbackHandler,
    HubOAuthenticated,
    UserNotAllowed,
)
from jupyterhub.utils import url_path_join
from tornado import ioloop, web

from terralab._version import __version__
from terralab.home import terralab_home

__all__ = ["APIHandler", "HealthHandler", "WhoAmIHandler", "main", "make_app"]


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


class HealthHandler(APIHandler):
    """``GET health``: liveness, without authentication."""

    public = True

    def get(self) -> None:
        """Answer that the service is up."""
        self.write_json({"status": "ok", "service": "terralab", "version": __version__})


class WhoAmIHandler(APIHandler):
    """``GET whoami``: the authenticated caller."""

    def get(self) -> None:
        """Answer with the caller's hub model (name, kind, admin, groups, scopes)."""
        user = self.require_user()
        keys = ("name", "kind", "admin", "groups", "scopes")
        self.write_json({key: user.get(key) for key in keys if key in user})


def cookie_secret(home: Path) -> bytes:
    """Return the service's cookie secret, kept in ``<home>/hub/`` so logins survive restarts."""
    path = home / "hub" / "terralab_service_cookie_secret"
    if path.is_file() and path.stat().st_size >= 32:
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_bytes(32))
    return path.read_bytes()


def make_app(prefix: str = "/services/terralab/", home: Path | None = None) -> web.Application:
    """Return the service's tornado application, routed under ``prefix``.

    Args:
        prefix: the URL prefix JupyterHub proxies to the service.
        home: the terralab data folder; ``terralab_home()`` when omitted.
    """
    from terralab.hub.catalog_handlers import CatalogState, catalog_routes
    from terralab.hub.jobs_handlers import jobs_routes
    from terralab.hub.mydata_handlers import mydata_routes
    from terralab.hub.projects_handlers import projects_routes
    from terralab.hub.quota_handlers import quota_routes
    from terralab.hub.upload_handlers import upload_routes

    home = home or terralab_home()
    state = CatalogState(home)
    auth = HubOAuth.instance()
    # $JUPYTERHUB_COOKIE_OPTIONS (the hub's cookie_samesite setting) first, else Lax
    auth.cookie_options = {"samesite": "Lax", **auth.cookie_options}
    return web.Application(
        [
            (url_path_join(prefix, "health"), HealthHandler),
            (url_path_join(prefix, "whoami"), WhoAmIHandler),
            (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
            *catalog_routes(prefix, home, state),
            *mydata_routes(prefix, state),
            *upload_routes(prefix, state),
            *jobs_routes(prefix, state),
            *projects_routes(prefix, home),
            *quota_routes(prefix, home),
        ],
        cookie_secret=cookie_secret(home),
        # the _xsrf cookie the service sets at login gets the same SameSite as its login cookie
        xsrf_cookie_kwargs=dict(auth.cookie_options),
    )


def main() -> None:
    """Run the service on the URL JupyterHub gives it (``$JUPYTERHUB_SERVICE_URL``)."""
    url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:8181"))
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/terralab/")
    app = make_app(prefix)
    from terralab.hub.upload_handlers import release_interrupted_uploads

    release_interrupted_uploads(terralab_home())  # what a stop cut off holds no quota
    app.listen(url.port or 80, url.hostname or "127.0.0.1")
    ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
