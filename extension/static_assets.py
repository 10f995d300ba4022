"""Fonts and icons the pages link, served by the user's own server: nothing from a CDN.

Voilà's ``lab`` template links Font Awesome from a CDN, which a lab without internet access
(a classroom, an offline install) never reaches: every icon became a box. terralab's template
links the copy JupyterHub ships instead (Font Awesome Free, under JupyterHub's data files),
served here at ``<base_url>terralab/static/fontawesome/{css,webfonts}/…``. They are public
files (no user's data), served without a login: a browser fetches fonts named in a style
sheet without the page's credentials, and a login redirect would loop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_server.utils import url_path_join
from tornado.web import StaticFileHandler

__all__ = ["fontawesome_folder", "static_routes"]


def fontawesome_folder() -> Path:
    """The folder of the Font Awesome Free copy JupyterHub ships (``css/``, ``webfonts/``)."""
    from jupyterhub._data import DATA_FILES_PATH

    return (Path(DATA_FILES_PATH) / "static" / "components" / "@fortawesome"
            / "fontawesome-free")


def static_routes(base_url: str) -> list[tuple[str, Any, dict[str, Any]]]:
    """The tornado routes of terralab's static files under ``base_url``."""
    prefix = url_path_join(base_url, "terralab", "static", "fontawesome")
    return [(prefix + r"/((?:css|webfonts)/[^/]+)", StaticFileHandler,
             {"path": str(fontawesome_folder())})]
