"""The ``da.tl`` accessor: registry tools taking one raster as DataArray methods, chained."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
import rasterio
import rioxarray
import xarray as xr
from affine import Affine

import terralab as tl
from terralab.accessor import TerralabAccessor, raster_inputs
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
from terralab.tools.registry import default_registry

ROOT = Path(__file__).resolve().parents[2]


class Offset(Tool):
    """A test tool added at test time: adds a value to a raster."""

    info = ToolInfo(name="offset_test", title="Offset", title_zh="偏移",
                    description="Adds a value to every pixel.")

    class Params(ToolParams):
        image: Any = raster_input(help="The image", help_zh="影像")
        value: float = param(help="What to add", help_zh="加数")
        label: str = param("offset", help="The band's name", help_zh="波段名")

    def run(self, params: Any, context: RunContext) -> ToolOutput:
        data = context.open_raster(params.image).astype("float32") + params.value
        return ToolOutput(raster=data, name="offset", band_names=(params.label,))


@pytest.fixture
def kernel_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private TERRALAB_HOME, user alice, no hub."""
    home = tmp_path / "home"
    (home / "users" / "alice").mkdir(parents=True)
    monkeypatch.setenv("TERRALAB_HOME", str(home))
    monkeypatch.setenv("TERRALAB_USER", "alice")
    for name in ("JUPYTERHUB_USER", "JUPYTERHUB_API_TOKEN", "JUPYTERHUB_SERVICE_PREFIX",
                 "TERRALAB_SERVICE_URL", "TERRALAB_PLATFORM_DB_URL", "TERRALAB_TILE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def field(tmp_path: Path) -> Path:
    """A seeded 4-band uint16 GeoTIFF with its bands described (blue, green, red, nir)."""
    rng = np.random.default_rng(16)
    path = tmp_path / "field.tif"
    with rasterio.open(path, "w", driver="GTiff", width=48, height=40, count=4,
                       dtype="uint16", crs="EPSG:32650",
                       transform=Affine(10, 0, 500_000, 0, -10, 3_400_000)) as dst:
        dst.write(rng.integers(100, 4000, (4, 40, 48)).astype("uint16"))
        dst.descriptions = ("blue", "green", "red", "nir")
    return path


def _open(path: Path) -> xr.DataArray:
    return rioxarray.open_rasterio(path, chunks={"band": 1, "x": 32, "y": 32})


def _in_memory() -> xr.DataArray:
    """A DataArray that no file holds."""
    data = xr.DataArray(np.arange(12 * 10, dtype="float32").reshape(1, 12, 10),
                        dims=("band", "y", "x"),
                        coords={"band": [1], "y": 3_400_000 - 10.0 * np.arange(12) - 5,
                                "x": 500_000 + 10.0 * np.arange(10) + 5})
    return data.rio.write_crs("EPSG:32650")


def _same(a: Any, b: Any) -> None:
    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    assert a.shape == b.shape
    assert np.array_equal(np.isnan(a), np.isnan(b))
    assert np.allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=1e-6, atol=1e-7)


def test_every_registered_tool_taking_one_raster_is_a_method() -> None:
    registry = default_registry()
    accessor = _in_memory().tl
    assert isinstance(accessor, TerralabAccessor)
    listed = dir(accessor)
    methods = set()
    for name in registry:
        tool = registry[name]
        kinds = list(raster_inputs(tool).values())
        if kinds == ["raster"]:
            methods.add(name)
            method = getattr(accessor, name)
            assert name in listed and method.__name__ == name
            raster = next(iter(raster_inputs(tool)))
            signature = inspect.signature(method)
            assert raster not in signature.parameters
            assert set(signature.parameters) == (set(tool.Params.model_fields) - {raster}
                                                 | {"save", "title"})
            assert tool.info.title in method.__doc__ and tool.info.title_zh in method.__doc__
        else:
            assert name not in listed and not hasattr(accessor, name)
        # the parameters' raster inputs agree with what the tool says it takes (for the
        # shipped tools: a test's plug-in tool may stay registered from an earlier test)
        takes_one = "raster" in tool.info.inputs and not {
            "raster_pair", "rasters"} & set(tool.info.inputs)
        if tool.__module__.startswith("terralab."):
            assert (name in methods) == takes_one, name
    assert {"index", "reproject", "clip", "resample", "band_math", "dehazing"} <= methods
    assert "show" in listed
    with pytest.raises(AttributeError, match=r"no 'no_such_tool'.*index"):
        accessor.no_such_tool  # noqa: B018


def test_help_shows_the_signature_and_the_parameters_help() -> None:
    method = _in_memory().tl.index
    signature = inspect.signature(method)
    first = next(iter(signature.parameters.values()))
    assert first.name == "index" and first.default == "ndvi"
    assert first.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY
               for p in list(signature.parameters.values())[1:])
    assert signature.parameters["save"].default is False
    assert signature.return_annotation is xr.DataArray
    doc = inspect.getdoc(method)
    assert "savi_l: SAVI soil brightness factor L" in doc and "image=da" in doc
    # the first required parameter comes first (reproject's crs, clip's area)
    assert next(iter(inspect.signature(_in_memory().tl.reproject).parameters)) == "crs"
    assert next(iter(inspect.signature(_in_memory().tl.clip).parameters)) == "area"


