"""Whether a tool can run: a deep tool needs an installed model; everyone says the same.

Also the schema markers the dashboard form reads: ``param(..., advanced=True)`` and the
bands a tool's image input needs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from terralab.ai.models import ModelNotInstalled
from terralab.ai.readiness import NEEDS_MODEL_MESSAGE, NEEDS_MODEL_MESSAGE_ZH, tool_readiness
from terralab.cli import cli
from terralab.service.local import LocalService
from terralab.tools import run
from terralab.tools.base import ADVANCED, ToolParams, param
from terralab.tools.registry import default_registry

DEEP = sorted(name for name in default_registry()
              if getattr(default_registry()[name], "needs_model", False))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty terralab home (no models) for user alice, no hub."""
    folder = tmp_path / "home"
    (folder / "users" / "alice").mkdir(parents=True)
    monkeypatch.setenv("TERRALAB_HOME", str(folder))
    monkeypatch.setenv("TERRALAB_USER", "alice")
    return folder


def install_card(home: Path, tool: str, *, weights: bool = True) -> Path:
    """A model folder as `terralab models import` leaves it (the weights need not load)."""
    folder = home / "models" / tool / "0.1.0"
    folder.mkdir(parents=True)
    card = {"tool": tool, "version": "0.1.0", "architecture": {"name": "smp.Unet"},
            "weights": "weights.safetensors", "input": {"bands": ["red", "green", "blue"]},
            "classes": ["background", tool]}
    (folder / "model.json").write_text(json.dumps(card))
    if weights:
        (folder / "weights.safetensors").write_bytes(b"\0" * 16)
    return folder


def test_the_deep_tools_are_the_ones_needing_a_model():
    assert {"building_extraction", "building_change", "cropland_change", "dam_extraction",
            "field_parcel_extraction", "greenhouse_extraction", "multiclass_change",
            "pv_extraction"} == set(DEEP)


@pytest.mark.parametrize("name", DEEP)
def test_a_deep_tool_is_ready_once_its_model_is_installed(home, name):
    state = tool_readiness(name, home=home)
    assert (state.ready, state.needs) == (False, "model")
    assert state.message == NEEDS_MODEL_MESSAGE and "terralab models import" in state.message
    assert state.message_zh == NEEDS_MODEL_MESSAGE_ZH and "terralab models import" in \
        state.message_zh
    install_card(home, name)
    assert tool_readiness(name, home=home).to_dict() == {
        "ready": True, "needs": None, "message": None, "message_zh": None}


def test_a_model_without_its_weights_or_of_another_tool_does_not_count(home):
    install_card(home, "building_extraction", weights=False)
    install_card(home, "pv_extraction")
    assert not tool_readiness("building_extraction", home=home).ready
    assert tool_readiness("pv_extraction", home=home).ready
    assert not tool_readiness("dam_extraction", home=home).ready


@pytest.mark.parametrize("name", ["index", "land_cover", "change_detection", "sar_water",
                                  "dehazing", "clip"])
def test_tools_without_a_model_are_ready(home, name):
    assert tool_readiness(name, home=home).ready


def test_get_tools_says_which_tools_need_a_model(home):
    service = LocalService(home=home, user="alice")
    install_card(home, "pv_extraction")
    tools = {tool["name"]: tool for tool in service.request("tools.list")["tools"]}
    assert set(tools) == set(default_registry())
    for name, tool in tools.items():
        waiting = name in DEEP and name != "pv_extraction"
        assert tool["ready"] is not waiting, name
        assert tool["needs"] == ("model" if waiting else None)
        assert tool["message"] == (NEEDS_MODEL_MESSAGE if waiting else None)
        assert tool["message_zh"] == (NEEDS_MODEL_MESSAGE_ZH if waiting else None)
    one = service.request("tools.get", name="building_extraction")
    assert one["ready"] is False and one["needs"] == "model"


def test_the_openapi_document_describes_readiness():
    from terralab.service.openapi import openapi_document

    schemas = openapi_document()["components"]["schemas"]
    assert {"ready", "needs", "message", "message_zh"} <= set(
        schemas["ToolAnswer"]["properties"])


def test_tl_tools_readiness_asks_the_platform(home):
    import terralab as tl

    assert tl.tools.readiness("building_extraction")["needs"] == "model"
    assert tl.tools.readiness("index") == {"ready": True, "needs": None, "message": None,
                                           "message_zh": None}


def test_terralab_tools_list_says_the_same(home):
    result = CliRunner().invoke(cli, ["tools", "list"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    assert NEEDS_MODEL_MESSAGE in lines["building_extraction"]
    assert "needs a model" not in lines["index"]
    listed = json.loads(CliRunner().invoke(cli, ["tools", "list", "--json"]).output)
    states = {tool["name"]: tool for tool in listed}
    assert states["building_extraction"]["ready"] is False
    assert states["index"]["ready"] is True and states["index"]["needs"] is None
    shown = json.loads(CliRunner().invoke(cli, ["tools", "show", "pv_extraction"]).output)
    assert shown["needs"] == "model"


def test_running_a_tool_without_its_model_still_says_how_to_get_one(home):
    with pytest.raises(ModelNotInstalled, match="terralab models import"):
        run("building_extraction", image="anything.tif", save=False)


def test_advanced_parameters_are_marked_in_the_schema():
    class Params(ToolParams):
        common: int = param(1, help="common", help_zh="常用")
        expert: int = param(2, help="expert", help_zh="专家", advanced=True, ge=0)

    schema = Params.model_json_schema()["properties"]
    assert schema["expert"][ADVANCED] is True and schema["expert"]["minimum"] == 0
    assert ADVANCED not in schema["common"]
    assert schema["expert"]["help_zh"] == "专家"


def _advanced(name: str) -> set[str]:
    properties = default_registry()[name].schema()["properties"]
    return {key for key, value in properties.items() if value.get(ADVANCED)}


@pytest.mark.parametrize(("name", "expert", "common"), [
    ("index", {"band_map", "scale", "offset", "savi_l"}, {"image", "index"}),
    ("sar_water", {"window", "enl", "chunk", "tile_size", "method"},
     {"image", "polarisation", "min_area_m2", "polygons"}),
    ("change_detection", {"threshold", "significance", "iterations", "chunk"},
     {"before", "after", "method", "min_area_m2"}),
    ("building_extraction", {"batch_size", "model_version"}, {"image", "polygons"}),
])
def test_the_tools_fold_their_expert_knobs(name, expert, common):
    marked = _advanced(name)
    assert expert <= marked
    assert not common & marked


def test_every_tool_keeps_its_inputs_in_view():
    for name in default_registry():
        properties = default_registry()[name].schema()["properties"]
        inputs = {key for key, value in properties.items() if "terralab:input" in value}
        assert inputs and not inputs & _advanced(name), name


@pytest.mark.parametrize(("name", "params", "bands"), [
    ("index", {}, ("nir", "red")),
    ("index", {"index": "mndwi"}, ("green", "swir16")),
    ("index", {"index": "ndwi", "band_map": {"green": 2, "nir": 4}}, ()),
    ("sar_water", {}, ("vv|vh|hh|hv",)),
    ("sar_water", {"vv_band": 1}, ()),
    ("land_cover", {}, ("blue", "green", "red")),
    ("clip", {}, ()),
])
def test_the_bands_an_image_input_needs(name: str, params: dict[str, Any], bands):
    assert default_registry()[name].required_bands(params) == bands
