"""Helpers for tests against a running terralab hub: logins, tokens, user servers."""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests


@dataclass
class RunningHub:
    """A hub started by ``terralab up`` for the tests."""

    url: str
    home: Path
    logins: dict[str, str]
    _tokens: dict[str, str] = field(default_factory=dict)

    def session(self, user: str, password: str | None = None) -> requests.Session:
        """Return a requests session logged in through the hub's login form."""
        session = requests.Session()
        session.get(f"{self.url}/hub/login", timeout=30).raise_for_status()
        response = session.post(
            f"{self.url}/hub/login",
            data={"username": user, "password": password or self.logins[user],
                  "_xsrf": session.cookies.get("_xsrf", "")},
            allow_redirects=False,
            timeout=30,
        )
        if response.status_code != 302:
            raise PermissionError(f"login of {user} failed: HTTP {response.status_code}")
        return session

    def signup(self, user: str, password: str, confirmation: str | None = None) -> str:
        """Submit the hub's sign-up form; returns the page's alert message (its text)."""
        session = requests.Session()
        session.get(f"{self.url}/hub/signup", timeout=30).raise_for_status()
        response = session.post(
            f"{self.url}/hub/signup",
            data={"username": user, "signup_password": password,
                  "signup_password_confirmation": password if confirmation is None
                  else confirmation, "_xsrf": session.cookies.get("_xsrf", "")},
            timeout=30,
        )
        response.raise_for_status()
        found = re.search(r'<div class="alert[^"]*"[^>]*>(.*?)</div>', response.text, re.S)
        text = re.sub(r"<[^>]+>", " ", found.group(1)) if found else ""
        return html.unescape(re.sub(r"\s+", " ", text)).strip()

    def approve(self, user: str) -> requests.Response:
        """Approve the pending sign-up ``user`` as the admin (the authorize page's button)."""
        admin = self.session("admin")
        return admin.post(f"{self.url}/hub/authorize/{user}",
                          data={"_xsrf": admin.cookies.get("_xsrf", path="/hub/")},
                          allow_redirects=False, timeout=30)

    def account(self, user: str, password: str) -> None:
        """Sign ``user`` up through the form and approve them, so they can log in."""
        message = self.signup(user, password)
        if "sent to the admin" not in message:
            raise RuntimeError(f"sign-up of {user} refused: {message}")
        self.approve(user).raise_for_status()
        self.logins[user] = password

    def token(self, user: str, scopes: list[str] | None = None) -> str:
        """Return an API token of ``user`` made through the hub's REST API.

        A user without a login (not ``admin`` or ``demo``) is a plain, non-admin user that
        the admin creates on first use; tests give each purpose its own such user, so the
        data one module makes never changes what another measures.
        """
        key = f"{user}:{scopes}"
        if user not in self.logins and scopes is None:
            if key not in self._tokens:
                self._tokens[key] = self._plain_user_token(user)
            return self._tokens[key]
        if key not in self._tokens:
            session = self.session(user)
            body: dict = {"note": "terralab tests", "expires_in": 3600}
            if scopes is not None:
                body["scopes"] = scopes
            response = session.post(
                f"{self.url}/hub/api/users/{user}/tokens",
                json=body,
                headers={"X-XSRFToken": session.cookies.get("_xsrf", "")},
                timeout=30,
            )
            response.raise_for_status()
            self._tokens[key] = response.json()["token"]
        return self._tokens[key]

    def _plain_user_token(self, user: str) -> str:
        """Create the plain user ``user`` as the admin (if needed) and return a token of theirs."""
        admin = {"Authorization": f"token {self.token('admin')}"}
        users = f"{self.url}/hub/api/users"
        created = requests.post(f"{users}/{user}", headers=admin, timeout=30)
        if created.status_code not in (201, 409):
            created.raise_for_status()
        made = requests.post(f"{users}/{user}/tokens", headers=admin, timeout=30,
                             json={"note": "terralab tests", "expires_in": 3600})
        made.raise_for_status()
        return made.json()["token"]

    def start_server(self, user: str, timeout: float = 180) -> None:
        """Start ``user``'s server through the REST API and wait until it is ready."""
        headers = {"Authorization": f"token {self.token(user)}"}
        api = f"{self.url}/hub/api/users/{user}"
        response = requests.post(f"{api}/server", headers=headers, timeout=30)
        if response.status_code not in (201, 202, 400):  # 400: already running
            response.raise_for_status()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = requests.get(api, headers=headers, timeout=30).json()
            server = model.get("servers", {}).get("", {})
            if server.get("ready"):
                return
            time.sleep(1)
        raise TimeoutError(f"the server of {user} did not start in {timeout} s")

    def stop_server(self, user: str, timeout: float = 60) -> None:
        """Stop ``user``'s server (if running) and wait until it is gone."""
        headers = {"Authorization": f"token {self.token(user)}"}
        api = f"{self.url}/hub/api/users/{user}"
        requests.delete(f"{api}/server", headers=headers, timeout=30)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "" not in requests.get(api, headers=headers, timeout=30).json().get("servers", {}):
                return
            time.sleep(0.5)
        raise TimeoutError(f"the server of {user} did not stop in {timeout} s")
