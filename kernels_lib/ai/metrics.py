"""Scores of the AI tools' outputs against a reference: images, land cover, water, change.

- images (dehazing): :func:`psnr` and :func:`ssim` (Gaussian-window SSIM of Wang et al.
  2004, σ = 1.5, 11×11, K = 0.01 / 0.03) over valid pixels;
- land cover: :func:`confusion` matrices of the classes of :mod:`terralab.landcover`,
  :func:`merge` for the classes the spectral baseline can tell apart, :func:`summary`
  (overall accuracy and IoU per class);
- water masks: :func:`water_scores` (IoU, precision, recall, overall accuracy);
- change masks: :func:`change_scores` from pixel counts (precision, recall, F1, IoU).

The quality report of the tools (``python scripts/evaluate_ai.py``, ``docs/ai-quality.md``)
and the tests measure with these.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from terralab.landcover import CLASSES

__all__ = ["MERGED_CLASSES", "UNKNOWN", "change_scores", "confusion", "merge", "psnr", "ssim",
           "summary", "water_scores"]

MERGED_CLASSES = (1, 2, 3, 4, 8, 9)
"""The codes the land-cover baseline can tell apart (cropland, forest, grass, built-up,
bare, water)."""
UNKNOWN = 10
"""The land-cover code of cloud and snow (not scored)."""
_NAMES = {c.code: c.name for c in CLASSES}


def psnr(result: np.ndarray, clear: np.ndarray, valid: np.ndarray,
         peak: float = 255.0) -> float:
    """Peak signal-to-noise ratio (dB) of ``result`` against ``clear`` on ``valid`` pixels."""
    error = (result.astype("float64") - clear.astype("float64"))[:, valid]
    mse = float(np.mean(error**2))
    return float("inf") if mse == 0 else 10.0 * np.log10(peak**2 / mse)


def _gaussian(image: np.ndarray, sigma: float = 1.5, size: int = 11) -> np.ndarray:
    """A 'valid' Gaussian blur (no padding): the output is ``size − 1`` smaller each way."""
    x = np.arange(size) - size // 2
    kernel = np.exp(-(x**2) / (2 * sigma**2))
    kernel /= kernel.sum()
    rows = sliding_window_view(image, size, axis=1) @ kernel
    return sliding_window_view(rows, size, axis=0) @ kernel


def ssim(result: np.ndarray, clear: np.ndarray, valid: np.ndarray,
         peak: float = 255.0) -> float:
    """Mean SSIM over bands, windows centred on valid pixels (Wang et al. 2004)."""
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    centre = valid[5:-5, 5:-5]
    scores = []
    for x, y in zip(result.astype("float64"), clear.astype("float64"), strict=True):
        mx, my = _gaussian(x), _gaussian(y)
        vx = _gaussian(x * x) - mx * mx
        vy = _gaussian(y * y) - my * my
        cxy = _gaussian(x * y) - mx * my
        index = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
        scores.append(float(index[centre].mean()))
    return float(np.mean(scores))


def merge(codes: np.ndarray) -> np.ndarray:
    """Truth codes on the baseline's classes: road, structure → building; excavated → bare."""
    out = codes.copy()
    out[np.isin(out, (5, 6))] = 4
    out[out == 7] = 8
    return out


def confusion(truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """The 11×11 confusion matrix (rows truth, columns predicted) of the scored pixels.

    Scored: truth and prediction both hold a class, and the prediction is not cloud/snow.
    """
    scored = (truth > 0) & (predicted > 0) & (predicted != UNKNOWN)
    matrix = np.zeros((11, 11), dtype="int64")
    np.add.at(matrix, (truth[scored].astype(int), predicted[scored].astype(int)), 1)
    return matrix


def summary(matrix: np.ndarray) -> dict[str, float]:
    """Overall accuracy and the IoU of each merged class of a merged confusion matrix."""
    total = matrix.sum()
    out = {"overall accuracy": float(np.trace(matrix) / total) if total else 0.0}
    ious = []
    for code in MERGED_CLASSES:
        union = matrix[code, :].sum() + matrix[:, code].sum() - matrix[code, code]
        if matrix[code, :].sum() == 0:
            continue  # the class is not in the truth here
        ious.append(float(matrix[code, code] / union) if union else 0.0)
        out[f"IoU {_NAMES[code]}"] = ious[-1]
    out["mean IoU"] = float(np.mean(ious)) if ious else 0.0
    return out


def water_scores(predicted: np.ndarray, truth: np.ndarray,
                 valid: np.ndarray | None = None) -> dict[str, float]:
    """IoU, precision, recall and overall accuracy of a water mask against a reference."""
    valid = np.ones(truth.shape, dtype=bool) if valid is None else valid
    p, t = predicted[valid], truth[valid]
    both = float(np.sum(p & t))
    union = float(np.sum(p | t))
    return {"IoU": both / union if union else 1.0,
            "precision": both / max(float(p.sum()), 1.0),
            "recall": both / max(float(t.sum()), 1.0),
            "overall accuracy": float(np.mean(p == t))}


def change_scores(tp: float, fp: float, fn: float) -> dict[str, float]:
    """Precision, recall, F1 and IoU of the change class from pixel counts."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    iou = tp / (tp + fp + fn) if tp + fp + fn else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "iou": iou}
