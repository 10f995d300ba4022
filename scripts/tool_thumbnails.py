"""Draw the thumbnail of a typical result of every registered tool (the gallery's cards).

Usage: ``python scripts/tool_thumbnails.py [--only NAME …] [--out FOLDER] [--home HOME]``.

Each registered tool (internal ones left out) runs once, in this process and without saving
(``run_tool(..., save=False)``), on a small demo region written into a temporary folder
(``write_demo_data(home, size=256, seed=42)``, indexed), with the input a user would
typically give it: a clear Sentinel-2 item for the indices and the land cover, a Sentinel-1
item for SAR water, the aerial pair for change detection, the demo truth's parcels for clip,
three dates for the animation … The result becomes a 160 × 120 px PNG in
``widgets/thumbnails/<tool>.png`` (package data of ``terralab.widgets``): a colour map or the
class colours, masks and polygons over a faint grey of the input, RGB images (16-bit ones
stretched), an animation's first frame. Everything is seeded: a rerun writes the same pixels.

A deep tool without an installed model cannot run: it is skipped and named at the end (the
gallery shows a neutral placeholder). A tool with no recipe here (a plug-in) gets the demo's
Sentinel-2 item, aerial pair or parcels by the kinds of its inputs, or is skipped.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

__all__ = ["SIZE", "Demo", "Recipe", "main", "render", "thumbnail"]

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "widgets" / "thumbnails"
SIZE = (160, 120)
"""Width and height of a thumbnail, in pixels."""
USER = "thumbnails"


@dataclass
class Demo:
    """The demo region the tools run on, and the ids of the typical inputs in it."""

    home: Path
    scratch: Path
    s2: str = ""
    s2_series: list[str] = field(default_factory=list)
    s1: str = ""
    before: str = "deqing-aerial-20240510"
    after: str = "deqing-aerial-20250512"

    def open(self, ref: Any) -> Any:
        """A raster input, lazily (an item id, ``{"item", "asset"}`` or a path)."""
        from terralab.tools.inputs import open_raster

        return open_raster(ref, user=USER, home=self.home)


@dataclass
class Recipe:
    """How to run a tool on the demo and draw its result.

    Attributes:
        params: the tool's parameters, from the demo.
        background: a raster drawn in faint grey under a mask or polygons.
        style: ``auto`` (by the output), ``mask`` (value 1 in ``colour`` over the
            background) or ``split`` (the input left, the result right, unstretched).
        colormap: rio-tiler's colour map of a one-band result.
        limits: the values at the ends of the colour map (default: 2nd–98th percentile).
        colour: the colour of masks and polygons.
    """

    params: Callable[[Demo], dict[str, Any]]
    background: Callable[[Demo], Any] | None = None
    style: str = "auto"
    colormap: str = "viridis"
    limits: tuple[float, float] | None = None
    colour: str = "#e4572e"


def _layer(demo: Demo, name: str) -> Any:
    """A layer of the first aerial image's ground truth (GeoPackage)."""
    import geopandas as gpd

    folder = demo.home / "catalog" / "demo" / "demo-aerial"
    return gpd.read_file(next(folder.rglob(f"{demo.before}/truth.gpkg")), layer=name)


def _visual(item: str) -> dict[str, str]:
    return {"item": item, "asset": "visual"}


def _mosaic_parts(demo: Demo) -> dict[str, Any]:
    """Two overlapping pieces of two dates (as two scenes to join would be)."""
    import rasterio
    from rasterio.windows import Window

    from terralab.tools.inputs import resolve_raster

    parts = []
    for number, (item, columns) in enumerate([(demo.s2_series[0], (0, 150)),
                                              (demo.s2_series[-1], (110, 258))]):
        source = resolve_raster(_visual(item), user=USER, home=demo.home).path
        with rasterio.open(source) as src:
            window = Window(columns[0], 0, min(columns[1], src.width) - columns[0], src.height)
            profile = {**src.profile, "width": int(window.width), "height": src.height,
                       "transform": src.window_transform(window), "driver": "GTiff"}
            profile.pop("blockxsize", None), profile.pop("blockysize", None)
            profile.update(tiled=False, nodata=0)
            target = demo.scratch / f"part-{number}.tif"
            with rasterio.open(target, "w", **profile) as dst:
                dst.write(src.read(window=window))
        parts.append(str(target))
    return {"images": parts}


