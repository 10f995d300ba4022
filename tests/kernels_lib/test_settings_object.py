"""One settings object (``terralab.settings``): the hub's document, the variables, the errors.

- No module of the library, the widgets, the server extension or the hub reads
  ``os.environ`` for its settings: only :mod:`terralab.settings` does, and the few places
  that hand their environment to another process (listed below, each with its reason).
- The hub's traitlets reach a child process as one document (``$TERRALAB_SETTINGS``), which
  the child reads back through the same calls a kernel, the service and the workers make.
- Without a document the individual variables work as documented, and a bad value's message
  names its variable (or its key in the document).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from terralab.settings import (
    DOCUMENT_VARIABLE,
    Settings,
    SettingsError,
    document,
    fields,
    read_settings,
    reload_settings,
    settings,
)

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("kernels_lib", "widgets", "extension", "hub_config")
READER = ROOT / "kernels_lib" / "settings"
#: The page's request as Voilà hands it to the kernel (query string, path, language): not
#: settings, and read in this one module only.
REQUEST_READER = ROOT / "widgets" / "page_request.py"
#: Files that hand their own environment to a child process (they write, never read, settings).
WRITERS = {
    "kernels_lib/queue/pool.py": "the pool passes its environment (the settings document "
                                 "included) on to the worker processes it starts",
    "hub_config/launch.py": "`terralab up` builds the hub process's environment from its own",
}


def environ_uses(source: str) -> list[int]:
    """The lines of ``source`` that touch ``os.environ``, ``os.getenv`` or ``environ``."""
    names = {"environ", "getenv", "environb", "getenvb"}
    found = []
    for node in ast.walk(ast.parse(source)):
        attribute = isinstance(node, ast.Attribute) and node.attr in names
        imported = isinstance(node, ast.ImportFrom) and node.module == "os" and any(
            alias.name in names for alias in node.names)
        if attribute or imported:
            found.append(node.lineno)
    return sorted(found)


def test_the_finder_sees_each_form_of_reading_the_environment():
    assert environ_uses('import os\nx = os.environ.get("TERRALAB_HOME")\n') == [2]
    assert environ_uses('import os\nx = os.getenv("A")\ny = os.environ["B"]\n') == [2, 3]
    assert environ_uses("from os import environ\n") == [1]
    assert environ_uses('"""Read ``os.environ`` never."""\nimport os\nos.getpid()\n') == []


def test_no_module_reads_the_environment_but_the_settings():
    offenders, writers_seen = [], set()
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.is_relative_to(READER) or path == REQUEST_READER:
                continue
            lines = environ_uses(path.read_text(encoding="utf-8"))
            name = path.relative_to(ROOT).as_posix()
            if name in WRITERS and lines:
                writers_seen.add(name)
            elif lines:
                offenders += [f"{name}:{line}" for line in lines]
    assert not offenders, ("read the setting through terralab.settings.settings() instead "
                           f"of the environment: {offenders}")
    assert writers_seen == set(WRITERS), "a listed writer no longer passes its environment on"


# -- the document: hub traitlets → $TERRALAB_SETTINGS → settings() in a child process ------

CHILD = """
import json
from terralab.catalog.asset_policy import AssetPolicy
from terralab.home import terralab_home
from terralab.identity import current_user
from terralab.mydata.limits import UploadLimits
from terralab.platform_sql import platform_url
from terralab.queue.limits import job_limits
from terralab.queue.queues import QueueConfig
from terralab.queue.worker_rows import live_window
from terralab.quotas.policy import QuotaPolicy
from terralab.areas.geocoders import get_geocoder
from terralab.service.http_client import service_client
from terralab.settings import settings

