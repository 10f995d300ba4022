"""Sign-up with admin approval (the platform's "trial application").

:class:`TerralabAuthenticator` is JupyterHub's NativeAuthenticator: anyone may sign up at
``/hub/signup``, and the account stays pending until an admin authorizes it at
``/hub/authorize``. It also creates the bootstrap accounts of the embedded default.
"""

from __future__ import annotations

import json
from pathlib import Path

from nativeauthenticator import NativeAuthenticator
from traitlets import Unicode

__all__ = ["TerralabAuthenticator"]


class TerralabAuthenticator(NativeAuthenticator):
    """NativeAuthenticator that also creates approved bootstrap accounts at start-up."""

    bootstrap_logins_file = Unicode(
        "",
        config=True,
        help="""A JSON file mapping user names to passwords (see terralab.hub.logins).

        Each listed account that does not exist yet is created at start-up and approved;
        existing accounts are left as they are, so a changed password is never reset.
        Empty: create nothing.""",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.create_bootstrap_users()

    def create_bootstrap_users(self) -> None:
        """Create and approve the accounts of ``bootstrap_logins_file`` that are missing."""
        if not self.bootstrap_logins_file:
            return
        path = Path(self.bootstrap_logins_file)
        if not path.is_file():
            self.log.warning("terralab: bootstrap logins file %s not found", path)
            return
        for name, password in json.loads(path.read_text()).items():
            if self.user_exists(name):
                continue
            info = self.create_user(name, password)
            if info is None:
                self.log.error("terralab: could not create bootstrap account %r", name)
                continue
            info.is_authorized = True
            self.db.commit()
            self.log.info("terralab: created approved account %r", name)
