"""The model registry and the deep tools on the shared engine, with a real (untrained) network.

No trained weights ship yet, so these tests install a randomly initialised U-Net: they check
the plumbing (registry, safe loading, windows, outputs, polygons, queue), not accuracy.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from terralab.ai.models import (
    ModelError,
    ModelNotInstalled,
    export_model,
    find_model,
    import_model,
    list_models,
)
from terralab.tools.inputs import InputError
from terralab.tools.runner import ToolParameterError, run_tool
from tests.kernels_lib.untrained_models import write_model


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "home"
    (folder / "users" / "alice").mkdir(parents=True)
    monkeypatch.setenv("TERRALAB_HOME", str(folder))
    return folder


def test_a_deep_tool_without_a_model_says_how_to_get_one(home, real_data):
    with pytest.raises(ModelNotInstalled, match="terralab models import"):
        run_tool("building_extraction", user="alice", home=home,
                 image=str(real_data / "aerial_0p1m" / "OSBS_029.tif"))


def test_import_pick_newest_pin_and_export(home, tmp_path):
    for version in ("0.1.0", "0.10.0", "0.9.2"):
        import_model(write_model(tmp_path / f"m{version}", version=version), home=home)
    assert [m.card.version for m in list_models("building_extraction", home=home)] == \
        ["0.10.0", "0.9.2", "0.1.0"]
    assert find_model("building_extraction", home=home).card.version == "0.10.0"
    assert find_model("building_extraction", "0.9.2", home=home).card.version == "0.9.2"
    with pytest.raises(ModelNotInstalled, match=r"version 2\.0.*installed: 0\.10\.0"):
        find_model("building_extraction", "2.0", home=home)
    with pytest.raises(ModelError, match="installed already"):
        import_model(write_model(tmp_path / "again", version="0.9.2"), home=home)
    archive = export_model("building_extraction", "0.9.2", tmp_path, home=home)
    other = tmp_path / "other-home"
    installed = import_model(archive, home=other)
    assert installed.card.version == "0.9.2" and installed.weights_path.is_file()


def test_unsafe_or_broken_models_are_refused(home, tmp_path):
    import torch

    class Payload:
        def __reduce__(self):
            return (print, ("pickled code ran",))

    bad = write_model(tmp_path / "pickle", fmt="pt")
    torch.save({"weight": Payload()}, bad / "weights.pt")
    with pytest.raises(ModelError, match="not a plain PyTorch state dict"):
        import_model(bad, home=home)
    slip = tmp_path / "slip.zip"
    with zipfile.ZipFile(slip, "w") as archive:
        archive.writestr("../../evil/model.json", "{}")
    with pytest.raises(ModelError, match="unsafe path"):
        import_model(slip, home=home)
    wrong = write_model(tmp_path / "wrong")
    card = json.loads((wrong / "model.json").read_text())
    card["classes"] = ["a", "b", "c"]  # the weights have 2 output channels
    (wrong / "model.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="do not fit"):
        import_model(wrong, home=home)
    (wrong / "model.json").write_text('{"tool": "x"}')
    with pytest.raises(ModelError, match="not a valid model card"):
        import_model(wrong, home=home)
    assert list_models(home=home) == []


def test_building_extraction_runs_through_the_engine_in_process_and_as_a_job(
        home, tmp_path, real_data):
    from terralab.mydata.store import list_records
    from terralab.queue import store
    from terralab.queue.worker import Worker

    import_model(write_model(tmp_path / "model"), home=home)
    source = real_data / "aerial_0p1m" / "OSBS_029.tif"
    result = run_tool("building_extraction", user="alice", home=home, image=str(source))
    with rasterio.open(result.path) as out, rasterio.open(source) as src:
        assert out.crs == src.crs and out.transform.almost_equals(src.transform, 1e-9)
        assert (out.width, out.height, out.count) == (src.width, src.height, 2)
        classes, confidence = out.read(1), out.read(2)
    assert set(np.unique(classes)) <= {1, 2} and confidence.min() >= 50
    assert result.extra["model"] == "building_extraction 0.1.0"
    assert "warning" not in result.extra  # 0.1 m is inside 0.01–2 m
    if (classes == 2).any():
        polygons = result.records[1]
        assert polygons.data_type == "vector" and "polygons" in polygons.title
    # the same as a queued job: the result and its polygons under the job's id
    shutil.copy(source, home / "users" / "alice" / "aerial.tif")
    job = store.submit("alice", "building_extraction", {"image": "aerial.tif"}, home=home)
    Worker(home=home, hard_cancel=False).run(until_idle=True)
    done = store.get_job(job.id, home=home)
    assert done.status == "succeeded", done.log
    assert done.results[0].endswith(job.id)
    assert set(done.results) <= {r.id for r in list_records("alice", home=home)}


def test_cli_runs_a_deep_tool_and_lists_models(home, tmp_path, real_data):
    from terralab.cli import cli

    runner = CliRunner()
    imported = runner.invoke(cli, ["models", "import", str(write_model(tmp_path / "m"))])
    assert imported.exit_code == 0, imported.output
    listed = runner.invoke(cli, ["models", "list"])
    assert "building_extraction" in listed.output and "0.1.0" in listed.output
    ran = runner.invoke(cli, ["run", "building_extraction", "-p",
                              f"image={real_data / 'aerial_0p1m' / 'OSBS_029.tif'}",
                              "-p", "polygons=false"])
    assert ran.exit_code == 0, ran.output


def test_two_date_deep_tools_check_their_inputs(home, tmp_path, real_data):
    import_model(write_model(tmp_path / "change", tool="building_change", dates=2,
                             classes=("unchanged", "new", "rebuilt", "demolished")), home=home)
    naip = sorted((real_data / "naip").glob("*.tif"))
    result = run_tool("building_change", user="alice", home=home, before=str(naip[0]),
                      after=str(naip[1]), polygons=False, align="reproject")  # 1 row apart
    with rasterio.open(result.path) as out, rasterio.open(naip[0]) as src:
        assert out.transform.almost_equals(src.transform, 1e-9) and out.count == 2
    assert "warning" in result.extra and "5 m" in result.extra["warning"]
    assert "reprojected" in result.extra["aligned"]
    with pytest.raises(ToolParameterError, match="after"):
        run_tool("building_change", user="alice", home=home, before=str(naip[0]))
    with pytest.raises(InputError, match="not on one grid"):
        run_tool("building_change", user="alice", home=home, before=str(naip[0]),
                 after=str(naip[1]))
