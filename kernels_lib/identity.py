"""Who is calling: the user a kernel, a script or a Jupyter server acts for.

Inside a JupyterHub user server that is ``$JUPYTERHUB_USER``; without a hub it is
``$TERRALAB_USER`` when set (tests, shared scripts), else the login name. The hub service
never uses this: it takes the user from the hub's authentication.
"""

from __future__ import annotations

import getpass
import os

__all__ = ["current_user"]


def current_user() -> str:
    """Return the terralab user name this process acts for."""
    return (os.environ.get("JUPYTERHUB_USER") or os.environ.get("TERRALAB_USER")
            or getpass.getuser())
