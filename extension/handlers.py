"""HTTP handlers of the terralab server extension."""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from terralab._version import __version__
from terralab.extension.bridge import bridge_routes
from terralab.extension.static_assets import static_routes
from terralab.extension.tiles import tile_routes
from terralab.home import terralab_home
from terralab.settings import settings

__all__ = ["StatusHandler", "setup_handlers"]


class StatusHandler(APIHandler):
    """``GET <base_url>/terralab/api/status``: version, data folder, hub service."""

    @web.authenticated
    def get(self) -> None:
        """Answer with what this user's server knows about terralab."""
        configured = settings()
        hub_prefix, service = configured.hub.service_prefix, configured.service.name
        self.finish(json.dumps({
            "version": __version__,
            "home": str(terralab_home()),
            "hub": bool(hub_prefix),
            "service": f"/services/{service}/" if hub_prefix and service else None,
        }))


def setup_handlers(web_app: Any) -> None:
    """Add terralab's handlers to the Jupyter server's tornado application."""
    base = web_app.settings["base_url"]
    web_app.add_handlers(".*$", [(url_path_join(base, "terralab", "api", "status"),
                                  StatusHandler)])
    web_app.add_handlers(".*$", tile_routes(base))
    web_app.add_handlers(".*$", bridge_routes(base))
    web_app.add_handlers(".*$", static_routes(base))