policy = QuotaPolicy.from_env()
limits = UploadLimits.from_env()
print(json.dumps({
    "home": str(terralab_home()),
    "user": current_user(),
    "ai_alice": policy.limits_for("alice").ai_seconds,
    "ai_bob": policy.limits_for("bob", ["lab"]).ai_seconds,
    "storage_bob": policy.limits_for("bob").storage_bytes,
    "min_side": limits.min_side,
    "band_counts": list(limits.band_counts),
    "queues": {n: s.workers for n, s in QueueConfig.from_env().queues.items()},
    "job_limit": job_limits().limit_for("carol", ["lab"]),
    "lease": live_window(),
    "hosts": list(AssetPolicy.from_env().hosts),
    "db": platform_url(),
    "geocoder": get_geocoder().name,
    "service": service_client() is not None,
    "service_name": settings().service.name,
}))
"""


def _hub(tmp_path: Path):
    from traitlets.config import Config

    from terralab.hub.settings import TerralabHub

    c = Config()
    c.TerralabHub.home = str(tmp_path / "home")
    c.TerralabHub.ai_quota = "90min"
    c.TerralabHub.ai_quota_users = {"alice": "20h"}
    c.TerralabHub.ai_quota_groups = {"lab": 7200}
    c.TerralabHub.storage_quota = "10MB"
    c.TerralabHub.upload_limits = {"min_side": 512, "band_counts": "1,3,4"}
    c.TerralabHub.worker_count = 2
    c.TerralabHub.job_queues = {"lab-a": {"workers": 1, "groups": ["lab-a"]}}
    c.TerralabHub.job_limit_groups = {"lab": 7}
    c.TerralabHub.job_lease_seconds = 12.5
    c.TerralabHub.catalog_asset_hosts = ["*.Example.org"]
    c.TerralabHub.platform_db_url = "postgresql://terralab:secret@db/terralab"
    return TerralabHub(config=c)


def _child(environment: dict[str, str]) -> dict:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("TERRALAB_", "JUPYTERHUB_", "TIANDITU_"))}
    done = subprocess.run([sys.executable, "-c", CHILD], env={**env, **environment},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_hub_traitlets_reach_a_child_process_as_one_document(tmp_path):
    hub = _hub(tmp_path)
    home = tmp_path / "home"
    service = hub.settings_environment(home, service=True)
    assert list(service) == [DOCUMENT_VARIABLE]
    # a variable the document sets loses; one for a field the hub leaves alone applies
    seen = _child({**service, "TERRALAB_AI_QUOTA": "1s", "TERRALAB_GEOCODER": "offline",
                   "JUPYTERHUB_USER": "alice"})
    assert seen["home"] == str(home.resolve())
    assert seen["user"] == "alice"
    assert seen["ai_alice"] == 20 * 3600 and seen["ai_bob"] == 7200
    assert seen["storage_bob"] == 10 * 1024**2
    assert seen["min_side"] == 512 and seen["band_counts"] == [1, 3, 4]
    assert seen["queues"] == {"shared": 2, "lab-a": 1}
    assert seen["job_limit"] == 7 and seen["lease"] == 12.5
    assert seen["hosts"] == ["*.example.org"]
    assert seen["db"] == "postgresql+psycopg://terralab:secret@db/terralab"
    assert seen["geocoder"] == "offline" and seen["service_name"] == "terralab"
    assert seen["service"] is False  # no token: this child is not a user's server

    # a user's server: JupyterHub's token makes tl.* calls go to the service; no database URL
    server = hub.settings_environment(home)
    assert "secret" not in server[DOCUMENT_VARIABLE]
    seen = _child({**server, "JUPYTERHUB_API_TOKEN": "t0ken", "JUPYTERHUB_USER": "bob"})
    assert seen["service"] is True and seen["user"] == "bob"
    assert seen["db"] == f"sqlite:///{home.resolve() / 'platform.db'}"


def test_every_traitlet_backed_setting_is_written_by_the_hub(tmp_path):
    from terralab.hub.settings import TerralabHub

    written = json.loads(_hub(tmp_path).settings_environment(service=True)[DOCUMENT_VARIABLE])
    traits = set(TerralabHub.class_trait_names())
    for path, _, meta in fields():
        if "trait" not in meta:
            continue
        assert meta["trait"].removeprefix("TerralabHub.") in traits, (path, meta["trait"])
        section = written
        for key in path[:-1]:
            section = section.get(key, {})
        if path[0] != "uploads" or path[-1] in {"min_side", "band_counts"}:
            assert path[-1] in section, f"{'.'.join(path)} ({meta['trait']}) not written"


def test_a_document_in_a_file_and_its_cache(tmp_path, monkeypatch):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"home": str(tmp_path), "queue": {"job_limit": 3}}))
    monkeypatch.setenv(DOCUMENT_VARIABLE, str(path))
    assert settings().queue.job_limit == 3 and settings().home == tmp_path
    assert settings() is settings()  # cached while nothing changes
    path.write_text(json.dumps({"queue": {"job_limit": 4}}))
    os.utime(path, ns=(1, 1))  # a new version of the file, whatever the clock says
    assert settings().queue.job_limit == 4


# -- the variables ---------------------------------------------------------------------------

def test_variables_set_the_settings_without_a_document(monkeypatch, tmp_path):
    from terralab.areas.vector_files import max_vector_bytes
    from terralab.home import terralab_home
    from terralab.queue.local import ensure_local_worker
    from terralab.queue.store import _max_attempts

    assert settings() == Settings()  # the autouse fixture cleared every variable
    monkeypatch.setenv("TERRALAB_HOME", str(tmp_path))
    monkeypatch.setenv("TERRALAB_VECTOR_MAX_BYTES", "2 MB")
    monkeypatch.setenv("TERRALAB_JOB_MAX_ATTEMPTS", "5")
    monkeypatch.setenv("TERRALAB_LOCAL_WORKER", "no")
    monkeypatch.setenv("TERRALAB_CATALOG_ROOTS", os.pathsep.join(["/data/a", "/data/b"]))
    monkeypatch.setenv("TERRALAB_CATALOG_HOSTS", "")  # set but empty: no remote host at all
    assert terralab_home() == tmp_path.resolve()
    assert max_vector_bytes() == 2 * 1024**2
    assert _max_attempts() == 5
    assert ensure_local_worker("shared", home=tmp_path) is False
    catalog = settings().catalog
    assert catalog.asset_roots == [Path("/data/a"), Path("/data/b")]
    assert catalog.asset_hosts == []
    monkeypatch.setenv("TERRALAB_JOB_MAX_ATTEMPTS", "6")  # seen at the next call
    assert _max_attempts() == 6
    reload_settings()
    assert settings().queue.max_attempts == 6


def test_process_fields_stay_out_of_documents(monkeypatch):
    values = Settings.model_validate({"home": "/srv/terralab", "platform_db_url": "sqlite://",
                                      "quotas": {"ai": "2h"}})
    assert json.loads(document(values)) == {"home": "/srv/terralab", "quotas": {"ai": 7200}}
    assert json.loads(document(values, service=True))["platform_db_url"] == "sqlite://"
    monkeypatch.setenv(DOCUMENT_VARIABLE, document(values))
    monkeypatch.setenv("TIANDITU_TOKEN", "mykey")  # a user's own key, whatever the document
    assert settings().maps.tianditu_token == "mykey"
    with pytest.raises(SettingsError, match=r"hub\.api_token is not a document setting"):
        read_settings({DOCUMENT_VARIABLE: '{"hub": {"api_token": "x"}}'})


@pytest.mark.parametrize(("environ", "message"), [
    ({"TERRALAB_AI_QUOTA": "ten hours"}, r"^\$TERRALAB_AI_QUOTA: not a duration: 'ten hours'"),
    ({"TERRALAB_STORAGE_QUOTA_GROUPS": '{"lab": "big"}'},
     r"^\$TERRALAB_STORAGE_QUOTA_GROUPS\['lab'\]: not a size"),
    ({"TERRALAB_DOWNLOAD_QUOTA_USERS": "[1]"},
     r'^\$TERRALAB_DOWNLOAD_QUOTA_USERS must be a JSON object like \{"alice": "1TB"\}'),
    ({"TERRALAB_JOB_LIMIT": "many"}, r"^\$TERRALAB_JOB_LIMIT: give a whole number of jobs"),
    ({"TERRALAB_JOB_LEASE_SECONDS": "-1"}, r"^\$TERRALAB_JOB_LEASE_SECONDS: .*greater than 0"),
    ({"TERRALAB_UPLOAD_CRS": "martian"}, r"^\$TERRALAB_UPLOAD_CRS: .*'platform' or 'any'"),
    ({"TERRALAB_UPLOAD_MIN_SIDE": "wide"}, r"^\$TERRALAB_UPLOAD_MIN_SIDE: .*integer"),
    ({"TERRALAB_VECTOR_MAX_BYTES": "lots"}, r"^\$TERRALAB_VECTOR_MAX_BYTES: not a size"),
    ({"TERRALAB_JOB_QUEUES": "{not json"}, r"^\$TERRALAB_JOB_QUEUES must be a JSON object"),
    ({DOCUMENT_VARIABLE: '{"quotas": {"ai": "soon"}}', "TERRALAB_AI_QUOTA": "ten hours"},
     r"^\$TERRALAB_SETTINGS: quotas\.ai: not a duration: 'soon'"),
    ({DOCUMENT_VARIABLE: '{"queue": {"colour": 1}}'},
     r"^\$TERRALAB_SETTINGS: queue\.colour: Extra inputs are not permitted"),
    ({DOCUMENT_VARIABLE: "[1, 2]"}, r"^\$TERRALAB_SETTINGS: .*must be a JSON object"),
    ({DOCUMENT_VARIABLE: "/no/such/settings.json"},
     r"^\$TERRALAB_SETTINGS: cannot read the settings document"),
])
def test_a_bad_value_names_its_variable_or_document_key(environ, message):
    with pytest.raises(SettingsError, match=message):
        read_settings(environ)


def test_a_bad_variable_stops_the_reader_that_needs_it(monkeypatch):
    from terralab.quotas.policy import QuotaPolicy

    monkeypatch.setenv("TERRALAB_AI_QUOTA", "ten hours")
    with pytest.raises(ValueError, match=r"\$TERRALAB_AI_QUOTA"):
        QuotaPolicy.from_env()


# -- the documentation -------------------------------------------------------------------------

def test_every_field_is_documented_here_and_in_the_hub_readme():
    readme = (ROOT / "hub_config" / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Settings"):]
    for path, info, meta in fields():
        assert info.description, f"{'.'.join(path)} has no help text"
        assert f"`{meta['env']}`" in section, f"{meta['env']} is missing in the README"
        assert f"`{'.'.join(path)}`" in section, f"{'.'.join(path)} is missing in the README"


def test_a_site_adds_variables_beside_the_document(tmp_path):
    from traitlets.config import Config

    from terralab.hub.settings import TerralabHub

    c = Config()
    c.TerralabHub.home = str(tmp_path)
    c.TerralabHub.dask_gateway = False
    c.Spawner.environment = {"TERRALAB_GEOCODER": "tianditu"}
    TerralabHub(config=c).apply(c)
    configured = read_settings(c.Spawner.environment)
    assert configured.areas.geocoder == "tianditu" and configured.home == tmp_path
