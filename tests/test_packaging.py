"""One distribution, the same import names from a wheel as from the editable checkout."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IMPORTS = {
    "terralab": "kernels_lib",
    "terralab.widgets": "widgets",
    "terralab.extension": "extension",
    "terralab.hub": "hub_config",
    "terralab.hub.service": "hub_config",
    "terralab.demo": "kernels_lib",
}
DATA_FILES = [
    "share/jupyter/voila/templates/terralab/conf.json",
    "share/jupyter/voila/templates/terralab/index.html.j2",
    "share/terralab/notebooks/dashboards/home.ipynb",
    "share/terralab/notebooks/tutorials/01-getting-started.ipynb",
    "etc/jupyter/jupyter_server_config.d/terralab.json",
    "share/jupyter/lab/settings/overrides.json",
]


def _where(python_path: str | None) -> dict[str, str]:
    code = ("import importlib, json, sys; "
            "print(json.dumps({n: importlib.import_module(n).__file__ for n in sys.argv[1:]}))")
    env = {"PYTHONPATH": python_path} if python_path else {}
    out = subprocess.run([sys.executable, "-c", code, *IMPORTS], capture_output=True, text=True,
                         check=True, env={**env, "PATH": "/usr/bin:/bin"}, cwd="/")
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
                    str(out), str(ROOT)], check=True, capture_output=True)
    [whl] = out.glob("terralab-*.whl")
    return whl


def test_editable_install_maps_the_folders_onto_the_import_names():
    for name, path in _where(None).items():
        assert Path(path).resolve().is_relative_to(ROOT / IMPORTS[name]), (name, path)


def test_wheel_gives_the_same_import_names(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--target", str(target), str(wheel)], check=True, capture_output=True)
    where = _where(str(target))
    assert set(where) == set(IMPORTS)
    for name, path in where.items():
        assert Path(path).resolve().is_relative_to(target), (name, path)


def test_wheel_carries_the_voila_template_notebooks_and_extension_switch(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for data_file in DATA_FILES:
        assert any(n.endswith(".data/data/" + data_file) for n in names), data_file
    assert "terralab/hub/jupyterhub_config.py" in names
