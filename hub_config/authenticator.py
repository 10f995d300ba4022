"""Sign-up with admin approval (the platform's "trial application").

:class:`TerralabAuthenticator` is JupyterHub's NativeAuthenticator: anyone may sign up at
``/hub/signup``, and the account stays pending until an admin authorizes it at
``/hub/authorize`` (a POST with the page's XSRF token: :mod:`terralab.hub.account_handlers`).
It also creates the bootstrap accounts of the embedded default.

User names are NFKC-normalised and lower-cased before anything else, then must match
``username_pattern`` in full (set from ``c.TerralabHub.username_pattern``): a full-width
"ａｄｍｉｎ" *is* "admin" (the same account, the same password), and look-alikes such as
"admin" with a zero-width space or with a Cyrillic "а" are refused. After
``allowed_failed_logins`` failed logins an account is locked for ``seconds_before_next_try``
seconds, during which even the right password is refused.
"""

from __future__ import annotations

import json
import time
import unicodedata
from pathlib import Path
from typing import Any

from nativeauthenticator import NativeAuthenticator
from traitlets import Unicode

from terralab.hub.account_handlers import account_handlers

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

    username_rule = Unicode(
        "User names may use only lower-case letters a-z, digits, '.', '_' and '-', start "
        "with a letter or a digit and have at most 39 characters.",
        config=True,
        help="The sign-up page's message for a name that username_pattern refuses.",
    )

    def normalize_username(self, username: str) -> str:
        """NFKC-normalise, then lower-case and map the name as JupyterHub does.

        NFKC folds compatibility forms (full-width letters, ligatures) into their plain
        characters, so they name the same account; it keeps look-alikes from other scripts
        and invisible characters, which :meth:`validate_username` then refuses.
        """
        return super().normalize_username(unicodedata.normalize("NFKC", username))

    def validate_username(self, username: str) -> bool:
        """Refuse names that do not match ``username_pattern`` in full.

        JupyterHub's check uses ``re.match``, whose ``$`` also matches before a final
        newline (a name ending in a line feed would pass); the whole name must match here.
        """
        if not super().validate_username(username):
            return False
        return self.username_regex is None or self.username_regex.fullmatch(username) is not None

    # --- lock-out: NativeAuthenticator's, with a monotonic clock and whole durations ---

    def add_login_attempt(self, username: str) -> None:
        """Count a failed login of ``username`` and note when it happened."""
        attempts = self.login_attempts.setdefault(username, {"count": 0})
        attempts["count"] += 1
        attempts["time"] = time.monotonic()

    def lock_remaining(self, username: str) -> float:
        """Seconds the lock of ``username`` still lasts (0 when it is not locked)."""
        attempts = self.login_attempts.get(username)
        if not self.allowed_failed_logins or not attempts \
                or attempts["count"] < self.allowed_failed_logins:
            return 0.0
        return max(0.0, attempts["time"] + self.seconds_before_next_try - time.monotonic())

    def is_blocked(self, username: str) -> bool:
        """Whether ``username`` is locked after too many failed logins."""
        return self.lock_remaining(username) > 0

    def can_try_to_login_again(self, username: str) -> bool:
        """Whether the lock of ``username`` (if any) is over."""
        return not self.is_blocked(username)

    def get_handlers(self, app: Any) -> list[tuple[str, type]]:
        """NativeAuthenticator's pages, with terralab's sign-up, login and approval pages.

        The approval and discard URLs answer POST (with XSRF) only; NativeAuthenticator's
        versions changed accounts on a GET.
        """
        ours = dict(account_handlers())
        native = [(path, handler) for path, handler in super().get_handlers(app)
                  if path not in ours]
        return [*ours.items(), *native]

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
