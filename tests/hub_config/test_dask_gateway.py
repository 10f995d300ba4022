"""Dask Gateway: the generated config, run by dask-gateway-server with the local backend.

The gateway runs the configuration :class:`DaskSettings` generates for the hub, with a
password authenticator (and groups by user name) in place of JupyterHub's, on free loopback
ports: clusters for users, their limits, a processing tool on a cluster, idle clusters and
the cluster of a SIGKILLed client stopped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from dask_gateway import BasicAuth, Gateway, GatewayWarning
from traitlets.config import Config, LoggingConfigurable
from traitlets.config.loader import PyFileConfigLoader

from terralab import compute
from terralab.hub.dask_settings import DASK_SERVICE_NAME, DaskSettings
from tests.kernels_lib.test_compute import ndvi_pixels, scheduler_transitions, write_image

PASSWORD = "gateway-test-pass"
IDLE_TIMEOUT = 15.0
NO_CLIENT_TIMEOUT = 4.0
TEST_AUTH = '''
load_subconfig(GENERATED)

from dask_gateway_server.auth import SimpleAuthenticator
from dask_gateway_server.models import User


class GroupsAuthenticator(SimpleAuthenticator):
    """A password for everyone; users named teacher* are in the group teachers."""

    async def authenticate(self, request):
        user = await super().authenticate(request)
        teachers = {"teachers"} if user.name.startswith("teacher") else set()
        return User(user.name, groups=teachers)


c.DaskGateway.authenticator_class = GroupsAuthenticator
c.SimpleAuthenticator.password = PASSWORD
'''
DEAD_KERNEL = """
import sys, time
import dask.array as da
from dask_gateway import BasicAuth, Gateway

gateway = Gateway(sys.argv[1], proxy_address=sys.argv[2], auth=BasicAuth("bob", sys.argv[3]))
cluster = gateway.new_cluster()
cluster.scale(1)
client = cluster.get_client()
client.wait_for_workers(1, timeout=60)


def slow(block):
    time.sleep(1)
    return block


