"""Quality of ``change_detection``: LEVIR-CD pairs, the demo aerial pair, unlabelled real pairs.

- LEVIR-CD (Chen & Shi 2020; the pairs in ``levir_cd/{A,B,label}``): the PNGs are not
  georeferenced, so each is put on a made-up local grid (EPSG:32650, 0.5 m pixels, origin
  500000 E 4000000 N; :func:`terralab.ai.datasets.levir_pairs`) before the tool sees it.
  Precision, recall, F1 and IoU of the change class over all pairs' pixels, for IR-MAD and
  CVA (Otsu threshold) and IR-MAD's chi-square test. Its labels mark
  building changes only, while both methods flag every change, so precision is low by
  design; the rows also give what flagging everything would score.
- The demo aerial pair (synthetic, 0.5 m RGBN, ``change.tif`` truth): the same metrics.
- NAIP (4 dates) and Landsat Pucallpa (8 dates): consecutive pairs have no labels; the rows
  give the share of pixels each method flags, which is not an accuracy.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from terralab.ai.datasets import levir_pairs
from terralab.ai.metrics import change_scores

__all__ = ["TOOL", "evaluate"]

TOOL = "change_detection"
_METHODS = (("irmad", "IR-MAD"), ("cva", "CVA"))
_LABELLED = (("irmad", "IR-MAD, Otsu", {}), ("cva", "CVA, Otsu", {}),
             ("irmad", "IR-MAD, chi-square p < 0.001", {"threshold": "chi2"}))
_LEVIR_GRID = "EPSG:32650, 0.5 m pixels (made up: LEVIR-CD PNGs are not georeferenced)"


def _mask(home: Path, before: Any, after: Any, method: str, **options: Any) -> np.ndarray:
    from terralab.tools.runner import run_tool

    result = run_tool(TOOL, user="quality", home=home, save=False, before=before,
                      after=after, method=method, polygons=False, **options)
    return np.asarray(result.data.compute().values)[0]


def _counts(mask: np.ndarray, truth: np.ndarray) -> np.ndarray:
    valid = mask != 255
    found = (mask == 1) & valid
    return np.array([(found & truth).sum(), (found & ~truth).sum(),
                     (~found & truth & valid).sum()], dtype="float64")


def _metric_rows(dataset: str, reference: str, counts: np.ndarray, label: str,
                 notes: str) -> list[dict[str, Any]]:
    return [{"tool": TOOL, "dataset": dataset, "metric": f"{name} ({label})",
             "value": round(value, 4), "reference": reference, "notes": notes}
            for name, value in change_scores(*counts).items()]


def _levir(folder: Path, home: Path) -> list[dict[str, Any]]:
    pairs = levir_pairs(folder)
    if not pairs:
        return []
    rows = []
    share = float(np.mean([truth.mean() for *_, truth in pairs]))
    everything = change_scores(sum(t.sum() for *_, t in pairs),
                               sum((~t).sum() for *_, t in pairs), 0)
    dataset = f"LEVIR-CD ({len(pairs)} pairs, 256×256, 0.5 m)"
    reference = "LEVIR-CD building-change labels"
    for method, label, options in _LABELLED:
        counts = sum(_counts(_mask(home, a, b, method, **options), t) for _, a, b, t in pairs)
        rows += _metric_rows(
            dataset, reference, counts, label,
            f"grid {_LEVIR_GRID}; labels are building changes only ({share:.0%} of pixels) "
            f"while the tool flags every change; flagging every pixel scores F1 "
            f"{everything['f1']:.3f}, IoU {everything['iou']:.3f}")
    return rows


def _demo(home: Path) -> list[dict[str, Any]]:
    import rasterio

    from terralab.catalog.bootstrap import index_demo_data
    from terralab.demo import write_demo_data

    write_demo_data(home, size=256, seed=42)
    index_demo_data(home)
    truth_path = next((home / "catalog" / "demo" / "demo-aerial").glob("*/change.tif"))
    with rasterio.open(truth_path) as src:
        truth = src.read(1) > 0
    first, second = sorted(p.parent.name for p in
                           (home / "catalog" / "demo" / "demo-aerial").glob("*/image.tif"))
    rows = []
    for method, label, options in _LABELLED:
        counts = _counts(_mask(home, first, second, method, **options), truth)
        rows += _metric_rows("demo aerial pair (synthetic, 256×256, 0.5 m RGBN)",
                             "demo change truth (change.tif, every change code)", counts,
                             label, "synthetic scene: an easy, optimistic case")
    return rows


def _unlabelled(folder: Path, home: Path, dataset: str) -> list[dict[str, Any]]:
    files = sorted(folder.glob("*.tif"))
    if len(files) < 2:
        return []
    from terralab.tools.runner import run_tool

    rows = []
    for method, label in _METHODS:
        shares = []
        for first, second in pairwise(files):
            result = run_tool(TOOL, user="quality", home=home, save=False, before=str(first),
                              after=str(second), method=method, align="reproject",
                              polygons=False)
            shares.append((f"{first.stem[-8:]}→{second.stem[-8:]}",
                           result.extra["changed_share"]))
        rows.append({"tool": TOOL, "dataset": dataset,
                     "metric": f"changed share, mean of {len(shares)} pairs ({label}, Otsu)",
                     "value": round(float(np.mean([s for _, s in shares])), 4),
                     "reference": "no labels: what the tool flags, not an accuracy",
                     "notes": "; ".join(f"{name}: {share:.3f}" for name, share in shares)
                     + "; pixels coarser than the suggested 0.5–2 m"})
    return rows


def evaluate(real_data: Path | None, work: Path) -> list[dict[str, Any]]:
    """Measure ``change_detection``; rows ``{"tool", "dataset", "metric", "value", …}``.

    Args:
        real_data: the real samples folder (``levir_cd``, ``naip``, ``landsat_pucallpa``), or
            None to measure on the demo pair only.
        work: a scratch folder (a terralab home is made in it).
    """
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    rows = _demo(home)
    if real_data is None:
        return rows
    if (real_data / "levir_cd" / "label").is_dir():
        rows += _levir(real_data / "levir_cd", home)
    rows += _unlabelled(real_data / "naip", home, "NAIP RGBN 5 m, 4 dates (2009–2020)")
    rows += _unlabelled(real_data / "landsat_pucallpa", home,
                        "Landsat composites Pucallpa ~90 m, 8 dates (1985–2020)")
    return rows
