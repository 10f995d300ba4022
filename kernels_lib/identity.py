"""Who is calling: the user a kernel, a script or a Jupyter server acts for.

Inside a JupyterHub user server that is ``$JUPYTERHUB_USER``; without a hub it is the
settings' ``user`` (``$TERRALAB_USER``: tests, shared scripts) when set, else the login name
(:mod:`terralab.settings`). The hub service never uses this: it takes the user from the
hub's authentication.
"""

from __future__ import annotations

import getpass

from terralab.settings import settings

__all__ = ["current_user"]


def current_user() -> str:
    """Return the terralab user name this process acts for."""
    configured = settings()
    return configured.hub.user or configured.user or getpass.getuser()
