"""``terralab models import`` writes and deletes inside ``TERRALAB_HOME/models`` only.

Issue failure 4: the card's ``tool`` and ``version`` were used as path parts unchecked, so a
card with ``"tool": "<an absolute folder elsewhere>", "version": "victim"`` imported with
``--overwrite`` deleted that folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from terralab.cli import cli
from tests.kernels_lib.untrained_models import write_model


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("TERRALAB_HOME", str(home))
    return home


def _victim(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "precious.txt").write_text("keep me")
    return folder


def _card(folder: Path, **fields: str) -> Path:
    card = json.loads((folder / "model.json").read_text())
    (folder / "model.json").write_text(json.dumps({**card, **fields}))
    return folder


def _import(folder: Path) -> object:
    return CliRunner().invoke(cli, ["models", "import", str(folder), "--overwrite"])


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_model(tmp_path_factory.mktemp("model") / "m")


def _copy(model: Path, to: Path) -> Path:
    to.mkdir(parents=True)
    for file in model.iterdir():
        (to / file.name).write_bytes(file.read_bytes())
    return to


def test_a_tool_that_is_a_folder_elsewhere_is_refused(home: Path, tmp_path: Path,
                                                       model: Path) -> None:
    """issue failure 4: "tool": "/abs/folder", "version": "victim", --overwrite deleted it."""
    victim = _victim(tmp_path / "elsewhere" / "victim")
    bad = _card(_copy(model, tmp_path / "bad"), tool=str(tmp_path / "elsewhere"),
                version="victim")
    result = _import(bad)
    assert result.exit_code != 0
    assert "tool" in result.output and "Traceback" not in result.output
    assert (victim / "precious.txt").read_text() == "keep me"
    assert not list(victim.parent.glob(".victim.importing"))


@pytest.mark.parametrize("tool, version", [
    ("building_extraction", ".."),
    ("building_extraction", "../../../victim"),
    ("..", "victim"),
    ("building_extraction/../..", "victim"),
    ("building_extraction", "{tmp}/victim"),
])
def test_path_like_tool_or_version_is_refused(home: Path, tmp_path: Path, model: Path,
                                              tool: str, version: str) -> None:
    """issue failure 4: tool and version are plain names, never path parts."""
    victim = _victim(tmp_path / "victim")
    (home / "models" / "building_extraction").mkdir(parents=True)
    bad = _card(_copy(model, tmp_path / "bad"), tool=tool,
                version=version.format(tmp=tmp_path))
    result = _import(bad)
    assert result.exit_code != 0, result.output
    assert (victim / "precious.txt").read_text() == "keep me"
    assert sorted(p.name for p in (home / "models").rglob("*")) == ["building_extraction"]


def test_a_link_out_of_models_is_not_followed(home: Path, tmp_path: Path, model: Path) -> None:
    """issue failure 4: the target is resolved and checked before any write or delete."""
    outside = tmp_path / "outside"
    victim = _victim(outside / "0.1.0")
    (home / "models").mkdir()
    (home / "models" / "building_extraction").symlink_to(outside, target_is_directory=True)
    result = _import(_copy(model, tmp_path / "good"))
    assert result.exit_code != 0 and "outside" in result.output
    assert (victim / "precious.txt").read_text() == "keep me"


def test_a_good_model_still_imports(home: Path, tmp_path: Path, model: Path) -> None:
    """issue failure 4 (control): a plain card installs, and --overwrite replaces it."""
    for _ in range(2):
        result = _import(model)
        assert result.exit_code == 0, result.output
    assert (home / "models" / "building_extraction" / "0.1.0" / "model.json").is_file()
