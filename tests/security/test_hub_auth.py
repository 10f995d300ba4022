"""The hub's authentication and accounts, attacked through the real hub (issue 15).

Failures 1 (a bad XSRF froze the service), 5 (brute force, weak passwords), 6 (approval by a
cross-site GET, cookies without SameSite), 12 (look-alike user names) and "authentication
before the body" (an anonymous caller with a bad body got 400, not 401). Every request goes
through configurable-http-proxy to JupyterHub or the terralab service, with short timeouts so
that a frozen service fails the test instead of hanging it.
"""

from __future__ import annotations

import uuid

import pytest
import requests

pytestmark = pytest.mark.hub

SERVICE = "/services/terralab/"
QUICK = 5  # seconds: a healthy hub answers each of these requests well within this


def _service_session(hub, user: str, password: str) -> requests.Session:
    """A browser-like session of ``user``: hub login, then the service's OAuth cookie."""
    hub.account(user, password)
    session = hub.session(user)
    response = session.get(f"{hub.url}{SERVICE}whoami", headers={"Accept": "text/html"},
                           timeout=30)
    assert response.status_code == 200 and response.json()["name"] == user
    return session


def _auth_cookies(session: requests.Session) -> dict[str, str]:
    """The session's cookies without any ``_xsrf`` cookie (a request that has none)."""
    return {cookie.name: cookie.value for cookie in session.cookies if cookie.name != "_xsrf"}


def _token_headers(hub, user: str) -> dict[str, str]:
    return {"Authorization": f"token {hub.token(user)}"}


def _service_still_answers(hub, session: requests.Session) -> None:
    """Health, another user's token call, and this session's correct XSRF POST all answer."""
    health = requests.get(f"{hub.url}{SERVICE}health", timeout=QUICK)
    assert health.status_code == 200
    other = requests.get(f"{hub.url}{SERVICE}whoami", headers=_token_headers(hub, "xsrf-other"),
                         timeout=QUICK)
    assert other.status_code == 200 and other.json()["name"] == "xsrf-other"
    name = f"project {uuid.uuid4().hex[:8]}"  # each call its own (names are unique per user)
    token_post = requests.post(f"{hub.url}{SERVICE}projects", json={"name": name},
                               headers=_token_headers(hub, "xsrf-other"), timeout=QUICK)
    assert token_post.status_code == 201, token_post.text
    xsrf = session.cookies.get("_xsrf", path=SERVICE)
    assert xsrf, "the service set no _xsrf cookie at login"
    cookie_post = session.post(f"{hub.url}{SERVICE}projects", json={"name": name},
                               headers={"X-XSRFToken": xsrf, "Sec-Fetch-Mode": "cors",
                                        "Sec-Fetch-Site": "same-origin"}, timeout=QUICK)
    assert cookie_post.status_code == 201, cookie_post.text


def test_a_wrong_xsrf_header_is_refused_quickly_and_freezes_nothing(hub):
    """issue failure 1: a cookie POST with a wrong X-XSRFToken (no _xsrf cookie) froze the
    service; it must answer 403 at once, and the service keeps answering everyone (tokens,
    and the same browser with the right XSRF token)."""
    session = _service_session(hub, "xsrf-header", "header-pass-4821")
    response = requests.post(f"{hub.url}{SERVICE}jobs", cookies=_auth_cookies(session),
                             headers={"X-XSRFToken": "wrong"}, json={"tool": "ndvi"},
                             timeout=QUICK)
    assert response.status_code == 403
    assert "xsrf" in response.json()["message"].lower()
    _service_still_answers(hub, session)


def test_a_cross_site_form_post_is_refused_quickly_and_freezes_nothing(hub):
    """issue failure 1: a form-shaped cross-site POST (_xsrf=x, Sec-Fetch-Mode: navigate)
    froze the service; it must answer 403 at once and the service keeps answering."""
    session = _service_session(hub, "xsrf-form", "form-pass-4821")
    response = requests.post(f"{hub.url}{SERVICE}jobs", cookies=_auth_cookies(session),
                             data={"_xsrf": "x", "tool": "ndvi"},
                             headers={"Sec-Fetch-Mode": "navigate",
                                      "Sec-Fetch-Site": "cross-site"},
                             timeout=QUICK)
    assert response.status_code == 403
    _service_still_answers(hub, session)


_WRITES = [("POST", "projects"), ("PATCH", "projects/p1"), ("POST", "projects/p1/layers"),
           ("PATCH", "projects/p1/layers/0"), ("POST", "jobs"), ("POST", "catalog/search"),
           ("POST", "mydata/uploads"), ("PUT", "mydata/uploads/u1"),
           ("PUT", "catalog/favourites/item-1"), ("PATCH", "mydata/items/item-1")]


def test_an_anonymous_caller_with_a_bad_body_gets_401_everywhere(hub):
    """issue "POST projects checks the body before authentication": an anonymous caller with
    a broken body learns only that it must log in (401), on every endpoint that takes one."""
    answers = {}
    for method, path in _WRITES:
        response = requests.request(method, f"{hub.url}{SERVICE}{path}", data=b"{not json",
                                    headers={"Content-Type": "application/json"},
                                    timeout=QUICK)
        answers[f"{method} {path}"] = response.status_code
    assert set(answers.values()) == {401}, answers


