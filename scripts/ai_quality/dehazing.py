"""Quality of ``dehazing``: real clear images with haze added by the scattering model.

There is no real hazy / clear pair among the samples, so haze is added to real clear images
with the model the tool inverts (:func:`terralab.ai.datasets.add_haze`): uneven haze from
left to right, a bright, slightly blue grey airlight, 8 bits, nodata kept; a 4th (NIR) band
gets the thinner haze the tool assumes there. The dehazed image is
compared with the clear one by PSNR and SSIM (Gaussian-window SSIM of Wang et al. 2004,
σ = 1.5, 11×11, K = 0.01 / 0.03, over the visible bands and valid pixels), beside the same
scores of the hazy input.
Because the haze follows the tool's own model exactly, these numbers are an upper bound
for real haze (which is not grey, not smooth, and mixes with thin cloud). The clear image
itself is also run through the tool: the PSNR of that result says how much a haze-free
image is changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from terralab.ai.datasets import AIRLIGHT, AIRLIGHT_NIR, T_RANGE, add_haze
from terralab.ai.metrics import psnr, ssim

__all__ = ["TOOL", "evaluate"]

TOOL = "dehazing"
_SAMPLES = (("naip/m_4709963_se_14_1_20200831.tif", "NAIP 2020 (RGBN, 5 m)"),
            ("aerial_0p1m/OSBS_029.tif", "NEON aerial (RGB, 0.1 m)"),
            ("landsat7_rgb/RGB.byte.tif", "Landsat 7 RGB (300 m)"))


def _dehaze(home: Path, path: Path, **options: Any) -> tuple[np.ndarray, dict[str, Any]]:
    from terralab.tools.runner import run_tool

    result = run_tool(TOOL, user="quality", home=home, save=False, image=str(path),
                      **options)
    return np.asarray(result.data.compute().values), result.extra


def _rows_for(home: Path, clear_path: Path, dataset: str) -> list[dict[str, Any]]:
    import rasterio

    with rasterio.open(clear_path) as src:
        clear, profile = src.read(), src.profile
    hazy, valid = add_haze(clear, profile.get("nodata"))
    hazy_path = home / f"hazy-{clear_path.stem}.tif"
    with rasterio.open(hazy_path, "w", **profile) as dst:
        dst.write(hazy)
    dehazed, extra = _dehaze(home, hazy_path)
    untouched, _ = _dehaze(home, clear_path)
    rgb = slice(0, 3)
    haze = (f"t from {T_RANGE[0]} (left) to {T_RANGE[1]} (right), A = {AIRLIGHT}"
            + (f"; NIR t^0.66, A {AIRLIGHT_NIR}" if clear.shape[0] == 4 else ""))
    reference = f"the clear image, with synthetic haze: {haze}"
    found = f"A found: {extra['atmospheric_light']}"
    values = [
        ("PSNR hazy input (dB)", psnr(hazy[rgb], clear[rgb], valid), ""),
        ("PSNR dehazed (dB)", psnr(dehazed[rgb], clear[rgb], valid), found),
        ("SSIM hazy input", ssim(hazy[rgb], clear[rgb], valid), ""),
        ("SSIM dehazed", ssim(dehazed[rgb], clear[rgb], valid), ""),
        ("PSNR of a clear image after dehazing (dB)", psnr(untouched[rgb], clear[rgb], valid),
         "how much the tool changes a haze-free image (higher = less)"),
    ]
    if clear.shape[0] == 4:
        nir, _ = _dehaze(home, hazy_path, nir="dehaze")
        values += [("PSNR NIR, nir='keep' (dB)", psnr(dehazed[3:], clear[3:], valid),
                    "the default copies the (hazy) NIR band unchanged"),
                   ("PSNR NIR, nir='dehaze' (dB)", psnr(nir[3:], clear[3:], valid),
                    "NIR corrected with t^0.66 and its own airlight")]
    return [{"tool": TOOL, "dataset": dataset, "metric": metric, "value": round(value, 3),
             "reference": reference, "notes": notes} for metric, value, notes in values]


def evaluate(real_data: Path | None, work: Path) -> list[dict[str, Any]]:
    """Measure ``dehazing`` (see the module's docs); rows for the quality report."""
    from terralab.demo import write_demo_data

    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    demo = write_demo_data(home, size=256, seed=42)
    aerial = next(p for p in demo.files if p.parent.name == "deqing-aerial-20240510"
                  and p.name == "image.tif")
    rows += _rows_for(home, aerial, "demo aerial 2024-05-10 (RGBN, 0.5 m, synthetic)")
    if real_data is None:
        rows.append({"tool": TOOL, "dataset": "real samples", "metric": "-", "value": None,
                     "reference": "-", "notes": "no real sample data folder"})
        return rows
    for relative, dataset in _SAMPLES:
        path = Path(real_data) / relative
        if path.is_file():
            rows += _rows_for(home, path, dataset)
        else:
            rows.append({"tool": TOOL, "dataset": dataset, "metric": "-", "value": None,
                         "reference": "-", "notes": f"{path} not found"})
    return rows
