"""The terralab hub service: the trusted API beside JupyterHub.

JupyterHub starts it as a managed service (``python -m terralab.hub.service``) and proxies
it at ``/services/terralab/``. It authenticates every caller with JupyterHub: an API token
(``Authorization: token …``, e.g. ``$JUPYTERHUB_API_TOKEN`` inside a user's server) or the
OAuth cookie of a browser.

Its endpoints are declared once in :mod:`terralab.service.endpoints` (one module per
domain); their routes and handlers come from :mod:`terralab.hub.declared_handlers`, and
``GET openapi.json`` lists them all. The handlers still written by hand (streamed
downloads and uploads) live in :mod:`terralab.hub.catalog_handlers`,
:mod:`terralab.hub.mydata_handlers` and :mod:`terralab.hub.upload_handlers`; their routes
come from their declarations too.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler
from jupyterhub.utils import url_path_join
from tornado import ioloop, web

from terralab.home import terralab_home
from terralab.hub.api_handler import APIHandler
from terralab.hub.catalog_handlers import CatalogState, catalog_raw_handlers
from terralab.hub.declared_handlers import declared_routes
from terralab.hub.mydata_handlers import mydata_raw_handlers
from terralab.hub.upload_handlers import release_interrupted_uploads, upload_raw_handlers
from terralab.settings import settings

__all__ = ["APIHandler", "main", "make_app"]


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
    home = home or terralab_home()
    state = CatalogState(home)
    auth = HubOAuth.instance()
    # $JUPYTERHUB_COOKIE_OPTIONS (the hub's cookie_samesite setting) first, else Lax
    auth.cookie_options = {"samesite": "Lax", **auth.cookie_options}
    return web.Application(
        [
            (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
            *declared_routes(prefix, home, {"catalog": state}, raw={
                **catalog_raw_handlers(state), **mydata_raw_handlers(state),
                **upload_raw_handlers(state)}),
        ],
        cookie_secret=cookie_secret(home),
        # the _xsrf cookie the service sets at login gets the same SameSite as its login cookie
        xsrf_cookie_kwargs=dict(auth.cookie_options),
    )


def main() -> None:
    """Run the service on the URL JupyterHub gives it (``$JUPYTERHUB_SERVICE_URL``)."""
    hub = settings().hub  # JupyterHub's $JUPYTERHUB_SERVICE_URL and _PREFIX
    url = urlparse(hub.service_url or "http://127.0.0.1:8181")
    prefix = hub.service_prefix or "/services/terralab/"
    app = make_app(prefix)
    release_interrupted_uploads(terralab_home())  # what a stop cut off holds no quota
    app.listen(url.port or 80, url.hostname or "127.0.0.1")
    ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
