"""Quality of ``sar_water`` on the demo region and on a real Sentinel-1 chip.

- Demo Sentinel-1 GRD items (synthetic σ⁰, gamma speckle of ENL 4.4): compared with the
  land-cover map each scene was rendered from (:func:`terralab.demo.truth.scene_landcover`,
  water class). IoU, precision and recall of water over all six scenes, for the default
  settings and a few alternatives. The demo's speckle is spatially uncorrelated and its
  water/land contrast high, so it flatters the tool and punishes smoothing (thin channels);
  it is a plumbing-and-sanity number, not a real-world accuracy.
- The real Sen1Floods11 chip (Spain, flood season) has no water label here: the SAR water
  is compared with water from the matching Sentinel-2 **L1C** chip, NDWI (green − NIR) > 0
  and MNDWI (green − SWIR1) > 0. That is agreement with an optical reference taken on a
  nearby date, through haze, not ground truth: flooded fields dry or fill between the two
  dates, haze and wet soil push MNDWI up, and vegetation standing in water hides it from
  the radar.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from terralab.ai.metrics import water_scores

__all__ = ["TOOL", "evaluate"]

TOOL = "sar_water"
_CONFIGS: dict[str, dict[str, Any]] = {
    "default (VV+VH mean, refined Lee, Otsu)": {},
    "VV only": {"polarisation": "vv"},
    "VH only": {"polarisation": "vh"},
    "Kittler-Illingworth": {"method": "ki"},
    "no speckle filter": {"speckle_filter": "none"},
}
_DEMO_REFERENCE = "demo land-cover truth, water class (synthetic)"


def _mask(home: Path, image: Any, **options: Any) -> tuple[np.ndarray, dict[str, Any]]:
    from terralab.tools.runner import run_tool

    result = run_tool(TOOL, user="quality", home=home, save=False, image=image, **options)
    return np.asarray(result.data.compute().values)[0], result.extra


def _demo_rows(work: Path) -> list[dict[str, Any]]:
    from terralab.catalog.bootstrap import index_demo_data
    from terralab.demo import write_demo_data
    from terralab.demo.landscape import CODES
    from terralab.demo.truth import scene_landcover

    home = work / "home"
    written = write_demo_data(home, size=256, seed=42)
    index_demo_data(home)
    items = (written.items or {}).get("sentinel-1-grd", ())
    rows = []
    for name, options in _CONFIGS.items():
        totals = np.zeros(4)  # both, predicted, truth, agreeing pixels
        pixels = 0
        thresholds = []
        for item in items:
            mask, extra = _mask(home, item, **options)
            truth = scene_landcover(item, size=256, seed=42) == CODES["water"]
            valid = mask != 255
            water = mask == 1
            totals += [np.sum(water & truth & valid), np.sum(water & valid),
                       np.sum(truth & valid), np.sum((water == truth) & valid)]
            pixels += int(valid.sum())
            thresholds.append(extra.get("threshold_db"))
        both, predicted, truth_count, agree = totals
        scores = {"IoU": both / (predicted + truth_count - both),
                  "precision": both / predicted, "recall": both / truth_count,
                  "overall accuracy": agree / pixels}
        for metric, value in scores.items():
            rows.append({"tool": TOOL, "dataset": f"demo Sentinel-1 GRD, {len(items)} scenes",
                         "metric": f"water {metric}: {name}", "value": round(float(value), 4),
                         "reference": _DEMO_REFERENCE,
                         "notes": f"thresholds (dB): {', '.join(f'{t:g}' for t in thresholds)}"
                                  if metric == "IoU" else ""})
    return rows


def _real_rows(real_data: Path, home: Path) -> list[dict[str, Any]]:
    import rasterio

    folder = real_data / "sen1floods11"
    sar, optical = folder / "Spain_7370579_S1Hand.tif", folder / "Spain_7370579_S2Hand.tif"
    if not (sar.is_file() and optical.is_file()):
        return [{"tool": TOOL, "dataset": "Sen1Floods11 Spain_7370579", "metric": "-",
                 "value": None, "reference": "-", "notes": f"not found in {folder}"}]
    with rasterio.open(optical) as src:
        bands = src.read().astype("float64")
    green, nir, swir = bands[2], bands[7], bands[11]  # B3, B8, B11
    with np.errstate(invalid="ignore", divide="ignore"):
        references = {"NDWI > 0": (green - nir) / (green + nir) > 0,
                      "MNDWI > 0": (green - swir) / (green + swir) > 0}
    optical_valid = (bands > 0).all(axis=0)
    rows = []
    for name, options in (("default", {}), ("VV only", {"polarisation": "vv"}),
                          ("Kittler-Illingworth", {"method": "ki"})):
        mask, extra = _mask(home, str(sar), **options)
        valid = (mask != 255) & optical_valid
        for reference, water in references.items():
            scores = water_scores(mask == 1, water, valid)
            for metric in ("IoU", "overall accuracy"):
                rows.append({
                    "tool": TOOL, "dataset": "Sen1Floods11 Spain_7370579 (real S1 GRD, dB)",
                    "metric": f"water {metric} vs {reference}: {name}",
                    "value": round(scores[metric], 4),
                    "reference": f"S2 L1C {reference} water (optical reference, not ground "
                                 "truth)",
                    "notes": (f"threshold {extra.get('threshold_db')} dB; SAR water "
                              f"{np.mean(mask[valid] == 1):.1%}, optical water "
                              f"{np.mean(water[valid]):.1%}") if metric == "IoU" else ""})
    return rows


def evaluate(real_data: Path | None, work: Path) -> list[dict[str, Any]]:
    """Measure ``sar_water`` (see the module's docs); rows for the quality report."""
    rows = _demo_rows(work)
    if real_data is None:
        rows.append({"tool": TOOL, "dataset": "Sen1Floods11", "metric": "-", "value": None,
                     "reference": "-", "notes": "no real sample data folder"})
    else:
        rows += _real_rows(Path(real_data), work / "home")
    return rows
