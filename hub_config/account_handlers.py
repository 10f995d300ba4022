"""The hub pages of terralab's accounts: sign-up, login, and the admin's approval.

They replace NativeAuthenticator's handlers of the same URLs (see
:meth:`terralab.hub.authenticator.TerralabAuthenticator.get_handlers`):

- ``POST /hub/authorize/<name>`` approves a pending account, or withdraws an approval, and
  ``POST /hub/discard/<name>`` deletes a pending sign-up. NativeAuthenticator did both on a
  GET, so a link on any web site that the admin opened changed accounts; a POST is checked
  against JupyterHub's XSRF token, and a GET of these URLs is now 405 and changes nothing.
- ``GET /hub/authorize`` is the admin's list of accounts, whose buttons are forms that POST
  with the page's XSRF token.
- The sign-up page says which rule a refused user name or password breaks, and the login
  page says when an account is locked after too many failed logins.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from jinja2 import ChoiceLoader, DictLoader
from nativeauthenticator.handlers import LocalBase, admin_users_scope
from nativeauthenticator.handlers import LoginHandler as NativeLoginHandler
from nativeauthenticator.handlers import SignUpHandler as NativeSignUpHandler
from nativeauthenticator.orm import UserInfo
from tornado import web

__all__ = ["AccountsPageHandler", "ApprovalHandler", "DiscardHandler", "LoginHandler",
           "SignUpHandler", "account_handlers"]

_TEMPLATE = "terralab-authorize.html"

_ACCOUNTS_PAGE = """{% extends "page.html" %}
{% macro action(path, label, style) -%}
<form method="post" action="{{ base_url }}{{ path }}" style="display: inline">
  <input type="hidden" name="_xsrf" value="{{ xsrf }}">
  <button type="submit" class="btn {{ style }}">{{ label }}</button>
</form>
{%- endmacro %}
{% block main %}
<div class="container">
  <h1>Authorization area</h1>
  <table class="table align-middle">
    <thead>
      <tr>
        <th>Username</th>{% if ask_email %}<th>Email</th>{% endif %}
        <th>Has 2FA?</th><th>Is authorized?</th><th></th><th></th><th></th>
      </tr>
    </thead>
    <tbody>
      {% for user in users %}
      <tr id="{{ user.username }}"{% if user.is_authorized %} class="success"{% endif %}>
        <td>{{ user.username }}</td>{% if ask_email %}<td>{{ user.email }}</td>{% endif %}
        <td>{{ user.has_2fa }}</td>
        <td>{{ "Yes" if user.is_authorized else "No" }}</td>
        <td>{% if user.is_authorized %}
          {{ action("authorize/" ~ user.username, "Unauthorize", "btn-outline-secondary") }}
        {% else %}
          {{ action("authorize/" ~ user.username, "Authorize", "btn-jupyter") }}
        {% endif %}</td>
        <td><a class="btn btn-jupyter" role="button"
               href="{{ base_url }}change-password/{{ user.username }}">Change password</a></td>
        <td>{% if not user.is_authorized %}{{ action("discard/" ~ user.username, "Discard",
              "btn-jupyter") }}{% endif %}</td>
      </tr>
      {% endfor %}
    </tbody>
  </table>
</div>
{% endblock %}
"""


class _TerralabPage(LocalBase):
    """Adds terralab's page templates to the hub's template loader (once)."""

    _registered = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not _TerralabPage._registered:
            env = self.settings["jinja2_env"]
            env.loader = ChoiceLoader([env.loader, DictLoader({_TEMPLATE: _ACCOUNTS_PAGE})])
            _TerralabPage._registered = True


class AccountsPageHandler(_TerralabPage):
    """``GET /hub/authorize``: the accounts, with Authorize / Unauthorize / Discard forms."""

    @admin_users_scope
    async def get(self) -> None:
        """Render the list of accounts."""
        html = await self.render_template(
            _TEMPLATE,
            ask_email=self.authenticator.ask_email_on_signup,
            users=self.db.query(UserInfo).order_by(UserInfo.username).all(),
        )
        self.finish(html)


class ApprovalHandler(_TerralabPage):
    """``POST /hub/authorize/<name>``: approve a pending account or withdraw an approval."""

    @admin_users_scope
    async def post(self, name: str) -> None:
        """Toggle the account's approval and go back to its row of the accounts page."""
        name = self.authenticator.normalize_username(name)
        if UserInfo.find(self.db, name) is None:
            raise web.HTTPError(404, f"no account {name!r}")
        UserInfo.change_authorization(self.db, name)
        self.log.info("terralab: %s toggled the approval of %r", self.current_user.name, name)
        self.redirect(f"{self.hub.base_url}authorize#{name}")


class DiscardHandler(_TerralabPage):
    """``POST /hub/discard/<name>``: delete a pending (never approved) sign-up."""

    @admin_users_scope
    async def post(self, name: str) -> None:
        """Delete the pending account and go back to the accounts page."""
        name = self.authenticator.normalize_username(name)
        info = self.authenticator.get_user(name)
        if info is not None and not info.is_authorized:
            self.authenticator.delete_user(SimpleNamespace(name=name))  # needs .name only
            if self.users.get(name) is not None:
                self.users.delete(name)
        self.redirect(f"{self.hub.base_url}authorize")


class SignUpHandler(NativeSignUpHandler):
    """The sign-up form, saying which rule a refused name or password breaks."""

    def get_result_message(self, user: Any, assume_user_is_human: bool,
                           username_already_taken: bool, confirmation_matches: bool,
                           user_is_admin: bool) -> tuple[str, str]:
        """NativeAuthenticator's messages, with the broken rule when no account was made."""
        alert, message = super().get_result_message(
            user, assume_user_is_human, username_already_taken, confirmation_matches,
            user_is_admin)
        if user is None and assume_user_is_human and not username_already_taken \
                and confirmation_matches:
            message = self.refusal()
        return alert, message

    def refusal(self) -> str:
        """Why the account of the submitted form was not created."""
        auth = self.authenticator
        name = auth.normalize_username(self.get_body_argument("username", "", strip=False))
        password = self.get_body_argument("signup_password", "", strip=False)
        if not auth.validate_username(name):
            return auth.username_rule
        if len(password) < auth.minimum_password_length:
            return f"Passwords need at least {auth.minimum_password_length} characters."
        if auth.check_common_password and auth.is_password_common(password):
            return "This password is too common: please choose another one."
        return "The account could not be created: please check the form and try again."


class LoginHandler(NativeLoginHandler):
    """The login form, saying when an account is locked after too many failed logins."""

    async def _render(self, login_error: str | None = None,
                      username: str | None = None) -> str:
        name = self.authenticator.normalize_username(username) if username else ""
        if name and login_error and self.authenticator.is_blocked(name):
            minutes = max(1, round(self.authenticator.lock_remaining(name) / 60))
            login_error = (f"Too many failed logins for {username}: the account is locked "
                           f"for {minutes} more minute{'s' if minutes > 1 else ''}.")
        return await super()._render(login_error=login_error, username=username)


def account_handlers() -> list[tuple[str, type]]:
    """The account pages that replace NativeAuthenticator's (relative to ``/hub``)."""
    return [
        (r"/login", LoginHandler),
        (r"/signup", SignUpHandler),
        (r"/authorize", AccountsPageHandler),
        (r"/authorize/([^/]*)", ApprovalHandler),
        (r"/discard/([^/]*)", DiscardHandler),
    ]
