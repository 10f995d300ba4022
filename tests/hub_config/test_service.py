"""The terralab hub service behind the real hub: health, and authentication of whoami."""

import requests


def test_health_needs_no_login(hub):
    response = requests.get(f"{hub.url}/services/terralab/health", timeout=30)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_whoami_without_a_token_is_refused(hub):
    response = requests.get(f"{hub.url}/services/terralab/whoami", timeout=30)
    assert response.status_code == 401
    assert "token" in response.json()["message"]
    assert response.headers["WWW-Authenticate"] == 'token realm="terralab"'


def test_whoami_with_a_forged_token_is_refused(hub):
    response = requests.get(f"{hub.url}/services/terralab/whoami",
                            headers={"Authorization": "token not-a-real-token"}, timeout=30)
    assert response.status_code == 401


def test_whoami_answers_the_user_of_the_token(hub):
    for user in ("demo", "admin"):
        response = requests.get(f"{hub.url}/services/terralab/whoami",
                                headers={"Authorization": f"token {hub.token(user)}"}, timeout=30)
        assert response.status_code == 200
        body = response.json()
        assert body["name"] == user
        assert body["admin"] is (user == "admin")


def test_a_token_without_the_service_scope_gets_403(hub):
    token = hub.token("demo", scopes=["read:users:name!user"])
    response = requests.get(f"{hub.url}/services/terralab/whoami",
                            headers={"Authorization": f"token {token}"}, timeout=30)
    assert response.status_code == 403
    assert "access:services!service=terralab" in response.json()["message"]


def test_a_browser_without_a_session_is_sent_to_the_hub_login(hub):
    response = requests.get(f"{hub.url}/services/terralab/whoami",
                            headers={"Accept": "text/html"}, allow_redirects=False, timeout=30)
    assert response.status_code == 302
    assert "/hub/api/oauth2/authorize" in response.headers["Location"]


def test_the_service_cookie_secret_is_private_and_kept(tmp_path):
    from terralab.hub.service import cookie_secret

    first = cookie_secret(tmp_path)
    assert len(first) == 32 and cookie_secret(tmp_path) == first
    path = tmp_path / "hub" / "terralab_service_cookie_secret"
    assert path.stat().st_mode & 0o777 == 0o600
