"""Every tutorial runs from top to bottom on the demo region, as a user opens it."""

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT, write_small_demo

TUTORIALS = sorted((ROOT / "notebooks" / "tutorials").glob("*.ipynb"))


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return write_small_demo(tmp_path_factory.mktemp("tutorial-home"))


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_tutorial_runs(path: Path, home, tmp_path, monkeypatch):
    monkeypatch.setenv("TERRALAB_HOME", str(home))
    shutil.copy(path, tmp_path / path.name)
    notebook = nbformat.read(tmp_path / path.name, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [output for cell in notebook.cells for output in cell.get("outputs", [])
              if output.get("output_type") == "error"]
    assert not errors, errors
