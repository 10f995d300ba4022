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
    from terralab.settings import read_settings

    c = _apply(tmp_path)
    service = _service(c)
    configured = read_settings(c.Spawner.environment)
    assert configured.service.url == f"{service['url']}/services/{SERVICE_NAME}/"
    assert configured.service.name == SERVICE_NAME and configured.home == tmp_path


def test_storage_quota_and_upload_limits_reach_the_service(tmp_path):
    import pytest
    from traitlets import TraitError

    from terralab.mydata.limits import UploadLimits
    from terralab.quotas.policy import StoragePolicy

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
    from terralab.settings import DOCUMENT_VARIABLE, read_settings

    c = _apply(tmp_path, TerralabHub__worker_count=2,
               TerralabHub__job_queues={"lab-a": {"workers": 1, "groups": ["lab-a"]}},
               TerralabHub__platform_db_url="postgresql://terralab@db/terralab")
    workers = _service(c, WORKERS_SERVICE)
    assert workers["command"][-2:] == ["-m", "terralab.queue.pool"]
    for env in (workers["environment"], _service(c)["environment"]):
        queues = QueueConfig.from_env(env).queues
        assert queues["shared"].workers == 2 and queues["lab-a"].groups == ("lab-a",)
        assert read_settings(env).platform_db_url == "postgresql://terralab@db/terralab"
    # users' servers never see the database's URL (it may hold its password)
    assert read_settings(c.Spawner.environment).platform_db_url is None
    assert "platform_db_url" not in c.Spawner.environment[DOCUMENT_VARIABLE]
    assert read_settings(_service(_apply(tmp_path))["environment"]).platform_db_url is None
    for bad in ({"job_queues": {"lab-a": {"workers": -1}}},
                {"job_queues": {"shared": {"groups": ["x"]}}}, {"worker_count": -1}):
        with pytest.raises((ValueError, TraitError)):
            TerralabHub(**bad)


def test_login_lock_out_password_rules_names_and_cookies(tmp_path):
    import json

    import pytest
    from traitlets import TraitError

    c = _apply(tmp_path)
    native = c.NativeAuthenticator
    assert native.allowed_failed_logins == 10 and native.seconds_before_next_try == 600
    assert native.minimum_password_length == 8 and native.check_common_password is True
    assert c.Authenticator.username_pattern == r"^[a-z0-9][a-z0-9._-]{0,38}$"
    assert c.JupyterHub.tornado_settings["cookie_options"] == {"samesite": "Lax"}
    service = json.loads(_service(c)["environment"]["JUPYTERHUB_COOKIE_OPTIONS"])
    assert service == {"samesite": "Lax"}

    c = _apply(tmp_path, TerralabHub__allowed_failed_logins=3,
               TerralabHub__login_lock_seconds=60, TerralabHub__minimum_password_length=12,
               TerralabHub__refuse_common_passwords=False,
               TerralabHub__cookie_samesite="Strict")
    assert c.NativeAuthenticator.allowed_failed_logins == 3
    assert c.NativeAuthenticator.seconds_before_next_try == 60
    assert c.NativeAuthenticator.minimum_password_length == 12
    assert c.NativeAuthenticator.check_common_password is False
    assert c.JupyterHub.tornado_settings["cookie_options"] == {"samesite": "Strict"}
    for bad in ({"username_pattern": "[a-z"}, {"allowed_failed_logins": -1},
                {"cookie_samesite": "None"}):
        with pytest.raises(TraitError):
            TerralabHub(**bad)


def test_user_names_are_nfkc_normalised_and_matched_in_full():
    from terralab.hub.auth_settings import USERNAME_PATTERN
    from terralab.hub.authenticator import TerralabAuthenticator

    auth = TerralabAuthenticator(add_new_table=False, username_pattern=USERNAME_PATTERN)
    assert auth.normalize_username("\uff21\uff44\uff4d\uff49\uff4e") == "admin"  # full width
    for good in ("admin", "ana.lu", "b_2", "x-1", "a" * 39):
        assert auth.validate_username(auth.normalize_username(good)), good
    for bad in ("admin\u200b", "\u0430dmin", "admin\n", "-x", ".x", "a" * 40, "", "a b"):
        assert not auth.validate_username(auth.normalize_username(bad)), repr(bad)


def test_a_lock_lasts_its_whole_time_and_ends():
    from terralab.hub.authenticator import TerralabAuthenticator

    auth = TerralabAuthenticator(add_new_table=False, allowed_failed_logins=3,
                                 seconds_before_next_try=600)
    for _ in range(2):
        auth.add_login_attempt("lee")
    assert not auth.is_blocked("lee")
    auth.add_login_attempt("lee")
    assert auth.is_blocked("lee") and 599 < auth.lock_remaining("lee") <= 600
    auth.login_attempts["lee"]["time"] -= 86400 + 10  # a day later: NativeAuthenticator's
    assert not auth.is_blocked("lee")                  # timedelta.seconds said 10 s here
    auth.successful_login("lee")
    assert auth.lock_remaining("lee") == 0
