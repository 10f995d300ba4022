"""Quality of ``land_cover`` (the spectral-rule baseline) on the demo region and a real chip.

- Demo Landsat C2L2 and Sentinel-2 L2A items (synthetic, with QA_PIXEL / SCL): compared with
  the land-cover map each scene was rendered from (:func:`terralab.demo.truth.
  scene_landcover`; for Landsat its 3×3 mode on the 30 m grid). Pixels the baseline marks
  cloud/snow (from QA/SCL) are left out: the truth is the land under the cloud. Scores over
  all scenes of a collection (every season, so winter fields count): overall accuracy on
  the 10 classes, and on the classes the rules can tell apart (building = building + road
  + structure, bare = bare + excavated), with the IoU of each of those.
- The demo aerial pair (0.5 m, 8-bit RGBN, no SWIR): the same on its ``landcover.tif``.
- The real Sentinel-2 L1C chip of Sen1Floods11 (no land-cover labels): the class shares.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from terralab.ai.metrics import UNKNOWN, confusion, merge, summary
from terralab.landcover import CLASSES

__all__ = ["TOOL", "evaluate"]

TOOL = "land_cover"
_NAMES = {c.code: c.name for c in CLASSES}


def _predict(home: Path, image: Any, **options: Any) -> tuple[np.ndarray, dict[str, Any]]:
    from terralab.tools.runner import run_tool

    result = run_tool(TOOL, user="quality", home=home, save=False, image=image, **options)
    return np.asarray(result.data.compute().values)[0], result.extra


def _rows(dataset: str, reference: str, raw: np.ndarray, merged: np.ndarray,
          notes: str) -> list[dict[str, Any]]:
    ten = float(np.trace(raw) / raw.sum()) if raw.sum() else 0.0
    rows = [{"tool": TOOL, "dataset": dataset, "metric": "overall accuracy (10 classes)",
             "value": round(ten, 4), "reference": reference, "notes": notes}]
    for metric, value in summary(merged).items():
        rows.append({"tool": TOOL, "dataset": dataset,
                     "metric": f"{metric} (merged classes)", "value": round(value, 4),
                     "reference": reference, "notes": notes})
    return rows


def _demo_satellite(home: Path) -> list[dict[str, Any]]:
    from terralab.demo import landsat
    from terralab.demo.grid import block_mode
    from terralab.demo.truth import item_ids, scene_landcover

    rows = []
    for collection, title in (("landsat-c2-l2", "Landsat 8-9 C2L2, 30 m"),
                              ("sentinel-2-l2a", "Sentinel-2 L2A, 10 m")):
        raw = np.zeros((11, 11), dtype="int64")
        merged = raw.copy()
        masked, pixels = 0, 0
        ids = item_ids().get(collection, [])
        for item_id in ids:
            predicted, _ = _predict(home, item_id)
            truth = scene_landcover(item_id, size=256, seed=42)
            if collection == "landsat-c2-l2":
                truth = block_mode(truth, landsat.FACTOR)
            if truth.shape != predicted.shape:
                raise RuntimeError(f"{item_id}: truth {truth.shape} and prediction "
                                   f"{predicted.shape} differ")
            raw += confusion(truth, predicted)
            merged += confusion(merge(truth), predicted)
            masked += int((predicted == UNKNOWN).sum())
            pixels += predicted.size
        rows += _rows(f"demo {title} ({len(ids)} scenes, all seasons; synthetic)",
                      "demo land-cover truth (terralab.demo.truth.scene_landcover)", raw,
                      merged, f"{masked / max(pixels, 1):.0%} of pixels masked as cloud/snow "
                              "from QA/SCL and left out; synthetic spectra: optimistic")
    return rows


def _demo_aerial(home: Path) -> list[dict[str, Any]]:
    import rasterio

    folder = home / "catalog" / "demo" / "demo-aerial"
    raw = np.zeros((11, 11), dtype="int64")
    merged = raw.copy()
    dates = sorted(p.parent.name for p in folder.glob("*/image.tif"))
    for item_id in dates:
        predicted, _ = _predict(home, item_id)
        with rasterio.open(folder / item_id / "landcover.tif") as src:
            truth = src.read(1)
        raw += confusion(truth, predicted)
        merged += confusion(merge(truth), predicted)
    return _rows(f"demo aerial RGBN 0.5 m ({len(dates)} dates; synthetic)",
                 "demo aerial landcover.tif", raw, merged,
                 "8-bit digital numbers without SWIR or calibration (÷ 255): the rules are "
                 "meant for Landsat / Sentinel-2 reflectance")


def _real_chip(real_data: Path, home: Path) -> list[dict[str, Any]]:
    chip = real_data / "sen1floods11" / "Spain_7370579_S2Hand.tif"
    if not chip.is_file():
        return []
    predicted, extra = _predict(home, str(chip))
    valid = predicted > 0
    shares = {_NAMES[c]: float((predicted == c).sum() / max(valid.sum(), 1))
              for c in range(1, 11) if (predicted == c).any()}
    return [{"tool": TOOL, "dataset": "Sen1Floods11 Spain_7370579 Sentinel-2 L1C (TOA), 10 m",
             "metric": "water share (no land-cover labels)",
             "value": round(shares.get("water", 0.0), 4),
             "reference": "no labels: what the baseline maps, not an accuracy",
             "notes": "class shares: " + ", ".join(f"{k} {v:.3f}" for k, v in shares.items())
             + f"; bands {', '.join(extra.get('bands', []))}, scale {extra.get('scale')}"}]


def evaluate(real_data: Path | None, work: Path) -> list[dict[str, Any]]:
    """Measure ``land_cover``'s baseline; rows ``{"tool", "dataset", "metric", …}``.

    Args:
        real_data: the real samples folder, or None for the demo only.
        work: a scratch folder (a demo terralab home is written in it).
    """
    from terralab.catalog.bootstrap import index_demo_data
    from terralab.demo import write_demo_data

    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    write_demo_data(home, size=256, seed=42)
    index_demo_data(home)
    rows = _demo_satellite(home) + _demo_aerial(home)
    if real_data is not None:
        rows += _real_chip(real_data, home)
    return rows
