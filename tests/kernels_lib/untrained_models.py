"""Untrained (seeded) segmentation networks packed as terralab models, for the AI tests.

No trained weights ship with the tests: these check the plumbing (registry, safe loading,
windows, devices, outputs), never accuracy.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["ARCH", "write_model"]

ARCH = {"name": "smp.Unet", "encoder_name": "resnet18", "encoder_depth": 3,
        "decoder_channels": [32, 16, 8]}


def write_model(folder: Path, *, tool: str = "building_extraction", version: str = "0.1.0",
                bands: tuple[str, ...] = ("red", "green", "blue"), dates: int = 1,
                classes: tuple[str, ...] = ("background", "building"),
                fmt: str = "safetensors") -> Path:
    """A model folder with an untrained U-Net (seeded) and its card."""
    # torch is imported here, not at the top: collecting the tests stays free of its seconds
    import segmentation_models_pytorch as smp
    import torch

    torch.manual_seed(0)
    spec = {k: v for k, v in ARCH.items() if k != "name"}
    network = smp.Unet(encoder_weights=None, in_channels=len(bands) * dates,
                       classes=len(classes), **spec)
    folder.mkdir(parents=True, exist_ok=True)
    weights = f"weights.{fmt}"
    if fmt == "safetensors":
        from safetensors.torch import save_file

        save_file(network.state_dict(), folder / weights)
    else:
        torch.save(network.state_dict(), folder / weights)
    card = {"tool": tool, "version": version, "architecture": ARCH, "weights": weights,
            "input": {"bands": list(bands), "dates": dates, "scale": 1 / 255},
            "classes": list(classes), "window": 128, "overlap": 32,
            "training_data": "none: untrained test network", "metrics": {}}
    (folder / "model.json").write_text(json.dumps(card))
    return folder