def _hazy(demo: Demo) -> str:
    """A hazy copy of the first aerial image (haze growing from right to left)."""
    import rasterio

    from terralab.ai.datasets import add_haze
    from terralab.tools.inputs import resolve_raster

    source = resolve_raster(demo.before, user=USER, home=demo.home).path
    target = demo.scratch / "hazy.tif"
    if not target.exists():
        with rasterio.open(source) as src:
            clear, profile = src.read(), src.profile
        hazy, _ = add_haze(clear, profile.get("nodata"))
        with rasterio.open(target, "w", **profile) as dst:
            dst.write(hazy)
    return str(target)


RECIPES: dict[str, Recipe] = {
    "index": Recipe(lambda d: {"image": d.s2, "index": "ndvi"}, colormap="rdylgn",
                    limits=(-0.2, 0.9)),
    "band_math": Recipe(lambda d: {"image": d.s2, "band_name": "ndwi",
                                   "expression": "(green - nir) / (green + nir)"},
                        colormap="rdbu", limits=(-0.7, 0.5)),
    "band_composite": Recipe(lambda d: {"images": [{"item": d.s2, "asset": key}
                                                   for key in ("B08", "B04", "B03")]}),
    "mosaic": Recipe(_mosaic_parts),
    "reproject": Recipe(lambda d: {"image": _visual(d.s2), "crs": "EPSG:4490"}),
    "resample": Recipe(lambda d: {"image": _visual(d.s2), "factor": 6}),
    "clip": Recipe(lambda d: {"image": d.before, "area": _layer(d, "parcels")}),
    "animation": Recipe(lambda d: {"images": [_visual(i) for i in d.s2_series],
                                   "rescale": [(0, 255)] * 3, "max_size": 256}),
    "polygon_optimisation": Recipe(lambda d: {"layer": _layer(d, "buildings")},
                                   background=lambda d: d.before),
    "change_detection": Recipe(lambda d: {"before": d.before, "after": d.after},
                               background=lambda d: d.after, style="mask"),
    "sar_water": Recipe(lambda d: {"image": d.s1}, style="mask", colour="#1f78d1",
                        background=lambda d: {"item": d.s1, "asset": "vv"}),
    "dehazing": Recipe(lambda d: {"image": _hazy(d)}, background=_hazy, style="split"),
    "land_cover": Recipe(lambda d: {"image": d.s2}),
}
"""The typical input of each built-in tool (and how to draw its result)."""


def _generic(schema: dict[str, Any]) -> Recipe | None:
    """A plug-in tool's recipe from the kinds of its required inputs (None: cannot guess)."""
    properties = schema.get("properties", {})
    chosen: dict[str, Callable[[Demo], Any]] = {}
    for name in schema.get("required", []):
        kind = properties.get(name, {}).get("terralab:input")
        if kind == "raster":
            chosen[name] = (lambda d, n=name: getattr(d, n)) if name in ("before", "after") \
                else (lambda d: d.s2)
        elif kind == "rasters":
            chosen[name] = lambda d: list(d.s2_series)
        elif kind == "vector":
            chosen[name] = lambda d: _layer(d, "parcels")
        else:
            return None
    return Recipe(lambda d: {name: make(d) for name, make in chosen.items()})