def _login(hub, user: str, password: str) -> requests.Response:
    session = requests.Session()
    session.get(f"{hub.url}/hub/login", timeout=30)
    return session.post(f"{hub.url}/hub/login", allow_redirects=False, timeout=30,
                        data={"username": user, "password": password,
                              "_xsrf": session.cookies.get("_xsrf", "")})


def test_repeated_wrong_passwords_lock_the_account(hub):
    """issue failure 5: after 10 wrong passwords even the right one is refused for a while,
    with a message that says so."""
    hub.account("brute-target", "target-pass-7315")
    for attempt in range(10):
        response = _login(hub, "brute-target", f"wrong-{attempt}")
        assert response.status_code == 200  # the form again, with its error
    response = _login(hub, "brute-target", "target-pass-7315")
    assert response.status_code == 200, "the right password was accepted during the lock"
    assert "Too many failed logins" in response.text


def test_weak_passwords_are_refused_at_sign_up(hub):
    """issue failure 5: sign-up refused the password "a"? It accepted it; now a short or
    common password is refused with a message that says why."""
    message = hub.signup("weak-a", "a")
    assert "at least 8 characters" in message
    message = hub.signup("weak-common", "password123")
    assert "too common" in message
    assert _login(hub, "weak-a", "a").status_code == 200  # no account was made
    assert "sent to the admin" in hub.signup("weak-fixed", "mossy-cliff-2291")


def test_approval_needs_a_post_with_xsrf(hub):
    """issue failure 6: GET /hub/authorize/<name> with the admin's cookie (a cross-site link)
    approved the account; now only the authorize page's POST (with its XSRF token) does."""
    assert "sent to the admin" in hub.signup("pending-victim", "victim-pass-6610")
    admin = hub.session("admin")
    cross_site = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    admin.get(f"{hub.url}/hub/authorize/pending-victim", headers=cross_site, timeout=30)
    admin.get(f"{hub.url}/hub/discard/pending-victim", headers=cross_site, timeout=30)
    refused = _login(hub, "pending-victim", "victim-pass-6610")
    assert "has not been authorized" in refused.text, "a GET changed the account"

    forged = admin.post(f"{hub.url}/hub/authorize/pending-victim", headers=cross_site,
                        data={"_xsrf": "forged"}, allow_redirects=False, timeout=30)
    assert forged.status_code == 403
    assert "has not been authorized" in _login(hub, "pending-victim", "victim-pass-6610").text

    assert hub.approve("pending-victim").status_code == 302
    assert _login(hub, "pending-victim", "victim-pass-6610").status_code == 302


def test_discarding_a_pending_sign_up_needs_a_post_with_xsrf(hub):
    """issue failure 6: NativeAuthenticator's GET /hub/discard/<name> deleted a pending
    sign-up; now the authorize page's POST (with its XSRF token) does, and only that."""
    assert "sent to the admin" in hub.signup("discard-me", "discard-pass-4471")
    admin = hub.session("admin")
    assert admin.get(f"{hub.url}/hub/discard/discard-me", timeout=30).status_code == 405
    assert "already in use" in hub.signup("discard-me", "discard-pass-4471")  # still there
    xsrf = admin.cookies.get("_xsrf", path="/hub/")
    answer = admin.post(f"{hub.url}/hub/discard/discard-me", data={"_xsrf": xsrf},
                        allow_redirects=False, timeout=30)
    assert answer.status_code == 302
    # the name is free again: signing up with it makes a new pending account
    assert "sent to the admin" in hub.signup("discard-me", "discard-pass-4471")


def test_hub_and_service_cookies_are_same_site(hub):
    """issue failure 6: every cookie of the hub and the service carries SameSite."""
    session = _service_session(hub, "samesite-user", "samesite-pass-5150")
    names = {cookie.name for cookie in session.cookies}
    assert {"jupyterhub-hub-login", "jupyterhub-session-id", "_xsrf"} <= names
    assert "service-terralab" in names, names  # the service's OAuth login cookie
    lax = {cookie.name: cookie.get_nonstandard_attr("SameSite") for cookie in session.cookies}
    assert all(value in ("Lax", "Strict") for value in lax.values()), lax


@pytest.mark.parametrize("name", ["admin\u200b", "\u0430dmin", "b\u00f6b", "Eve Smith",
                                  "x" * 40, "-dash"])
def test_look_alike_and_odd_names_are_refused_at_sign_up(hub, name):
    """issue failure 12: look-alike names (zero-width space, Cyrillic 'а') were accepted;
    now names are ASCII lower-case letters, digits, '.', '_', '-', with a clear message."""
    message = hub.signup(name, "lookalike-pass-9931")
    assert "User names may use" in message, message


def test_full_width_names_normalise_to_ascii(hub):
    """issue failure 12: full-width 'ａｄｍｉｎ' is NFKC-normalised to 'admin': it is the admin's
    account (taken at sign-up, admin's password needed to log in), never a second one."""
    assert "already in use" in hub.signup("\uff41\uff44\uff4d\uff49\uff4e", "fullwidth-pass-1")
    assert _login(hub, "\uff41\uff44\uff4d\uff49\uff4e", "fullwidth-pass-1").status_code == 200
    assert "sent to the admin" in hub.signup("\uff46\uff45\uff4c\uff49\uff58", "felix-pass-2207")
    hub.approve("felix").raise_for_status()
    assert _login(hub, "felix", "felix-pass-2207").status_code == 302
    assert _login(hub, "\uff26\uff45\uff4c\uff49\uff58", "felix-pass-2207").status_code == 302
