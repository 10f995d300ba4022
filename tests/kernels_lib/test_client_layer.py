"""``tl.*`` is the client layer, whatever parts of the domains were imported before."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_tl_mydata_and_projects_are_the_client_calls_after_the_domain_packages_loaded():
    code = (
        "import terralab.mydata.store, terralab.projects.store\n"
        "import terralab as tl\n"
        "assert tl.mydata.upload.__module__ == 'terralab.client.mydata', tl.mydata\n"
        "assert tl.projects.create.__module__ == 'terralab.client.projects'\n"
        "import terralab.mydata.band_statistics as stats\n"
        "assert stats.__name__ == 'terralab.mydata.band_statistics'\n"
        "import terralab.projects.store as store\n"
        "assert store.__name__ == 'terralab.projects.store'\n"
        "assert callable(tl.mydata.upload) and callable(tl.mydata.statistics)\n"
        "assert callable(tl.projects.create) and callable(tl.projects.list)\n"
        "from terralab.mydata import store\n"
        "assert store.__name__ == 'terralab.mydata.store'\n"
        "assert tl.upload is tl.mydata.upload and tl.quota.__module__ == 'terralab.client.quotas'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr


def test_the_local_transport_answers_what_the_hub_answers(tmp_path):
    from terralab.client.projects import ProjectsService
    from terralab.projects.errors import ProjectError, ProjectNotFound
    from terralab.service.local import LocalService

    local = LocalService(home=tmp_path, user="alice")
    made = local.request("projects.create", name="Study")
    assert made["name"] == "Study" and made["owner"] == "alice" and made["layers"] == []
    assert local.request("projects.list")["projects"][0]["id"] == made["id"]
    projects = ProjectsService(local)
    assert projects.open("study").id == made["id"]
    with pytest.raises(ProjectNotFound):
        local.request("projects.get", project_id="0" * 12)
    with pytest.raises(ProjectError, match="name"):  # the domain's refusal, as over HTTP
        local.request("projects.create", name=None)


def test_no_client_call_is_named_like_a_module_of_its_domain():
    """``import terralab.mydata.x as m`` reads ``tl.mydata.x``: a call named ``x`` hides it."""
    import importlib
    import pkgutil
    import types

    import terralab

    for name, client_name in terralab._MODULES.items():
        client = importlib.import_module(client_name)
        domain = importlib.import_module(f"terralab.{name}")
        if domain is client or not hasattr(domain, "__path__"):
            continue
        modules = {info.name for info in pkgutil.iter_modules(domain.__path__)}
        for attribute in modules & set(dir(client)):
            value = getattr(client, attribute)
            assert isinstance(value, types.ModuleType), (client_name, attribute)
            assert value.__name__ == f"terralab.{name}.{attribute}", (client_name, attribute)
