"""The account and login settings of a terralab hub, as traitlets.

:class:`AuthSettings` is mixed into :class:`terralab.hub.settings.TerralabHub`, so a site sets
``c.TerralabHub.minimum_password_length = 12`` like any JupyterHub option.
:meth:`AuthSettings.apply_auth_policy` turns them into the options of NativeAuthenticator
(lock-out, password rules), JupyterHub's ``username_pattern`` and the ``SameSite`` attribute
of the hub's, the service's and the user servers' cookies.
"""

from __future__ import annotations

import json
import re

from traitlets import Bool, Enum, HasTraits, Integer, TraitError, Unicode, validate
from traitlets.config import Config

__all__ = ["USERNAME_PATTERN", "AuthSettings"]

#: ASCII lower-case letters, digits, ".", "_" and "-"; a letter or digit first; 1-39 long.
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,38}$"


class AuthSettings(HasTraits):
    """Brute-force lock-out, password rules, user-name rules and cookie SameSite."""

    allowed_failed_logins = Integer(
        10,
        config=True,
        help="""Failed logins of one account after which it is locked for
        login_lock_seconds: during the lock even the right password is refused, with a
        message that says so. The count is kept in the hub's memory (a hub restart clears
        it) and a successful login resets it. 0 turns the lock-out off.""",
    )

    login_lock_seconds = Integer(
        600,
        config=True,
        help="""How long (seconds) an account stays locked after allowed_failed_logins
        failed logins. Another failure right after a lock ends locks it again.""",
    )

    minimum_password_length = Integer(
        8, config=True, help="Shortest password accepted at sign-up and password change."
    )

    refuse_common_passwords = Bool(
        True,
        config=True,
        help="""Refuse, at sign-up and password change, the passwords of NativeAuthenticator's
        list of the 10,000 most common ones ("password123", "qwerty", ...).""",
    )

    username_pattern = Unicode(
        USERNAME_PATTERN,
        config=True,
        help="""The regular expression every user name must match in full (sign-up, login,
        admin-created users). Names are first NFKC-normalised and lower-cased, so a
        full-width "ａｄｍｉｎ" is "admin"; the default allows ASCII lower-case letters,
        digits, ".", "_" and "-" only, which refuses look-alike names ("admin" with a
        zero-width space, a Cyrillic "а") and keeps names valid for Unix users.""",
    )

    cookie_samesite = Enum(
        ["Lax", "Strict"],
        "Lax",
        config=True,
        help="""The SameSite attribute of the hub's, the terralab service's and the user
        servers' cookies: a browser sends none of them with a cross-site POST (or, with
        "Strict", with any cross-site request, so a link from elsewhere opens the hub logged
        out).""",
    )

    @validate("username_pattern")
    def _check_pattern(self, proposal: dict) -> str:
        try:
            re.compile(proposal["value"])
        except re.error as error:
            raise TraitError(f"username_pattern is not a regular expression: {error}") from None
        return proposal["value"]

    @validate("allowed_failed_logins", "login_lock_seconds", "minimum_password_length")
    def _check_not_negative(self, proposal: dict) -> int:
        if proposal["value"] < 0:
            raise TraitError(f"{proposal['trait'].name} must be 0 or more")
        return proposal["value"]

    def cookie_options(self) -> dict[str, str]:
        """The options every cookie is set with (tornado's ``set_cookie`` keywords)."""
        return {"samesite": self.cookie_samesite}

    def cookie_env(self) -> dict[str, str]:
        """The environment that gives the terralab service the same cookie options."""
        return {"JUPYTERHUB_COOKIE_OPTIONS": json.dumps(self.cookie_options())}

    def apply_auth_policy(self, c: Config) -> None:
        """Set the lock-out, password and user-name rules and the cookie options in ``c``."""
        c.NativeAuthenticator.allowed_failed_logins = self.allowed_failed_logins
        c.NativeAuthenticator.seconds_before_next_try = self.login_lock_seconds
        c.NativeAuthenticator.minimum_password_length = self.minimum_password_length
        c.NativeAuthenticator.check_common_password = self.refuse_common_passwords
        c.Authenticator.username_pattern = self.username_pattern
        # the hub's login, session and _xsrf cookies; JupyterHub hands them to user servers
        c.JupyterHub.tornado_settings = {"cookie_options": self.cookie_options()}
