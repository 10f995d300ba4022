"""terralab: the helper library of the terralab Earth-observation AI lab.

Import it in a notebook as ``import terralab as tl``. It runs with no hub and no Jupyter:
without a hub the platform runs in-process against a local ``TERRALAB_HOME``.

``tl.search`` and ``tl.download`` (see :mod:`terralab.catalog`) are loaded on first use, so
``import terralab`` stays quick.
"""

from __future__ import annotations

from typing import Any

from terralab._version import __version__
from terralab.home import terralab_home

__all__ = ["__version__", "download", "search", "terralab_home"]

_LAZY = {"search": "terralab.catalog", "download": "terralab.catalog"}


def __getattr__(name: str) -> Any:
    """Load ``search`` and ``download`` from :mod:`terralab.catalog` on first use."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'terralab' has no attribute {name!r}")
