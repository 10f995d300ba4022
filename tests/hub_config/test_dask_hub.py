"""Dask Gateway behind the real hub: JupyterHub tokens, the proxy route, a user's kernel.

Skipped while the hub of the ``hub`` fixture runs no ``dask-gateway`` service.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from dask_gateway import Gateway, JupyterHubAuth
from traitlets.config.loader import PyFileConfigLoader

from terralab.hub.dask_settings import DASK_SERVICE_NAME

pytestmark = pytest.mark.hub
ROOT = Path(__file__).resolve().parents[2]
KERNEL = """
import sys
from pathlib import Path

import numpy as np

from terralab import compute
from tests.kernels_lib.test_compute import ndvi_pixels, scheduler_transitions, write_image

tmp = Path(sys.argv[1])
image = write_image(tmp / "field.tif")
client = compute.client()
assert compute._current.kind == "gateway", compute._current.kind
client.wait_for_workers(1, timeout=60)
before = scheduler_transitions(client)
pixels = ndvi_pixels(tmp / "home", image)
assert scheduler_transitions(client) - before > 10
compute.shutdown()
print("ndvi", float(np.nanmean(pixels)))
"""


def _healthy(url: str) -> bool:
    try:
        return requests.get(url, timeout=10).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def dask_hub(hub):
    """The hub, its gateway's address through the hub, and the scheduler proxy address."""
    address = f"{hub.url}/services/{DASK_SERVICE_NAME}"
    folder = hub.home / "hub" / DASK_SERVICE_NAME
    if not (folder / "dask_gateway_config.py").exists():
        pytest.skip("the hub runs no dask-gateway service (TerralabHub without DaskSettings)")
    deadline = time.monotonic() + 60
    while not _healthy(f"{address}/api/health"):
        if time.monotonic() > deadline:
            pytest.fail("the hub's dask-gateway service does not answer")
        time.sleep(0.5)
    config = PyFileConfigLoader("dask_gateway_config.py", path=str(folder)).load_config()
    return hub, address, f"gateway://{config.Proxy.tcp_address}"


def test_a_user_token_creates_a_cluster_through_the_hub(dask_hub):
    hub, address, proxy = dask_hub
    with Gateway(address, proxy_address=proxy, auth=JupyterHubAuth(hub.token("demo"))) as gw:
        with gw.new_cluster() as cluster:
            cluster.scale(1)
            with cluster.get_client(set_as_default=False) as client:
                assert client.submit(sum, [1, 2]).result() == 3
            assert f"/services/{DASK_SERVICE_NAME}/clusters/" in cluster.dashboard_link
        assert [r for r in gw.list_clusters() if r.status.name == "RUNNING"] == []


def test_a_token_without_the_service_scope_is_refused(dask_hub):
    hub, address, proxy = dask_hub
    token = hub.token("demo", scopes=["read:users:name!user"])
    with (Gateway(address, proxy_address=proxy, auth=JupyterHubAuth(token)) as gw,
          pytest.raises(Exception, match="401")):
        gw.list_clusters()


def _server_environment(user: str) -> dict[str, str]:
    """The environment of ``user``'s running server (what its kernels inherit)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes()
            pairs = (proc / "environ").read_bytes().decode().split("\0")
        except OSError:
            continue
        env = dict(pair.split("=", 1) for pair in pairs if "=" in pair)
        if b"terralab.hub.singleuser" in command and env.get("JUPYTERHUB_USER") == user:
            return env
    raise LookupError(f"no running server of {user}")


def test_a_kernel_of_a_users_server_runs_a_tool_on_its_gateway_cluster(dask_hub, tmp_path):
    hub, _, _ = dask_hub
    hub.start_server("demo")
    env = _server_environment("demo")
    assert env["DASK_GATEWAY__AUTH__TYPE"] == "jupyterhub"
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", KERNEL, str(tmp_path)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("ndvi ")