future = client.compute(da.ones((40, 40), chunks=10).map_blocks(slow).sum())
print(cluster.name, flush=True)
time.sleep(600)
"""


class Hub(DaskSettings, LoggingConfigurable):
    """The Dask part of TerralabHub."""


def hub_config(home: Path, spawner_mode: str = "workshop", **settings) -> Config:
    """The JupyterHub config that ``apply_dask`` makes from ``settings``."""
    c = Config()
    c.JupyterHub.services = [{"name": "terralab", "url": "http://127.0.0.1:1"}]
    c.JupyterHub.load_roles = [{"name": "user", "scopes": ["self"]},
                               {"name": "server", "scopes": ["access:servers!server"]}]
    c.Spawner.environment = {"TERRALAB_HOME": str(home)}
    hub = Hub(config=Config({"Hub": settings}))
    hub.apply_dask(c, home, spawner_mode=spawner_mode)
    return c


def _service(c: Config) -> dict:
    return next(s for s in c.JupyterHub.services if s["name"] == DASK_SERVICE_NAME)


def _gateway_config(c: Config) -> Config:
    path = Path(_service(c)["command"][-1])
    return PyFileConfigLoader(path.name, path=str(path.parent)).load_config()


# ----------------------------------------------------------------- the generated config


def test_the_service_roles_and_user_servers(tmp_path):
    c = hub_config(tmp_path)
    service = _service(c)
    assert service["command"][:3] == [sys.executable, "-m", "dask_gateway_server"]
    assert service["url"].startswith("http://127.0.0.1:")
    assert [s["name"] for s in c.JupyterHub.services] == ["terralab", DASK_SERVICE_NAME]
    access = f"access:services!service={DASK_SERVICE_NAME}"
    assert all(access in role["scopes"] for role in c.JupyterHub.load_roles)
    env = c.Spawner.environment
    assert env["TERRALAB_HOME"] == str(tmp_path)
    assert env["DASK_GATEWAY__ADDRESS"] == f"{service['url']}/services/{DASK_SERVICE_NAME}"
    assert env["DASK_GATEWAY__PROXY_ADDRESS"].startswith("gateway://127.0.0.1:")
    assert env["DASK_GATEWAY__AUTH__TYPE"] == "jupyterhub"
    state = tmp_path / "hub" / DASK_SERVICE_NAME
    assert (state / "encrypt_key").stat().st_mode & 0o777 == 0o600


def test_the_generated_config_loads_and_carries_group_limits(tmp_path):
    from dask_gateway_server.models import User

    from terralab.hub.dask_gateway import WorkshopBackend

    c = hub_config(tmp_path, dask_cluster_max_cores=3, dask_cluster_max_memory="6 G",
                   dask_max_clusters=1, dask_idle_timeout=600,
                   dask_group_limits={"teachers": {"cores": 9, "clusters": 3},
                                      "staff": {"memory": "16 G"}})
    config = _gateway_config(c)
    assert config.DaskGateway.authenticator_class.endswith("JupyterHubAuthenticator")
    assert config.DaskGateway.backend_class == "terralab.hub.dask_gateway.WorkshopBackend"
    assert config.ClusterConfig.idle_timeout == 600
    assert len(config.DBBackendBase.db_encrypt_keys) == 1
    backend = WorkshopBackend(config=config)
    plain = backend.limits_for(User("alice"))
    assert (plain.cores, plain.memory, plain.clusters) == (3, 6 * 2**30, 1)
    both = backend.limits_for(User("tina", groups=["teachers", "staff"]))
    assert (both.cores, both.memory, both.clusters) == (9, 16 * 2**30, 3)
    overrides = backend.options_for(User("tina", groups=["teachers"])).get_configuration(
        {"worker_cores": 2, "worker_memory": 1.5}, User("tina", groups=["teachers"]))
    assert overrides == {"worker_cores": 2, "worker_memory": int(1.5 * 2**30),
                         "cluster_max_cores": 9.0, "cluster_max_memory": 6 * 2**30}


def test_system_mode_runs_clusters_as_the_users_account(tmp_path):
    c = hub_config(tmp_path, spawner_mode="system")
    config = _gateway_config(c)
    assert config.DaskGateway.backend_class == "terralab.hub.dask_gateway.SystemBackend"
    assert config.SystemBackend.system_username_template == "jupyter-{username}"


def test_the_gateway_can_be_switched_off_and_bad_limits_are_refused(tmp_path):
    c = hub_config(tmp_path, dask_gateway=False)
    assert [s["name"] for s in c.JupyterHub.services] == ["terralab"]
    assert "DASK_GATEWAY__ADDRESS" not in c.Spawner.environment
    from traitlets import TraitError

    with pytest.raises((ValueError, TraitError), match="memory"):
        Hub(dask_cluster_max_memory="lots")
    with pytest.raises((ValueError, TraitError), match="cores must be at least 2"):
        Hub(dask_group_limits={"students": {"cores": 1}})
    with pytest.raises((ValueError, TraitError), match="keys cores, memory, clusters"):
        Hub(dask_group_limits={"students": {"gpus": 1}})


# ------------------------------------------------------------------- a running gateway


def _ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    """dask-gateway-server on the generated config; yields (address, proxy, log)."""
    home = tmp_path_factory.mktemp("dask-home")
    c = hub_config(home, dask_cluster_max_cores=3, dask_cluster_max_memory="4 G",
                   dask_max_clusters=1, dask_idle_timeout=IDLE_TIMEOUT,
                   dask_no_client_timeout=NO_CLIENT_TIMEOUT,
                   dask_group_limits={"teachers": {"cores": 5, "clusters": 2}})
    command = _service(c)["command"]
    test_config = home / "test_gateway_config.py"
    test_config.write_text(TEST_AUTH.replace("GENERATED", repr(command[-1]))
                           .replace("PASSWORD", repr(PASSWORD)))
    address = c.Spawner.environment["DASK_GATEWAY__ADDRESS"]
    proxy = c.Spawner.environment["DASK_GATEWAY__PROXY_ADDRESS"]
    log = home / "gateway.log"
    with log.open("wb") as out:
        process = subprocess.Popen([*command[:-1], str(test_config)], cwd=home, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while not _ok(f"{address}/api/health"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("dask-gateway-server did not start:\n" + log.read_text()[-3000:])
        time.sleep(0.2)
    yield address, proxy, log
    process.send_signal(signal.SIGTERM)  # the gateway stops its clusters
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _gateway(gateway, user: str) -> Gateway:
    address, proxy, _ = gateway
    return Gateway(address, proxy_address=proxy, auth=BasicAuth(user, PASSWORD))


def _running(gateway, user: str) -> list[str]:
    with _gateway(gateway, user) as client:
        return [r.name for r in client.list_clusters() if r.status.name == "RUNNING"]


def _wait_until_stopped(gateway, user: str, timeout: float) -> float:
    """Seconds until ``user`` has no running cluster (fails after ``timeout``)."""
    start = time.monotonic()
    while _running(gateway, user):
        if time.monotonic() - start > timeout:
            pytest.fail(f"the cluster of {user} still runs after {timeout:.0f} s:\n"
                        + gateway[2].read_text()[-3000:])
        time.sleep(0.5)
    return time.monotonic() - start


@pytest.fixture
def as_alice(gateway):
    """tl.compute.client() finds this gateway as in a user's server (dask config)."""
    import dask

    address, proxy, _ = gateway
    settings = {"gateway.address": address, "gateway.proxy-address": proxy,
                "gateway.auth.type": "basic",
                "gateway.auth.kwargs": {"username": "alice", "password": PASSWORD}}
    compute.shutdown()
    with dask.config.set(settings):
        yield
    compute.shutdown()


