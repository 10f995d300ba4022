"""TerralabHub settings turn into the JupyterHub configuration a site expects."""

from traitlets.config import Config

from terralab.hub.settings import SERVICE_NAME, TerralabHub


def _apply(tmp_path, **site):
    c = Config()
    for key, value in site.items():
        section, name = key.split("__")
        c[section][name] = value
    c.TerralabHub.home = str(tmp_path)
    TerralabHub(config=c).apply(c)
    return c


def _service(c, name=SERVICE_NAME):
    return next(service for service in c.JupyterHub.services if service["name"] == name)


def test_embedded_default(tmp_path):
    c = _apply(tmp_path)
    assert c.JupyterHub.spawner_class.endswith("WorkshopSpawner")
    assert c.JupyterHub.authenticator_class.endswith("TerralabAuthenticator")
    assert c.JupyterHub.db_url == f"sqlite:///{tmp_path / 'hub' / 'jupyterhub.sqlite'}"
    assert c.WorkshopSpawner.home_dir_template == str(tmp_path / "users" / "{username}")
    assert c.Spawner.default_url == "/lab"
    service = _service(c)
    assert service["name"] == SERVICE_NAME
    assert service["command"][-2:] == ["-m", "terralab.hub.service"]


def test_every_user_and_server_token_may_reach_the_service(tmp_path):
    roles = {role["name"]: role["scopes"] for role in _apply(tmp_path).JupyterHub.load_roles}
    for name in ("user", "server"):
        assert f"access:services!service={SERVICE_NAME}" in roles[name]


def test_dashboard_groups_land_on_voila(tmp_path):
    c = _apply(tmp_path, TerralabHub__dashboard_groups=["students"])
    [override] = c.Spawner.group_overrides.values()
    assert override["groups"] == ["students"]
    assert override["spawner_override"]["default_url"].startswith("/voila/render/dashboards/")
    assert set(c.JupyterHub.load_groups) == {"students"}


def test_system_mode_uses_system_users(tmp_path):
    c = _apply(tmp_path, TerralabHub__spawner_mode="system")
    assert c.JupyterHub.spawner_class.endswith("SystemUserSpawner")


def test_site_jupyterhub_options_win(tmp_path):
    c = _apply(tmp_path, JupyterHub__spawner_class="dockerspawner.DockerSpawner",
               Spawner__default_url="/tree")
    assert c.JupyterHub.spawner_class == "dockerspawner.DockerSpawner"
    assert c.Spawner.default_url == "/tree"


def test_user_servers_are_told_where_the_service_is(tmp_path):
    c = _apply(tmp_path)
    service = _service(c)
    assert c.Spawner.environment["TERRALAB_SERVICE_URL"] == \
        f"{service['url']}/services/{SERVICE_NAME}/"


def test_storage_quota_and_upload_limits_reach_the_service(tmp_path):
    import pytest
    from traitlets import TraitError

    from terralab.mydata.limits import UploadLimits
    from terralab.mydata.quota import StoragePolicy

    c = _apply(tmp_path, TerralabHub__storage_quota="10MB",
               TerralabHub__storage_quota_users={"alice": "1GB"},
               TerralabHub__storage_quota_groups={"class": "20 MB"},
               TerralabHub__upload_limits={"min_side": 512, "band_counts": [1, 3, 4]})
    service = _service(c)
    policy = StoragePolicy.from_env(service["environment"])
    assert policy.limit_for("bob") == 10 * 1024**2
    assert policy.limit_for("alice", ["class"]) == 1024**3
    assert policy.limit_for("carol", ["class"]) == 20 * 1024**2
    limits = UploadLimits.from_env(service["environment"])
    assert limits.min_side == 512 and limits.band_counts == (1, 3, 4)
    default = StoragePolicy.from_env(_apply(tmp_path).JupyterHub.services[0]["environment"])
    assert default.limit_for("bob") == 300 * 1024**3
    for bad in ({"storage_quota": "plenty"}, {"upload_limits": {"colour": "red"}},
                {"upload_limits": {"crs": "martian"}}):
        with pytest.raises((ValueError, TraitError)):
            TerralabHub(**bad)


def test_workers_run_as_a_managed_service_with_the_queue_settings(tmp_path):
    import pytest
    from traitlets import TraitError

    from terralab.hub.queue_settings import WORKERS_SERVICE
    from terralab.queue.queues import QueueConfig

    c = _apply(tmp_path, TerralabHub__worker_count=2,
               TerralabHub__job_queues={"lab-a": {"workers": 1, "groups": ["lab-a"]}},
               TerralabHub__platform_db_url="postgresql://terralab@db/terralab")
    workers = _service(c, WORKERS_SERVICE)
    assert workers["command"][-2:] == ["-m", "terralab.queue.pool"]
    for env in (workers["environment"], _service(c)["environment"]):
        queues = QueueConfig.from_env(env).queues
        assert queues["shared"].workers == 2 and queues["lab-a"].groups == ("lab-a",)
        assert env["TERRALAB_PLATFORM_DB_URL"] == "postgresql://terralab@db/terralab"
    assert "TERRALAB_PLATFORM_DB_URL" not in _service(_apply(tmp_path))["environment"]
    for bad in ({"job_queues": {"lab-a": {"workers": -1}}},
                {"job_queues": {"shared": {"groups": ["x"]}}}, {"worker_count": -1}):
        with pytest.raises((ValueError, TraitError)):
            TerralabHub(**bad)
