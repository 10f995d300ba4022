"""terralab.extension: the Jupyter server extension of terralab.

It runs inside each user's Jupyter server (as that user, untrusted) and adds terralab's
endpoints under ``<base_url>/terralab/``. This first version answers ``GET
terralab/api/status`` with the terralab version and where the hub service is; later issues
add per-user tiles, downloads and launcher entries.
"""

from __future__ import annotations

from typing import Any

from terralab.extension.handlers import setup_handlers

__all__ = ["load_jupyter_server_extension"]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Tell Jupyter Server where the extension lives."""
    return [{"module": "terralab.extension"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Register terralab's handlers on the Jupyter server."""
    setup_handlers(server_app.web_app)
    server_app.log.info("terralab server extension loaded")


load_jupyter_server_extension = _load_jupyter_server_extension
