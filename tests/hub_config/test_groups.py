"""Non-coders are sent straight to the dashboards by group."""

import requests


def test_members_of_the_dashboards_group_land_on_voila(hub):
    headers = {"Authorization": f"token {hub.token('admin')}"}
    response = requests.post(f"{hub.url}/hub/api/groups/dashboards/users", headers=headers,
                             json={"users": ["admin"]}, timeout=30)
    response.raise_for_status()
    hub.stop_server("admin")  # group overrides apply when a server starts
    hub.start_server("admin")
    landing = requests.get(f"{hub.url}/user/admin/", headers=headers, timeout=120)
    assert landing.status_code == 200
    assert landing.url.endswith("/user/admin/voila/render/dashboards/home.ipynb")
    assert "terralab" in landing.text and "voila" in landing.text


def test_other_users_land_on_jupyterlab(hub):
    headers = {"Authorization": f"token {hub.token('demo')}"}
    hub.start_server("demo")
    landing = requests.get(f"{hub.url}/user/demo/", headers=headers, timeout=120)
    assert landing.status_code == 200
    assert landing.url.endswith("/user/demo/lab")