def test_a_processing_tool_runs_on_a_users_gateway_cluster(gateway, as_alice, tmp_path,
                                                           monkeypatch):
    import dask

    image = write_image(tmp_path / "field.tif")
    client = compute.client()
    assert compute.client() is client
    [name] = _running(gateway, "alice")
    client.wait_for_workers(1, timeout=60)
    before = scheduler_transitions(client)
    on_gateway = ndvi_pixels(tmp_path / "home-a", image)
    assert scheduler_transitions(client) - before > 10  # the tool's tasks ran on alice's cluster
    with dask.config.set(scheduler="threads"):
        local = ndvi_pixels(tmp_path / "home-b", image)
    assert np.array_equal(np.isnan(on_gateway), np.isnan(local))
    assert np.array_equal(on_gateway[np.isfinite(on_gateway)], local[np.isfinite(local)])

    with _gateway(gateway, "alice") as alice:
        # 3 cores, the scheduler's one included: 2 one-core workers at most
        with pytest.warns(GatewayWarning, match="resource limit of 2 workers"):
            alice.scale_cluster(name, 10)
        with pytest.raises(ValueError, match="worker_cores must be <= 2"):
            alice.cluster_options().worker_cores = 3
        with pytest.raises(ValueError, match="already runs 1 Dask cluster"):
            alice.new_cluster()

    # a second kernel of alice's (one cluster allowed) joins the running cluster
    first = compute._current
    monkeypatch.setattr(compute, "_current", None)
    joined = compute.client()
    assert joined is not client and compute._current.kind == "joined"
    assert compute._current.cluster.name == name
    compute.shutdown()  # leaves the joined cluster running
    assert _running(gateway, "alice") == [name]
    monkeypatch.setattr(compute, "_current", first)
    compute.shutdown()  # the kernel that created it stops it
    assert _wait_until_stopped(gateway, "alice", 30) < 30


def test_group_limits_come_from_the_users_groups(gateway):
    with _gateway(gateway, "teacher1") as teacher:
        options = teacher.cluster_options()
        options.worker_cores = 4  # 5 cores for teachers, one is the scheduler's
        with pytest.raises(ValueError, match="worker_cores must be <= 4"):
            options.worker_cores = 5


def test_idle_clusters_and_clusters_of_a_dead_kernel_stop(gateway):
    address, proxy, _ = gateway
    # carol keeps her client connected and idle: the idle timeout stops her cluster
    with _gateway(gateway, "carol") as carol:
        idle = carol.new_cluster(shutdown_on_close=True)
        idle.scale(1)
        idle_client = idle.get_client(set_as_default=False)
        idle_client.wait_for_workers(1, timeout=60)
        assert idle_client.submit(sum, [1, 2]).result() == 3
        idle_since = time.monotonic()
        # bob's kernel computes and is SIGKILLed: no client, its cluster stops soon after
        kernel = subprocess.Popen([sys.executable, "-c", DEAD_KERNEL, address, proxy, PASSWORD],
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert kernel.stdout is not None
            name = kernel.stdout.readline().strip()
            assert name and _running(gateway, "bob") == [name]
            time.sleep(1)
        finally:
            kernel.send_signal(signal.SIGKILL)
            kernel.wait()
        dead = _wait_until_stopped(gateway, "bob", IDLE_TIMEOUT + 20)
        assert dead < IDLE_TIMEOUT, "the no-client rule stops it before the idle timeout"
        assert _running(gateway, "carol"), "a connected client keeps a cluster"
        _wait_until_stopped(gateway, "carol", IDLE_TIMEOUT + 30)
        assert time.monotonic() - idle_since >= IDLE_TIMEOUT - 1
        idle_client.close()
        idle.close()


def test_the_system_backend_maps_hub_users_to_their_accounts(tmp_path):
    import pwd

    from terralab.hub.dask_gateway import SystemBackend

    config = _gateway_config(hub_config(tmp_path, spawner_mode="system"))
    config.SystemBackend.system_username_template = "{username}"
    backend = SystemBackend(config=config)
    nobody = pwd.getpwnam("nobody")
    assert backend.system_user("nobody").pw_uid == nobody.pw_uid
    assert SystemBackend(config=_gateway_config(hub_config(
        tmp_path, spawner_mode="system"))).system_username_template == "jupyter-{username}"


def test_system_mode_follows_the_sites_account_names(tmp_path):
    site = Config({"Hub": {}, "SystemUserSpawner": {"system_username_template": "tl-{username}"}})
    c = Config()
    Hub(config=site).apply_dask(c, tmp_path, spawner_mode="system")
    assert _gateway_config(c).SystemBackend.system_username_template == "tl-{username}"
