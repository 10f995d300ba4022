"""Where models run and which stay loaded: :func:`pick_device` and :class:`ModelCache`.

Shared GPU workers run job after job; loading a model's weights for each would cost more
than many inferences. A worker (:mod:`terralab.queue.worker`) keeps the last few models it
used in a :class:`ModelCache` (least recently used are dropped first) on the device
:func:`pick_device` chose: CUDA when the machine has a GPU. A deep tool run in a kernel
(no cache, no device given) picks its device the same way.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

__all__ = ["ModelCache", "pick_device"]


def pick_device() -> str:
    """Return ``"cuda"`` when torch sees a GPU, else ``"cpu"``."""
    try:
        import torch
    except ImportError:  # a worker without torch runs the processing tools only
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


class ModelCache:
    """Loaded models by (tool, version), at most ``capacity`` of them.

    Attributes:
        device: where the models are loaded.
        loads: how many times a loader ran (a warm cache does not count again).
    """

    def __init__(self, *, device: str | None = None, capacity: int = 4) -> None:
        self.device = device or pick_device()
        self.capacity = capacity
        self.loads = 0
        self._models: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, tool: str, version: str, loader: Callable[[str], Any]) -> Any:
        """Return the cached model, or load it with ``loader(device)`` and keep it."""
        key = (tool, version)
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            model = loader(self.device)
            self.loads += 1
            self._models[key] = model
            while len(self._models) > self.capacity:
                self._models.popitem(last=False)
            return model

    def __len__(self) -> int:
        return len(self._models)

    def __contains__(self, key: object) -> bool:
        return key in self._models