def test_a_chain_gives_the_pixels_of_tl_run(kernel_env: Path, field: Path) -> None:
    da = _open(field)
    ndvi = da.tl.index("ndvi")
    assert isinstance(ndvi, xr.DataArray) and ndvi.chunks is not None  # lazy
    _same(ndvi, tl.run("index", image=str(field), index="ndvi", save=False).data)
    assert tuple(ndvi.attrs["long_name"]) == ("ndvi",) and np.isnan(ndvi.rio.nodata)

    chained = ndvi.tl.reproject("EPSG:4490", resampling="bilinear")
    assert chained.rio.crs.to_epsg() == 4490
    saved = tl.run("index", image=str(field), index="ndvi", title="NDVI")  # through a file
    expected = tl.run("reproject", image=saved.record.id, crs="EPSG:4490",
                      resampling="bilinear", save=False).data
    _same(chained, expected)
    # the band names follow the chain: band_math reads the index's band by name
    _same(ndvi.tl.band_math("ndvi * 2"), 2 * ndvi)
    assert [r.title for r in tl.my_data(kind="result")] == ["NDVI"]  # nothing else saved
    staging = kernel_env / "staging"
    assert not staging.exists() or not any(staging.iterdir())


def test_save_keeps_the_result_in_my_data_and_answers_it(kernel_env: Path, field: Path) -> None:
    da = _open(field)
    saved = da.tl.index("ndvi", save=True, title="Field NDVI")
    records = tl.my_data(kind="result")
    assert [r.title for r in records] == ["Field NDVI"]
    href = Path(records[0].item["assets"]["data"]["href"])
    assert Path(saved.encoding["source"]).resolve() == href.resolve()
    _same(saved.squeeze("band"), da.tl.index("ndvi"))


def test_arguments_are_checked() -> None:
    da = _in_memory()
    with pytest.raises(TypeError, match="too many positional"):
        da.tl.index("ndvi", "evi")
    with pytest.raises(TypeError, match="image"):
        da.tl.index(image="field.tif")
    with pytest.raises(ToolParameterError, match="index"):
        da.tl.index("greenness")
    with pytest.raises(TypeError, match="crs"):
        da.tl.reproject()  # crs is required


def test_tools_taking_a_pair_a_stack_or_no_raster_say_how_to_call_them() -> None:
    accessor = _in_memory().tl
    with pytest.raises(AttributeError, match=r"pair of rasters \(before, after\)") as pair:
        accessor.change_detection  # noqa: B018
    assert "tl.run('change_detection', before=da, after=" in str(pair.value)
    with pytest.raises(AttributeError, match=r"list of rasters.*tl.run\('mosaic', images=\["):
        accessor.mosaic  # noqa: B018
    with pytest.raises(AttributeError, match=r"no raster input.*layer"):
        accessor.polygon_optimisation  # noqa: B018


def test_a_tool_registered_later_appears(kernel_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import terralab.tools.registry as module

    da = _in_memory()
    assert "offset_test" not in dir(da.tl)
    monkeypatch.setattr(module, "_default", default_registry().register(Offset))
    assert "offset_test" in dir(da.tl)
    assert "value: What to add (加数)" in inspect.getdoc(da.tl.offset_test)
    out = da.tl.offset_test(2.5, label="plus")  # an in-memory input, nothing written
    _same(out, da + 2.5)
    assert tuple(out.attrs["long_name"]) == ("plus",)
    assert not any((kernel_env / "users" / "alice").iterdir())


def test_a_plugin_tool_appears(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import terralab.tools.registry as module

    site = tmp_path / "site"
    info = site / "terralab_accessor_test-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: terralab-accessor-test\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[terralab.tools]\noffset_test = tests.kernels_lib.test_accessor:Offset\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(module, "_default", None)  # rebuilt with the plug-in on next use
    assert "offset_test" in dir(_in_memory().tl)


def test_ai_tools_in_a_hub_refuse_in_memory_data(kernel_env: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from terralab.queue.errors import JobError

    # inside a hub (never reached: the in-memory input is refused before any request)
    monkeypatch.setenv("TERRALAB_SERVICE_URL", "http://127.0.0.1:9/services/terralab/")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "token")
    with pytest.raises(JobError, match="not in-memory data"):
        _in_memory().tl.dehazing()


def test_show_adds_the_array_to_a_map(kernel_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from terralab.widgets import Map, tile_urls
    from terralab.widgets.array_cache import CACHE_FOLDER

    monkeypatch.setattr(tile_urls, "_server_base_url", lambda: None)
    data = _in_memory().rename("heights")
    m = Map()
    before = len(m.layers)
    layer = data.tl.show(m, colormap="viridis", rescale=(0, 120))
    assert len(m.layers) == before + 1 and m.layers[-1] is layer and layer.name == "heights"
    query = parse_qs(urlparse(layer.url).query)
    assert query["path"][0].startswith(f"{CACHE_FOLDER}/heights-")
    assert query["colormap"] == ["viridis"]
    assert (kernel_env / "users" / "alice" / query["path"][0]).is_file()
    shown = data.tl.show(name="Heights")
    assert isinstance(shown, Map) and shown.layers[-1].name == "Heights"


@pytest.mark.parametrize("first", ["terralab", "xarray"])
def test_import_terralab_registers_the_accessor_without_importing_xarray(first: str) -> None:
    script = ("import sys\n"
              "import terralab\n"
              "assert 'xarray' not in sys.modules, 'import terralab imported xarray'\n"
              "import xarray\n" if first == "terralab" else
              "import xarray\nimport terralab\n")
    script += ("da = xarray.DataArray([[1.0]], dims=('y', 'x'))\n"
               "assert type(da.tl).__name__ == 'TerralabAccessor'\n"  # before any other import
               "import terralab.accessor\n"
               "assert type(da.tl) is terralab.accessor.TerralabAccessor\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