def _hex(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def _grid(bounds: tuple[float, float, float, float], *, contain: bool = False) -> Any:
    """The thumbnail's transform: the middle 4:3 part of ``bounds`` (``contain``: around)."""
    from rasterio.transform import from_bounds

    left, bottom, right, top = bounds
    width, height = right - left, top - bottom
    aspect = SIZE[0] / SIZE[1]
    if (width / height > aspect) != contain:
        cut = (width - height * aspect) / 2
        left, right = left + cut, right - cut
    else:
        cut = (height - width / aspect) / 2
        bottom, top = bottom + cut, top - cut
    return from_bounds(left, bottom, right, top, *SIZE)


def _warp(data: Any, transform: Any, crs: Any, *, nearest: bool) -> np.ndarray:
    """``data`` (band, y, x) on the thumbnail grid, float, NaN outside and at nodata."""
    from rasterio.enums import Resampling

    data = data if "band" in data.dims else data.expand_dims("band")
    values = data.astype("float32")
    nodata = data.rio.nodata if data.rio.nodata is not None else data.rio.encoded_nodata
    if nodata is not None and not np.isnan(nodata):
        values = values.where(data != nodata)
    values = values.rio.write_nodata(np.nan).rio.write_crs(data.rio.crs)
    warped = values.rio.reproject(crs, transform=transform, shape=(SIZE[1], SIZE[0]),
                                  resampling=Resampling.nearest if nearest
                                  else Resampling.average, nodata=np.nan)
    return np.asarray(warped.values, dtype="float32")


def _stretch(values: np.ndarray, limits: tuple[float, float] | None = None) -> np.ndarray:
    """Values scaled to 0…1 between ``limits`` (default 2nd–98th percentile)."""
    valid = values[np.isfinite(values)]
    if limits is None:
        low, high = (np.percentile(valid, (2, 98)) if valid.size else (0.0, 1.0))
    else:
        low, high = limits
    return np.clip((values - low) / max(high - low, 1e-9), 0, 1)


def _rgb(bands: np.ndarray, names: tuple[str, ...] | None, *, stretch: bool) -> np.ndarray:
    """RGBA of a multiband image: red/green/blue by name, else the first three bands."""
    order = [list(names).index(n) for n in ("red", "green", "blue")] if names and \
        {"red", "green", "blue"} <= set(names) else [0, 1, 2]
    rgb = bands[order]
    scaled = np.stack([_stretch(b) for b in rgb]) if stretch else np.clip(rgb / 255, 0, 1)
    alpha = np.isfinite(rgb).all(0)
    out = np.zeros((SIZE[1], SIZE[0], 4), np.uint8)
    out[..., :3] = np.rint(np.nan_to_num(scaled.transpose(1, 2, 0)) * 255)
    out[..., 3] = np.where(alpha, 255, 0)
    return out


def _faint(data: Any, transform: Any, crs: Any) -> np.ndarray:
    """A faint grey RGBA of a raster on the thumbnail grid (white where it has no data)."""
    bands = _warp(data, transform, crs, nearest=False)[:3]
    with warnings.catch_warnings():  # pixels outside the raster: no mean, left white
        warnings.simplefilter("ignore", RuntimeWarning)
        grey = np.nanmean(bands, axis=0)
    if data.dtype.kind == "f" and np.nanmax(grey) <= 2:  # σ⁰ (SAR, linear): in dB
        grey = 10 * np.log10(np.clip(grey, 1e-5, None))
    shade = 170 + 75 * _stretch(grey)
    out = np.full((SIZE[1], SIZE[0], 4), 255, np.uint8)
    out[..., :3] = np.where(np.isfinite(shade), np.rint(np.nan_to_num(shade, nan=255)),
                            255)[..., None]
    return out


def _overlay(base: np.ndarray, inside: np.ndarray, colour: str) -> np.ndarray:
    """``inside`` filled with ``colour`` over ``base``, its outline drawn darker."""
    padded = np.pad(inside, 1, constant_values=False)
    eroded = (padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1]
              & padded[1:-1, :-2] & padded[1:-1, 2:])
    edge = inside & ~eroded
    out = base.copy()
    rgb = _hex(colour)
    out[inside, :3] = np.rint(0.3 * out[inside, :3] + 0.7 * rgb)
    out[edge, :3] = np.rint(rgb * 0.55)
    out[inside, 3] = 255
    return out


