"""The bootstrap logins of the embedded default: an approved admin and a demo user.

``terralab up`` keeps them in ``<TERRALAB_HOME>/hub/logins.json`` (mode 0600) and prints
them; the authenticator creates the accounts from that file on the hub's first start.
``TERRALAB_ADMIN_PASSWORD`` and ``TERRALAB_DEMO_PASSWORD`` choose the passwords of a new file.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from terralab.settings import settings

__all__ = ["BOOTSTRAP_USERS", "load_logins", "logins_path"]

BOOTSTRAP_USERS = ("admin", "demo")


def logins_path(home: Path) -> Path:
    """Return the path of the logins file under the data folder ``home``."""
    return home / "hub" / "logins.json"


def load_logins(home: Path) -> dict[str, str]:
    """Return the bootstrap logins, writing them with fresh passwords the first time.

    Args:
        home: the terralab data folder.

    Returns:
        A mapping of user name to password for ``admin`` and ``demo``.
    """
    path = logins_path(home)
    if path.is_file():
        logins = json.loads(path.read_text())
        if all(name in logins for name in BOOTSTRAP_USERS):
            return logins
    launch = settings().launch  # $TERRALAB_ADMIN_PASSWORD, $TERRALAB_DEMO_PASSWORD
    logins = {name: getattr(launch, f"{name}_password") or secrets.token_urlsafe(9)
              for name in BOOTSTRAP_USERS}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(logins, handle, indent=2)
    return logins
