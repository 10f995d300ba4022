"""The tool registry and runner: one definition gives the Python call, CLI and saved result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine
from click.testing import CliRunner

from terralab.tools import (
    RunContext,
    Tool,
    ToolInfo,
    ToolOutput,
    ToolParameterError,
    ToolParams,
    param,
    raster_input,
)
from terralab.tools.inputs import InputError
from terralab.tools.registry import ToolRegistry, default_registry
from terralab.tools.runner import run_tool


class Scale(Tool):
    """A test tool: multiplies a raster by a factor."""

    info = ToolInfo(name="scale_test", title="Scale", title_zh="缩放")

    class Params(ToolParams):
        image: Any = raster_input(help="The image", help_zh="影像")
        factor: float = param(2.0, help="Multiply by", help_zh="乘数", gt=0, le=100)

    def run(self, params: Any, context: RunContext) -> ToolOutput:
        data = context.open_raster(params.image)
        return ToolOutput(raster=(data.astype("float32") * params.factor), name="scaled")


def write_tif(path: Path, side: int = 64) -> Path:
    data = np.arange(side * side, dtype="uint16").reshape(1, side, side)
    with rasterio.open(path, "w", driver="GTiff", width=side, height=side, count=1,
                       dtype="uint16", crs="EPSG:32651",
                       transform=Affine(10, 0, 220_000, 0, -10, 3_400_000)) as dst:
        dst.write(data)
    return path


@pytest.fixture
def registry_with_scale(monkeypatch: pytest.MonkeyPatch) -> ToolRegistry:
    import terralab.tools.registry as module

    registry = default_registry().register(Scale)
    monkeypatch.setattr(module, "_default", registry)
    return registry


def test_registry_is_frozen_and_refuses_duplicates() -> None:
    registry = ToolRegistry().register(Scale)
    assert list(registry) == ["scale_test"]
    with pytest.raises(ValueError, match="already registered"):
        registry.register(type("Other", (Scale,), {}))
    assert registry.register(type("Other", (Scale,), {}), overwrite=True)["scale_test"] \
        is not Scale
    with pytest.raises(KeyError, match="known tools"):
        registry["nope"]
    with pytest.raises(ValueError, match="not a complete"):
        registry.register(Tool)  # abstract
    with pytest.raises(ValueError, match="lower-case"):
        ToolInfo(name="Bad Name", title="x", title_zh="x")


def test_schema_carries_both_languages() -> None:
    schema = Scale.schema()
    factor = schema["properties"]["factor"]
    assert factor["description"] == "Multiply by" and factor["help_zh"] == "乘数"
    assert factor["exclusiveMinimum"] == 0
    assert schema["properties"]["image"]["terralab:input"] == "raster"


def test_run_validates_writes_and_saves(registry_with_scale, tmp_path, monkeypatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    source = write_tif(tmp_path / "in.tif")
    with pytest.raises(ToolParameterError, match="factor"):
        run_tool("scale_test", user="alice", home=home, image=str(source), factor=-1)
    with pytest.raises(ToolParameterError, match="colour"):
        run_tool("scale_test", user="alice", home=home, image=str(source), colour="red")
    with pytest.raises(InputError, match="no item or file"):
        run_tool("scale_test", user="alice", home=home, image="missing.tif")
    lazy = run_tool("scale_test", user="alice", home=home, save=False, image=str(source),
                    factor=3)
    assert lazy.record is None and float(lazy.data.max()) == 3 * (64 * 64 - 1)
    result = run_tool("scale_test", user="alice", home=home, image=str(source), factor=0.5)
    assert result.record.kind == "result" and result.record.source_name == "scale_test"
    with rasterio.open(result.path) as out, rasterio.open(source) as src:
        assert out.crs == src.crs and out.transform == src.transform
        assert np.allclose(out.read(1), src.read(1) * 0.5)
    # restricted (a shared worker): paths must stay in the user's folder
    with pytest.raises(InputError):
        run_tool("scale_test", user="alice", home=home, restricted=True, image=str(source))
    staging = home / "staging"
    assert not staging.exists() or not any(staging.iterdir())

    # the result is an input of the next run, by its id
    again = run_tool("scale_test", user="alice", home=home, image=result.record.id)
    with rasterio.open(again.path) as out, rasterio.open(source) as src:
        assert np.allclose(out.read(1), src.read(1) * 1.0)


def test_tl_run_cli_and_attribute_access(registry_with_scale, tmp_path, monkeypatch) -> None:
    import terralab as tl
    from terralab.cli import cli

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("TERRALAB_HOME", str(home))
    monkeypatch.setenv("TERRALAB_USER", "alice")
    source = write_tif(tmp_path / "in.tif")
    assert tl.run("scale_test", image=str(source)).record.owner == "alice"
    assert tl.tools.scale_test(image=str(source), factor=4).record is not None
    with pytest.raises(AttributeError):
        tl.tools.no_such_tool  # noqa: B018
    runner = CliRunner()
    listed = runner.invoke(cli, ["tools", "list"])
    assert listed.exit_code == 0 and "scale_test" in listed.output and "缩放" in listed.output
    shown = runner.invoke(cli, ["tools", "show", "scale_test"])
    assert shown.exit_code == 0 and "help_zh" in shown.output
    ran = runner.invoke(cli, ["run", "scale_test", "-p", f"image={source}", "-p", "factor=3",
                              "--title", "Tripled"])
    assert ran.exit_code == 0, ran.output
    assert "saved Tripled" in ran.output
    bad = runner.invoke(cli, ["run", "scale_test", "-p", "factor=3"])
    assert bad.exit_code == 2 and "image" in bad.output
    assert len(tl.my_data(kind="result")) == 3


class Copy(Tool):
    """A test tool: the input unchanged (a 4-band uint8 image)."""

    info = ToolInfo(name="copy_test", title="Copy", title_zh="复制")

    class Params(ToolParams):
        image: Any = raster_input(help="The image", help_zh="影像")

    def run(self, params: Any, context: RunContext) -> ToolOutput:
        return ToolOutput(raster=context.open_raster(params.image), name="copy")


def test_a_four_band_result_keeps_four_data_bands(monkeypatch, tmp_path) -> None:
    from rasterio.enums import ColorInterp

    import terralab.tools.registry as module

    monkeypatch.setattr(module, "_default", default_registry().register(Copy))
    source = tmp_path / "rgbn.tif"
    data = np.arange(4 * 40 * 40, dtype="uint32").reshape(4, 40, 40) % 251
    with rasterio.open(source, "w", driver="GTiff", width=40, height=40, count=4,
                       dtype="uint8", crs="EPSG:32651", photometric="MINISBLACK",
                       transform=Affine(10, 0, 220_000, 0, -10, 3_400_000)) as dst:
        dst.write(data.astype("uint8"))
    home = tmp_path / "home"
    home.mkdir()
    result = run_tool("copy_test", user="alice", home=home, image=str(source))
    with rasterio.open(result.path) as out:
        assert out.count == 4 and ColorInterp.alpha not in out.colorinterp
        assert np.array_equal(out.read(), data.astype("uint8"))
