"""Tutorial 06 (the map), run twice as a user re-runs it: one field layer in my data, and the
swipe cell answering text (a control drawn outside its map is a JavaScript error in Voilà)."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tests.conftest import ROOT, write_small_demo

TUTORIAL = ROOT / "notebooks" / "tutorials" / "06-the-map.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _run(folder: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(folder / TUTORIAL.name, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    errors = [output for cell in notebook.cells for output in cell.get("outputs", [])
              if output.get("output_type") == "error"]
    assert not errors, errors
    return notebook


def test_rerunning_the_map_tutorial_keeps_one_field_layer(tmp_path: Path, monkeypatch) -> None:
    home = write_small_demo(tmp_path / "home")
    monkeypatch.setenv("TERRALAB_HOME", str(home))
    monkeypatch.setenv("TERRALAB_USER", "alice")
    folder = tmp_path / "work"
    folder.mkdir()
    shutil.copy(TUTORIAL, folder / TUTORIAL.name)
    first = _run(folder)
    _run(folder)

    from terralab.client.mydata import my_data

    fields = [r for r in my_data("upload") if r.title == "tutorial field"]
    assert len(fields) == 1, [r.title for r in my_data("upload")]

    swipe_cell = next(cell for cell in first.cells
                      if cell.cell_type == "code" and cell.source.strip() == "m.swipe(left, right)")
    (shown,) = [output for output in swipe_cell.outputs if output.get("data")]
    assert WIDGET_VIEW not in shown["data"]
    assert shown["data"]["text/plain"].startswith("Swipe: 'Sentinel-2 true colour'")
    map_cell = first.cells[1]
    assert any(WIDGET_VIEW in output.get("data", {}) for output in map_cell.outputs)
