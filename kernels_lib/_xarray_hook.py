"""Register ``da.tl`` when xarray is imported, without importing xarray at ``import terralab``.

``import terralab`` calls :func:`register_accessor`: when xarray is already imported the
accessor module (:mod:`terralab.accessor`) is imported at once; otherwise a finder placed
first on ``sys.meta_path`` waits for ``import xarray`` (by the user, rioxarray or a terralab
module), lets the normal import run, then imports the accessor and removes itself. So
``import terralab as tl`` stays quick and ``.tl`` is there on every DataArray afterwards,
whatever is imported first.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

__all__ = ["register_accessor"]

_ACCESSOR = "terralab.accessor"


def _import_accessor() -> None:
    """Import the accessor module (registration); a failure never breaks xarray's import."""
    try:
        __import__(_ACCESSOR)
    except Exception as error:  # da.tl missing must not stop the notebook
        warnings.warn(f"terralab: da.tl is not available ({error})", stacklevel=2)


class _AfterXarray:
    """A meta path finder that imports the accessor once xarray's own import has run."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "xarray":
            return None
        import importlib.util

        _remove()
        spec = importlib.util.find_spec(fullname)  # the other finders find xarray itself
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: Any) -> None:
            run(module)
            _import_accessor()

        loader.exec_module = exec_module
        return spec


_FINDER = _AfterXarray()


def _remove() -> None:
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)


def register_accessor() -> None:
    """Make ``da.tl`` available: now if xarray is imported, else right after its import."""
    if "xarray" in sys.modules:
        _import_accessor()
    elif _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
