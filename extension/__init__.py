"""terralab.extension: the Jupyter server extension of terralab.

It runs inside each user's Jupyter server (as that user, untrusted) and adds terralab's
endpoints under ``<base_url>/terralab/``:

- ``GET terralab/api/status``: the terralab version and where the hub service is;
- ``GET terralab/tiles/{z}/{x}/{y}.png`` and ``GET terralab/tiles/info``: map tiles and
  TileJSON of any raster the server's user may see (their own items and files, the public
  catalog), see :mod:`terralab.extension.tiles`. Served here, behind the hub's own
  authentication, so no extra port is opened and local rasters display inside JupyterHub
  and Voilà alike.

Later issues add launcher entries.
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