def render(result: Any, recipe: Recipe, demo: Demo) -> np.ndarray:
    """The thumbnail of a tool's result as a ``(120, 160, 4)`` RGBA array."""
    output = result.output
    if output.file is not None:  # an animation: its first frame
        with Image.open(output.file) as movie:
            frame = movie.convert("RGB")
        width, height = frame.size
        keep = min(width, height * SIZE[0] / SIZE[1]), min(height, width * SIZE[1] / SIZE[0])
        box = ((width - keep[0]) / 2, 0, (width + keep[0]) / 2, keep[1])  # the date: top
        frame = frame.resize(SIZE, Image.Resampling.LANCZOS, box=box)
        return np.asarray(frame.convert("RGBA"))
    if output.vector is not None:
        return _vector(output.vector, recipe, demo)
    data = output.raster
    transform = _grid(data.rio.bounds())
    crs = data.rio.crs
    classes = output.extra.get("colormap")
    categorical = classes is not None or recipe.style == "mask"
    values = _warp(data, transform, crs, nearest=categorical or data.dtype.kind in "iu")
    names = output.band_names
    if recipe.style == "mask":
        base = _faint(demo.open(recipe.background(demo)), transform, crs) \
            if recipe.background else np.full((SIZE[1], SIZE[0], 4), 255, np.uint8)
        return _overlay(base, values[0] == 1, recipe.colour)
    if recipe.style == "split":
        source = demo.open(recipe.background(demo))
        left = _rgb(_warp(source, transform, crs, nearest=False), names, stretch=False)
        right = _rgb(values, names, stretch=False)
        right[:, : SIZE[0] // 2] = left[:, : SIZE[0] // 2]
        right[:, SIZE[0] // 2 - 1: SIZE[0] // 2 + 1] = 255
        return right
    if classes is not None:
        out = np.zeros((SIZE[1], SIZE[0], 4), np.uint8)
        for code, colour in classes.items():
            inside = values[0] == int(code)
            out[inside, :3], out[inside, 3] = _hex(colour), 255
        return out
    if values.shape[0] >= 3:  # 8-bit images are made for display: not stretched
        return _rgb(values, names, stretch=data.dtype != np.uint8)
    from rio_tiler.colormap import cmap

    table = np.array([cmap.get(recipe.colormap)[i][:3] for i in range(256)], np.uint8)
    scaled = _stretch(values[0], recipe.limits)
    out = np.zeros((SIZE[1], SIZE[0], 4), np.uint8)
    out[..., :3] = table[np.rint(np.nan_to_num(scaled) * 255).astype(int)]
    out[..., 3] = np.where(np.isfinite(values[0]), 255, 0)
    return out


def _vector(frame: Any, recipe: Recipe, demo: Demo) -> np.ndarray:
    """Polygons over a faint grey of the background (else white), filled and outlined."""
    from rasterio.features import rasterize

    background = demo.open(recipe.background(demo)) if recipe.background else None
    crs = frame.crs if background is None else background.rio.crs
    frame = frame.to_crs(crs)
    left, bottom, right, top = frame.total_bounds
    pad = 0.08 * max(right - left, top - bottom)
    box = (left - pad, bottom - pad, right + pad, top + pad)
    if background is None:
        transform = _grid(box, contain=True)
        base = np.full((SIZE[1], SIZE[0], 4), 255, np.uint8)
    else:  # the padded polygons' part of the background, 4:3
        outer = background.rio.bounds()
        box = (max(box[0], outer[0]), max(box[1], outer[1]), min(box[2], outer[2]),
               min(box[3], outer[3]))
        transform = _grid(box)
        base = _faint(background, transform, crs)
    shapes = [g for g in frame.geometry if g is not None and not g.is_empty]
    inside = rasterize(shapes, out_shape=(SIZE[1], SIZE[0]), transform=transform,
                       fill=0, default_value=1, dtype="uint8").astype(bool)
    out = _overlay(base, inside, recipe.colour)
    edges = rasterize([g.boundary for g in shapes], out_shape=(SIZE[1], SIZE[0]),
                      transform=transform, fill=0, default_value=1,
                      dtype="uint8").astype(bool)
    out[edges, :3] = np.rint(_hex(recipe.colour) * 0.55)
    return out


def _save(pixels: np.ndarray, target: Path) -> Path:
    """Write a small PNG (a palette of at most 128 colours, alpha kept)."""
    image = Image.fromarray(pixels, "RGBA").quantize(128, method=Image.Quantize.FASTOCTREE)
    target.parent.mkdir(parents=True, exist_ok=True)
    image.save(target, format="PNG", optimize=True)
    return target


def prepare(home: Path, scratch: Path) -> Demo:
    """Choose the typical inputs among the demo catalog's items."""
    from terralab.catalog.search import search

    demo = Demo(home=home, scratch=scratch)
    s2 = list(search(collections="sentinel-2-l2a", user=USER, home=home))
    clear = sorted(s2, key=lambda i: (i.properties.get("eo:cloud_cover", 100), i.id))
    # a clear scene of the growing season shows the vegetation indices best
    demo.s2 = min(clear[:3], key=lambda i: (not 4 <= i.datetime.month <= 9,
                                            i.properties.get("eo:cloud_cover", 100))).id
    demo.s2_series = [i.id for i in sorted(clear[:3], key=lambda i: i.datetime)]
    s1 = sorted(i.id for i in search(collections="sentinel-1-grd", user=USER, home=home))
    demo.s1 = s1[0]
    return demo


def thumbnail(name: str, demo: Demo, out: Path) -> Path | None:
    """Run tool ``name`` on the demo and write its thumbnail; None when it has no model.

    Raises:
        ValueError: a plug-in tool (no recipe) that does not run on the demo's inputs.
    """
    from terralab.ai.models import ModelNotInstalled
    from terralab.tools.registry import default_registry
    from terralab.tools.runner import run_tool

    recipe = RECIPES.get(name) or _generic(default_registry()[name].schema())
    if recipe is None:
        raise ValueError("no typical input on the demo for its parameters")
    try:
        result = run_tool(name, user=USER, home=demo.home, save=False,
                          **recipe.params(demo))
    except ModelNotInstalled:
        return None
    except Exception as error:  # a plug-in's guessed inputs; a built-in's failure is a bug
        if name in RECIPES:
            raise
        raise ValueError(f"does not run on the demo's inputs ({error})") from error
    return _save(render(result, recipe, demo), out / f"{name}.png")


def main(argv: list[str] | None = None) -> int:
    """Draw the thumbnails; prints what was written and which tools were skipped."""
    from terralab.catalog.bootstrap import index_demo_data
    from terralab.demo import write_demo_data
    from terralab.tools.registry import default_registry

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="redo this tool only (repeatable)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"the folder (default {OUT})")
    parser.add_argument("--home", type=Path, default=None,
                        help="an existing demo home (default: write one in a temporary folder)")
    args = parser.parse_args(argv)
    names = list(default_registry())
    unknown = sorted(set(args.only) - set(names))
    if unknown:
        parser.error(f"no tool {', '.join(unknown)}; known: {', '.join(names)}")
    with tempfile.TemporaryDirectory(prefix="terralab-thumbnails-") as temp:
        home = args.home
        if home is None:  # the small demo region, indexed
            home = Path(temp) / "home"
            write_demo_data(home, size=256, seed=42)
            index_demo_data(home)
        scratch = Path(temp) / "scratch"
        scratch.mkdir()
        demo = prepare(home, scratch)
        skipped = []
        for name in args.only or names:
            try:
                path = thumbnail(name, demo, args.out)
            except ValueError as error:
                skipped.append(f"{name}: {error}")
                continue
            if path is None:
                skipped.append(f"{name}: needs a model (none installed)")
            else:
                print(f"{name}: {path} ({path.stat().st_size} bytes)")
    for line in skipped:
        print(f"skipped {line}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
